package io.skipllm.model;

/**
 * The CPU forward pass of one decode session: rows of tokens through chosen layers, on buffers
 * allocated once when the session opens (llama2.c's {@code RunState}), against the session's KV cache,
 * with the weights package's kernels and Java loops; no ND4J op per call, and no activation buffer
 * allocated (only a few arrays of one int per row, for the attention's bookkeeping).
 *
 * <p>One call serves every multi-token shape the engine has: a decode step (one row per sequence), a
 * prompt chunk (many rows per sequence, in position order), and later verification of drafted tokens.
 * Each row writes its key and value into its cache slot in every layer it runs, then attends over its
 * sequence's slots {@code [firstVisible, slot]}: the cache is filled in slot order, so everything
 * before the row is there and nothing after it is seen.
 *
 * <p>Not thread-safe: a session is used by one thread at a time.
 */
public interface HostPass {

    /** The most rows one {@link #forward} call takes. */
    int maxRows();

    /**
     * Runs {@code n} rows through {@code layers} (ascending).
     *
     * @param tokens token id of each row
     * @param positions position of each row (real tokens before it in its sequence)
     * @param sequences the batch row (cache row) each row belongs to
     * @param slots the cache slot each row writes; rows of one sequence in ascending slot order
     * @param firstVisible per batch row, the first cache slot its rows may attend to (left padding before it)
     * @param logitsRows per row, where its logits go in {@code logits} ({@code [index * vocab, ...)}), or -1
     *     for rows whose logits are not needed
     * @param logits receives the logits of the rows that ask for them
     */
    void forward(int n, int[] tokens, int[] positions, int[] sequences, int[] slots, int[] firstVisible,
            int[] layers, int[] logitsRows, float[] logits);
}
