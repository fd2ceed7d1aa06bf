package io.skipllm.generation;

import java.util.Arrays;
import java.util.BitSet;

/**
 * The logits processors of one request, applied to one row of scores in Hugging Face's order:
 * repetition penalty, no-repeat-n-gram ban, then (only when sampling) temperature, top-k and top-p.
 * Greedy and sampling apply them to the raw logits; beam search, like Hugging Face, to the
 * log-softmax of the logits. A removed token gets {@code -infinity}. Stateless apart from its
 * settings, so one instance serves every row and thread.
 */
final class LogitsProcessors {

    private final double repetitionPenalty;
    private final int noRepeatNgramSize;
    private final boolean sampling;
    private final double temperature;
    private final int topK;
    private final double topP;

    LogitsProcessors(GenerationConfig config) {
        this.repetitionPenalty = config.repetitionPenalty();
        this.noRepeatNgramSize = config.noRepeatNgramSize();
        this.sampling = config.doSample();
        this.temperature = config.temperature();
        this.topK = config.topK();
        this.topP = config.topP();
    }

    /** True when {@link #process} would change nothing (then greedy is the plain argmax). */
    boolean isIdentity() {
        return repetitionPenalty == 1.0 && noRepeatNgramSize == 0
                && (!sampling || (temperature == 1.0 && topK == 0 && topP == 1.0));
    }

    /**
     * Processes {@code scores} in place.
     *
     * @param sequence the row's tokens so far, prompt included (Hugging Face's {@code input_ids})
     * @param length how many entries of {@code sequence} are valid
     */
    void process(double[] scores, int[] sequence, int length) {
        if (repetitionPenalty != 1.0) {
            penaliseRepetitions(scores, sequence, length, repetitionPenalty);
        }
        if (noRepeatNgramSize > 0) {
            banRepeatedNgrams(scores, sequence, length, noRepeatNgramSize);
        }
        if (sampling) {
            if (temperature != 1.0) {
                for (int i = 0; i < scores.length; i++) {
                    scores[i] /= temperature;
                }
            }
            if (topK > 0) {
                keepTopK(scores, topK);
            }
            if (topP < 1.0) {
                keepTopP(scores, topP);
            }
        }
    }

    /**
     * CTRL's repetition penalty: every token already in the sequence (counted once) has its score
     * divided by the penalty when positive and multiplied when negative, so it becomes less likely.
     */
    static void penaliseRepetitions(double[] scores, int[] sequence, int length, double penalty) {
        BitSet seen = new BitSet(scores.length);
        for (int i = 0; i < length; i++) {
            int token = sequence[i];
            if (token < scores.length && !seen.get(token)) {
                seen.set(token);
                double s = scores[token];
                scores[token] = s < 0 ? s * penalty : s / penalty;
            }
        }
    }

    /**
     * Bans every token that would repeat an n-gram already in the sequence: the last n-1 tokens are
     * the prefix, and each earlier occurrence of that prefix bans the token that followed it.
     */
    static void banRepeatedNgrams(double[] scores, int[] sequence, int length, int n) {
        if (length + 1 < n) {
            return;
        }
        int prefixStart = length - (n - 1);
        for (int start = 0; start + n - 1 < length; start++) {
            boolean match = true;
            for (int j = 0; j < n - 1 && match; j++) {
                match = sequence[start + j] == sequence[prefixStart + j];
            }
            if (match) {
                int banned = sequence[start + n - 1];
                if (banned < scores.length) {
                    scores[banned] = Double.NEGATIVE_INFINITY;
                }
            }
        }
    }

    /** Keeps the k highest scores (and any tied with the k-th), as Hugging Face's TopKLogitsWarper. */
    static void keepTopK(double[] scores, int k) {
        if (k >= scores.length) {
            return;
        }
        double[] sorted = scores.clone();
        Arrays.sort(sorted);
        double kth = sorted[sorted.length - k];
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] < kth) {
                scores[i] = Double.NEGATIVE_INFINITY;
            }
        }
    }

    /**
     * Nucleus filtering: keeps the smallest set of highest-probability tokens whose probabilities add
     * up to at least {@code p} (always at least one token), as Hugging Face's TopPLogitsWarper.
     */
    static void keepTopP(double[] scores, double p) {
        double[] probs = softmax(scores);
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a])); // stable: ties keep index order
        double cumulative = 0;
        int keep = 0;
        while (keep < order.length && (keep == 0 || cumulative < p)) {
            cumulative += probs[order[keep]];
            keep++;
        }
        for (int i = keep; i < order.length; i++) {
            scores[order[i]] = Double.NEGATIVE_INFINITY;
        }
    }

    /** Natural-log softmax in double precision; {@code -infinity} stays {@code -infinity}. */
    static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        double logZ = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = logits[i] - logZ;
        }
        return out;
    }

    /** Probabilities of scores that may hold {@code -infinity} (at least one must be finite). */
    static double[] softmax(double[] scores) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : scores) {
            max = Math.max(max, v);
        }
        double[] out = new double[scores.length];
        double sum = 0;
        for (int i = 0; i < scores.length; i++) {
            out[i] = Math.exp(scores[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < out.length; i++) {
            out[i] /= sum;
        }
        return out;
    }

    /** True when some score is not {@code -infinity} (the processors may ban everything in tiny vocabularies). */
    static boolean anyFinite(double[] scores) {
        for (double v : scores) {
            if (v != Double.NEGATIVE_INFINITY && !Double.isNaN(v)) {
                return true;
            }
        }
        return false;
    }
}
