package io.skipllm.generation;

import io.skipllm.planner.RetainedLayers;
import java.util.Arrays;
import java.util.List;

/**
 * The outcome of one prompt.
 *
 * @param hypotheses the returned sequences sorted by score, best first: {@code numReturnSequences}
 *     of them (beam search, sampling) or one (greedy)
 * @param retained the layers response tokens ran through
 * @param numLayers the model's depth (what the prompt pass and the first generated token ran)
 * @param promptTokens the number of prompt tokens
 * @param timing the request's timing, shared by all prompts of one batch
 */
public record GenerationResult(List<Hypothesis> hypotheses, RetainedLayers retained, int numLayers,
        int promptTokens, Timing timing) {

    public GenerationResult {
        hypotheses = List.copyOf(hypotheses);
    }

    /** The best hypothesis. */
    public Hypothesis best() {
        return hypotheses.get(0);
    }

    /** The generated ids of the best hypothesis (prompt excluded). */
    public int[] tokens() {
        return best().tokens();
    }

    /** The text of the best hypothesis, or null without a tokenizer. */
    public String text() {
        return best().text();
    }

    /**
     * Layers run to produce each generated token of the best hypothesis: the first token comes from
     * the logits of the full-depth prompt pass, every later one from a decode step through the
     * retained layers.
     */
    public int[] layersPerToken() {
        int[] layers = new int[best().length()];
        Arrays.fill(layers, retained.size());
        if (layers.length > 0) {
            layers[0] = numLayers;
        }
        return layers;
    }

    /** Mean of {@link #layersPerToken()}, 0 without generated tokens. */
    public double meanLayersPerToken() {
        return Arrays.stream(layersPerToken()).average().orElse(0);
    }

    /**
     * Timing of one generate call.
     *
     * @param prefillMillis the full-depth prompt pass of the whole batch
     * @param decodeMillis the decode loop after it (forward passes and token selection)
     * @param decodeTokens tokens produced by decode steps, summed over every sequence of the batch
     *     (beam search counts every live beam; rows already finished are not counted)
     */
    public record Timing(double prefillMillis, double decodeMillis, long decodeTokens) {

        /** Decode throughput of the batch: {@code decodeTokens} per second of decoding, 0 if none. */
        public double decodeTokensPerSecond() {
            return decodeMillis <= 0 || decodeTokens == 0 ? 0.0 : decodeTokens * 1000.0 / decodeMillis;
        }
    }
}
