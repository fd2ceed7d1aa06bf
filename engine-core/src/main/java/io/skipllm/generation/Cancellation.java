package io.skipllm.generation;

/**
 * A flag another thread sets to stop a running {@link Generator#generate} call. The decode loops read
 * it before every decode step, so a generation stops within one step of {@link #cancel} and throws
 * {@link GenerationCancelledException}. A token can be shared by several calls; cancelling is final.
 */
public final class Cancellation {

    /** A token nobody can cancel, for the overloads that take none. */
    static final Cancellation NEVER = new Cancellation();

    /** Volatile: written by the cancelling thread, read by the decoding one without a lock. */
    private volatile boolean cancelled;
    /**
     * Told the step count at every check, before the flag is read: lets a test cancel from another thread
     * at a known step (with latches) instead of after a sleep. Null for every token outside tests.
     */
    private final java.util.function.IntConsumer beforeCheck;

    public Cancellation() {
        this(null);
    }

    Cancellation(java.util.function.IntConsumer beforeCheck) {
        this.beforeCheck = beforeCheck;
    }

    public void cancel() {
        if (this != NEVER) {
            cancelled = true;
        }
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /** Throws when cancelled; {@code steps} is how many decode steps already ran (for the message). */
    void throwIfCancelled(int steps) {
        if (beforeCheck != null) {
            beforeCheck.accept(steps);
        }
        if (cancelled) {
            throw new GenerationCancelledException(steps);
        }
    }
}
