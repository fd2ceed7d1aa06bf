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
        int promptTokens, Timing timing, Speculation speculation) {

    public GenerationResult {
        hypotheses = List.copyOf(hypotheses);
    }

    /** A result of plain decoding (no self-speculation). */
    public GenerationResult(List<Hypothesis> hypotheses, RetainedLayers retained, int numLayers, int promptTokens,
            Timing timing) {
        this(hypotheses, retained, numLayers, promptTokens, timing, null);
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
        // lossless mode: every token is the full network's (the retained layers only drafted it)
        Arrays.fill(layers, speculation != null ? numLayers : retained.size());
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

    /**
     * What self-speculative decoding ({@link GenerationConfig#lossless()}) did over the whole call
     * (shared by its prompts): drafts proposed and accepted per draft position, and the layer passes
     * it paid for them.
     *
     * @param draftTokens the most tokens drafted per verification
     * @param rounds draft-and-verify rounds, summed over rows
     * @param drafted per draft position (0-based), drafts the verification checked: a round checks its drafts
     *     in order and stops at the first the full network disagrees with, so position {@code j} counts
     *     only rounds whose earlier drafts were all kept
     * @param accepted per draft position, drafts the full network agreed with
     * @param draftCalls forward calls through the retained layers (each reads their weights once for all
     *     rows drafting in it)
     * @param verifyCalls full-depth verification calls (each reads every weight once for all rows and positions)
     */
    public record Speculation(int draftTokens, long rounds, long[] drafted, long[] accepted, long draftCalls,
            long verifyCalls) {

        /** Accepted drafts over checked drafts, all positions together (0 without drafts). */
        public double acceptanceRate() {
            long d = Arrays.stream(drafted).sum();
            return d == 0 ? 0 : (double) Arrays.stream(accepted).sum() / d;
        }

        /**
         * Per draft position, the share of checked drafts accepted, i.e. the chance that draft {@code j} is
         * kept given that drafts before it were (NaN where none was checked).
         */
        public double[] acceptanceByPosition() {
            double[] rates = new double[drafted.length];
            for (int i = 0; i < rates.length; i++) {
                rates[i] = drafted[i] == 0 ? Double.NaN : (double) accepted[i] / drafted[i];
            }
            return rates;
        }

        /** These counts and {@code other}'s together (several calls, batches or rounds). */
        public Speculation plus(Speculation other) {
            int positions = Math.max(drafted.length, other.drafted.length);
            long[] d = Arrays.copyOf(drafted, positions);
            long[] a = Arrays.copyOf(accepted, positions);
            for (int j = 0; j < other.drafted.length; j++) {
                d[j] += other.drafted[j];
                a[j] += other.accepted[j];
            }
            return new Speculation(Math.max(draftTokens, other.draftTokens), rounds + other.rounds, d, a,
                    draftCalls + other.draftCalls, verifyCalls + other.verifyCalls);
        }

        /** Tokens produced per verification: accepted drafts plus the full network's own token. */
        public double tokensPerRound() {
            return rounds == 0 ? 0 : (double) (Arrays.stream(accepted).sum() + rounds) / rounds;
        }
    }
}
