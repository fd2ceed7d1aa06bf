package io.skipllm.model;

import io.skipllm.kvcache.KvCache;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A {@link DecodeSession}'s forward pass and cache on one backend: {@link HostSessionPass} or
 * {@link Nd4jSessionPass}, picked once when the session opens from the backend the model was loaded
 * for. The session owns positions, slots and validation; this only runs calls.
 */
public interface SessionPass extends AutoCloseable {

    /** Every prompt token through every layer; afterwards {@link #logits} holds each row's last-token logits. */
    void prefill(int[][] prompts);

    /**
     * One token per row at cache slot {@code slot} through {@code plan}'s layers, asking the plan after each
     * layer whether to stop; when it stops, the layers of {@code fillAfterExit} above the exit layer still
     * get the token's keys and values (null: none).
     *
     * @param firstVisible per row, the first slot holding a real token (left padding before it)
     * @return how many layers ran
     */
    int decode(int[] tokens, int[] positions, int[] firstVisible, int slot, StepPlan plan, int[] fillAfterExit);

    /** The latest logits, {@code [batch * vocab]} (this pass's buffer or a fresh copy; do not keep it). */
    float[] logits();

    /** The latest logits as a {@code [batch, vocab]} ND4J array (the session's ND4J-typed API). */
    INDArray logitsArray();

    /** Row {@code i} becomes the old row {@code sourceRows[i]}, in the cache and any per-row state. */
    void reorderRows(int[] sourceRows);

    KvCache cache();

    @Override
    void close();
}
