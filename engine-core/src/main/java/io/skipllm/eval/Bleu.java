package io.skipllm.eval;

import io.skipllm.BadInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Corpus-level BLEU-4 (Papineni et al. 2002) as sacreBLEU reports it with {@code tokenize=13a},
 * one reference per segment, case-sensitive, and no smoothing:
 *
 * <pre>
 *   p_n  = sum over segments of clipped n-gram matches / sum of hypothesis n-grams     (n = 1..4)
 *   BP   = 1 if c &gt; r (or c = r), else exp(1 - r / c), 0 when c = 0
 *          (c, r: total hypothesis and reference tokens over the corpus)
 *   BLEU = 100 * BP * exp((log p_1 + log p_2 + log p_3 + log p_4) / 4)
 * </pre>
 *
 * A match count is clipped by the count of the same n-gram in the segment's reference. Statistics
 * are summed over the corpus before dividing (it is not the mean of sentence scores). Without
 * smoothing the score is 0 as soon as one order has no match (or the corpus has no n-grams of that
 * order at all), as in sacreBLEU with {@code smooth_method='none'}; sacreBLEU's default
 * {@code 'exp'} smoothing differs only in that case. Segments are tokenized by {@link Tokenizer13a}.
 */
public final class Bleu {

    public static final int MAX_ORDER = 4;

    private Bleu() {
    }

    /**
     * The score and the statistics behind it.
     *
     * @param score BLEU in 0..100
     * @param precisions the modified n-gram precisions {@code p_1..p_4}, in 0..100 as sacreBLEU prints them
     * @param brevityPenalty BP
     * @param hypothesisLength c, hypothesis tokens over the corpus
     * @param referenceLength r, reference tokens over the corpus
     * @param matches clipped matches per order
     * @param totals hypothesis n-grams per order
     */
    public record Score(double score, double[] precisions, double brevityPenalty, long hypothesisLength,
            long referenceLength, long[] matches, long[] totals) {

        public Score {
            precisions = precisions.clone();
            matches = matches.clone();
            totals = totals.clone();
        }

        @Override
        public double[] precisions() {
            return precisions.clone();
        }

        @Override
        public long[] matches() {
            return matches.clone();
        }

        @Override
        public long[] totals() {
            return totals.clone();
        }

        @Override
        public String toString() {
            return String.format("BLEU %.2f (precisions %s, BP %.4f, %d/%d tokens)", score,
                    Arrays.toString(precisions), brevityPenalty, hypothesisLength, referenceLength);
        }
    }

    /** BLEU of detokenized segments, each tokenized with {@link Tokenizer13a}. */
    public static Score corpus(List<String> hypotheses, List<String> references) {
        requireSameSize(hypotheses, references);
        List<List<String>> hyp = new ArrayList<>(hypotheses.size());
        List<List<String>> ref = new ArrayList<>(references.size());
        for (int i = 0; i < hypotheses.size(); i++) {
            hyp.add(Tokenizer13a.tokenize(hypotheses.get(i)));
            ref.add(Tokenizer13a.tokenize(references.get(i)));
        }
        return corpusOfTokens(hyp, ref);
    }

    /** BLEU of already tokenized segments (tokens are compared as they are). */
    public static Score corpusOfTokens(List<List<String>> hypotheses, List<List<String>> references) {
        requireSameSize(hypotheses, references);
        long[] matches = new long[MAX_ORDER];
        long[] totals = new long[MAX_ORDER];
        long hypLength = 0;
        long refLength = 0;
        for (int i = 0; i < hypotheses.size(); i++) {
            List<String> hyp = hypotheses.get(i);
            List<String> ref = references.get(i);
            hypLength += hyp.size();
            refLength += ref.size();
            for (int n = 1; n <= MAX_ORDER; n++) {
                Map<List<String>, Integer> refCounts = ngrams(ref, n);
                for (Map.Entry<List<String>, Integer> e : ngrams(hyp, n).entrySet()) {
                    matches[n - 1] += Math.min(e.getValue(), refCounts.getOrDefault(e.getKey(), 0));
                }
                totals[n - 1] += Math.max(0, hyp.size() - n + 1);
            }
        }
        double[] precisions = new double[MAX_ORDER];
        double logSum = 0;
        boolean anyZero = false;
        for (int n = 0; n < MAX_ORDER; n++) {
            precisions[n] = totals[n] == 0 ? 0.0 : 100.0 * matches[n] / totals[n];
            if (matches[n] == 0) {
                anyZero = true;
            } else {
                logSum += Math.log((double) matches[n] / totals[n]);
            }
        }
        double bp = hypLength == 0 ? 0.0 : hypLength < refLength ? Math.exp(1.0 - (double) refLength / hypLength) : 1.0;
        double score = anyZero ? 0.0 : 100.0 * bp * Math.exp(logSum / MAX_ORDER);
        return new Score(score, precisions, bp, hypLength, refLength, matches, totals);
    }

    private static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) {
            counts.merge(tokens.subList(i, i + n), 1, Integer::sum);
        }
        return counts;
    }

    static void requireSameSize(List<?> hypotheses, List<?> references) {
        if (hypotheses == null || references == null) {
            throw new BadInputException("hypotheses and references must not be null");
        }
        if (hypotheses.size() != references.size()) {
            throw new BadInputException("got " + hypotheses.size() + " hypotheses but " + references.size()
                    + " references; each hypothesis needs one reference");
        }
    }
}
