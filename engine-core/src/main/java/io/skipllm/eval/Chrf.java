package io.skipllm.eval;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Corpus-level chrF (Popović 2015) with sacreBLEU 2's defaults: character n-grams of orders 1..6,
 * beta = 2, case-sensitive, whitespace removed, no word n-grams (not chrF++), no epsilon smoothing.
 *
 * <p>Each segment has all whitespace removed (Python's {@code ''.join(s.split())}); characters are
 * Unicode code points. For every order n the corpus statistics are summed over segments: hypothesis
 * n-grams, reference n-grams and matches (per n-gram the minimum of the two counts); as in sacreBLEU
 * a segment whose reference has no n-gram of order n contributes no hypothesis n-grams of that order
 * either. Then, over the orders where both sums are non-zero (the "effective" orders):
 *
 * <pre>
 *   P = mean of matches_n / hyp_n        R = mean of matches_n / ref_n
 *   chrF = 100 * (1 + beta^2) * P * R / (beta^2 * P + R)      (0 when P + R = 0 or no order is effective)
 * </pre>
 *
 * <p>NLTK's {@code corpus_chrf} is a different quantity (the mean of sentence-level per-order
 * F-scores, beta 3), so it is not used as the reference for this class; the test values come from
 * an independent implementation of the formula above ({@code models/reference/bleu_reference.py}).
 */
public final class Chrf {

    public static final int CHAR_ORDER = 6;
    public static final double BETA = 2.0;

    private Chrf() {
    }

    /**
     * The score and the summed statistics (index n-1 for order n).
     *
     * @param score chrF in 0..100
     */
    public record Score(double score, long[] hypothesisNgrams, long[] referenceNgrams, long[] matches) {

        public Score {
            hypothesisNgrams = hypothesisNgrams.clone();
            referenceNgrams = referenceNgrams.clone();
            matches = matches.clone();
        }
    }

    public static Score corpus(List<String> hypotheses, List<String> references) {
        Bleu.requireSameSize(hypotheses, references);
        long[] hyp = new long[CHAR_ORDER];
        long[] ref = new long[CHAR_ORDER];
        long[] match = new long[CHAR_ORDER];
        for (int i = 0; i < hypotheses.size(); i++) {
            if (hypotheses.get(i) == null || references.get(i) == null) {
                throw new IllegalArgumentException("segment " + i + " is null");
            }
            int[] h = withoutWhitespace(hypotheses.get(i));
            int[] r = withoutWhitespace(references.get(i));
            for (int n = 1; n <= CHAR_ORDER; n++) {
                Map<String, Integer> hc = ngrams(h, n);
                Map<String, Integer> rc = ngrams(r, n);
                long hypCount = 0;
                long matchCount = 0;
                for (Map.Entry<String, Integer> e : hc.entrySet()) {
                    hypCount += e.getValue();
                    matchCount += Math.min(e.getValue(), rc.getOrDefault(e.getKey(), 0));
                }
                hyp[n - 1] += rc.isEmpty() ? 0 : hypCount;
                ref[n - 1] += Math.max(0, r.length - n + 1);
                match[n - 1] += matchCount;
            }
        }
        return new Score(score(hyp, ref, match), hyp, ref, match);
    }

    private static double score(long[] hyp, long[] ref, long[] match) {
        double precision = 0;
        double recall = 0;
        int effective = 0;
        for (int n = 0; n < CHAR_ORDER; n++) {
            if (hyp[n] > 0 && ref[n] > 0) {
                precision += (double) match[n] / hyp[n];
                recall += (double) match[n] / ref[n];
                effective++;
            }
        }
        if (effective == 0) {
            return 0.0;
        }
        precision /= effective;
        recall /= effective;
        if (precision + recall == 0) {
            return 0.0;
        }
        double b2 = BETA * BETA;
        return 100.0 * (1 + b2) * precision * recall / (b2 * precision + recall);
    }

    /** The code points of {@code text} without whitespace (Python's definition, as sacreBLEU uses it). */
    private static int[] withoutWhitespace(String text) {
        return text.codePoints().filter(cp -> !Tokenizer13a.isPythonWhitespace(cp)).toArray();
    }

    private static Map<String, Integer> ngrams(int[] chars, int n) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i + n <= chars.length; i++) {
            counts.merge(new String(chars, i, n), 1, Integer::sum);
        }
        return counts;
    }
}
