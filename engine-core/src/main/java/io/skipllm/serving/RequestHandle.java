package io.skipllm.serving;

import io.skipllm.generation.GenerationResult;
import java.util.concurrent.CompletableFuture;

/**
 * A request submitted to a {@link BatchingEngine}: its result to wait on, and a way to cancel it.
 * Tokens stream to the listener given at submission while it runs.
 */
public final class RequestHandle {

    private final long id;
    private final int promptTokens;
    private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    private volatile boolean cancelled;
    private final Runnable onCancel;

    RequestHandle(long id, int promptTokens, Runnable onCancel) {
        this.id = id;
        this.promptTokens = promptTokens;
        this.onCancel = onCancel;
    }

    /** The engine's sequence number of this request. */
    public long id() {
        return id;
    }

    public int promptTokens() {
        return promptTokens;
    }

    /**
     * Completes with the generation, or exceptionally: {@link io.skipllm.generation.GenerationCancelledException}
     * after {@link #cancel} (or a shutdown that could not wait for it), or the error that stopped it.
     */
    public CompletableFuture<GenerationResult> result() {
        return result;
    }

    /**
     * Asks the engine to stop this request: its row is freed before the next decode step (a waiting
     * request leaves the queue). Does nothing once the result is complete.
     */
    public void cancel() {
        if (!cancelled && !result.isDone()) {
            cancelled = true;
            onCancel.run();
        }
    }

    public boolean isCancelled() {
        return cancelled;
    }
}
