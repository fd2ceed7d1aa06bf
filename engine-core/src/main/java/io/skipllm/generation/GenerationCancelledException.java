package io.skipllm.generation;

import io.skipllm.SkipLlmException;

/** A generation stopped because its {@link Cancellation} was cancelled; its decode session is closed. */
public final class GenerationCancelledException extends SkipLlmException {

    private final int steps;

    public GenerationCancelledException(int steps) {
        super("generation cancelled after " + steps + " decode step" + (steps == 1 ? "" : "s"));
        this.steps = steps;
    }

    /** Decode steps that ran before the cancellation was seen. */
    public int steps() {
        return steps;
    }
}
