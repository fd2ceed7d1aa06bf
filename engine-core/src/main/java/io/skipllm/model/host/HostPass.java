package io.skipllm.model.host;

import io.skipllm.model.StepPlan;

/**
 * The host forward pass of one session: rows of tokens through chosen layers, on buffers allocated once
 * when the session opens (llama2.c's {@code RunState}), against the session's host KV cache, with the
 * weights package's kernels and Java loops; no ND4J op per call, and no activation buffer allocated.
 *
 * <p>One call serves every multi-token shape the engine has: a decode step (one row per sequence), a
 * prompt chunk (many rows per sequence, in position order), verification of drafted tokens, an appended
 * turn. Each row writes its key and value into its cache slot in every layer it runs, then attends over
 * its sequence's visible slots ({@link StepRows}).
 *
 * <p>Not thread-safe: a session is used by one thread at a time.
 */
public interface HostPass {

    /** The most rows one {@link #forward} call takes. */
    int maxRows();

    /**
     * Runs the rows through {@code layers} (ascending), asking {@code plan} after each layer whether to
     * stop there (early exit; null: never). When it stops before the last of {@code layers}, every layer
     * of {@code fillAfterExit} above the exit layer still gets the rows' keys and values, computed from
     * the exit hidden state (CALM's state propagation). Then final norm and LM head for the rows that ask
     * for logits.
     *
     * @return how many layers ran
     */
    int forward(StepRows rows, int[] layers, StepPlan plan, int[] fillAfterExit, float[] logits);

    /** As {@link #forward(StepRows, int[], StepPlan, int[], float[])} with no plan: every layer runs. */
    default void forward(StepRows rows, int[] layers, float[] logits) {
        forward(rows, layers, null, null, logits);
    }
}
