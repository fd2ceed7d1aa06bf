package io.skipllm.generation;

import java.util.Arrays;
import java.util.Objects;

/**
 * One generated sequence of a prompt (the prompt excluded).
 *
 * @param tokens the generated ids; a sequence that ended on a stop token includes it (as Hugging
 *     Face's output does)
 * @param text their decoding without special tokens, or null without a tokenizer
 * @param logprob the sum of the natural-log probabilities of the tokens under the model as decoded:
 *     log-softmax of the raw logits, before any logits processor (the first token from the
 *     full-depth prompt pass, later ones from the skip path)
 * @param score what beam search ranks by, {@code logprob / length^lengthPenalty} with {@code length}
 *     the number of tokens (0 for an empty sequence). With a repetition penalty beam search ranks by
 *     the penalised log-probabilities instead, as Hugging Face does, and the score is their sum
 *     divided by the same length factor.
 */
public record Hypothesis(int[] tokens, String text, double logprob, double score) {

    public Hypothesis {
        tokens = tokens.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    /** Number of generated tokens. */
    public int length() {
        return tokens.length;
    }

    /** {@code sum / length^lengthPenalty}, 0 for an empty sequence. */
    static double lengthNormalised(double sum, int length, double lengthPenalty) {
        return length == 0 ? 0.0 : sum / Math.pow(length, lengthPenalty);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Hypothesis h && Arrays.equals(tokens, h.tokens) && Objects.equals(text, h.text)
                && Double.compare(logprob, h.logprob) == 0 && Double.compare(score, h.score) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(tokens), text, logprob, score);
    }

    @Override
    public String toString() {
        return "Hypothesis{tokens=" + Arrays.toString(tokens) + (text == null ? "" : ", text='" + text + "'")
                + ", logprob=" + logprob + ", score=" + score + "}";
    }
}
