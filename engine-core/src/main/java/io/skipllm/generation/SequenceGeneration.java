package io.skipllm.generation;

import io.skipllm.BadInputException;
import io.skipllm.model.ModelConfig;
import io.skipllm.planner.RetainedLayers;
import java.util.List;

/**
 * One prompt's greedy or sampled generation, driven from outside one logits row at a time: what a
 * scheduler that owns the forward passes (the continuous-batching engine) uses to choose, stream and
 * stop tokens exactly as {@link Generator#generate} does for a prompt alone. Not thread-safe.
 */
public final class SequenceGeneration {

    private final Request request;
    private final GenerationRow row;

    private SequenceGeneration(Request request) {
        this.request = request;
        this.row = new GenerationRow(request, 0, 0, 0);
    }

    /**
     * Validates a request as {@link Generator#generate} does (prompt ids, context, stop tokens, plan)
     * and refuses what a one-row-per-request scheduler cannot run: beam search and several returned
     * sequences.
     *
     * @throws BadInputException naming the problem
     */
    public static SequenceGeneration start(ModelConfig model, int[] prompt, GenerationConfig config, TextCodec codec,
            TokenStreamListener listener) {
        Request request = Request.resolve(model, List.of(prompt == null ? new int[0] : prompt), config, codec,
                listener);
        if (config.isBeamSearch()) {
            throw new BadInputException("beam search (numBeams " + config.numBeams() + ") is not supported here: "
                    + "it needs its beams in one static batch; use Generator.generate");
        }
        if (config.numReturnSequences() != 1) {
            throw new BadInputException("numReturnSequences " + config.numReturnSequences() + " is not supported "
                    + "here: submit one request per sequence");
        }
        if (config.lossless()) {
            throw new BadInputException("lossless (self-speculative) decoding is not supported here; use "
                    + "Generator.generate");
        }
        return new SequenceGeneration(request);
    }

    /** The prompt's token ids (a copy taken at {@link #start}). */
    public int[] prompt() {
        return request.prompts()[0];
    }

    /** The layers every generated token after the first runs through. */
    public RetainedLayers retained() {
        return request.retained();
    }

    public int maxNewTokens() {
        return request.config().maxNewTokens();
    }

    /**
     * Chooses the next token from the logits at the sequence's last position, appends it, streams it
     * to the listener and returns it.
     */
    public int next(float[] logits) {
        if (row.done) {
            throw new IllegalStateException("the sequence is done");
        }
        int token = row.choose(logits);
        row.append(token);
        return token;
    }

    /** True after a stop token, a stop string or the last new token. */
    public boolean done() {
        return row.done;
    }

    public int generatedCount() {
        return row.generatedCount();
    }

    /** The finished generation with its timing. */
    public GenerationResult result(GenerationResult.Timing timing) {
        return new GenerationResult(List.of(row.hypothesis()), request.retained(), request.model().numLayers(),
                prompt().length, timing);
    }
}
