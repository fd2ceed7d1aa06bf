package io.skipllm.kvcache;

import io.skipllm.planner.RetainedLayers;
import java.util.Arrays;

/**
 * Static key/value cache of one request batch, allocated once and never grown, in the memory of the
 * forward pass that uses it ({@link HostKvCache} for the host pass, {@link Nd4jKvCache} for the nd4j
 * one): per layer {@code [batch, kvHeads, capacity_l, headDim]} floats.
 *
 * <p>Skip semantics decide the capacity: every layer holds the prompt (prefill runs all layers), but
 * only retained layers receive response tokens, so a skipped layer's capacity is the prompt length
 * and a retained layer's is prompt + max new tokens. Which slots are real is the attention's business
 * (a mask or a visible range), not the cache's.
 */
public interface KvCache extends AutoCloseable {

    int batchSize();

    /** Slots layer {@code layer} holds per row. */
    int capacity(int layer);

    /** Element {@code i} of the key of {@code (row, kvHead)} at {@code slot} in layer {@code layer}. */
    float key(int layer, int row, int kvHead, int slot, int i);

    /**
     * Reorders the batch rows in place: row {@code i} becomes the old row {@code sourceRows[i]}. Beam
     * search calls this after re-ranking beams; capacity and shapes stay as they are.
     */
    void reorderRows(int[] sourceRows);

    /** Bytes held by all layers' keys and values. */
    long bytes();

    /** Releases the memory now instead of when the garbage collector gets to it. */
    @Override
    void close();

    /** Slots of layer {@code layer}: prompt + new tokens when retained, the prompt alone when skipped. */
    static int capacity(int layer, int promptLength, int maxNewTokens, RetainedLayers retained) {
        return retained.contains(layer) ? promptLength + maxNewTokens : promptLength;
    }

    /**
     * Bytes the cache of this shape takes, computed without allocating it (so a caller can refuse a
     * batch that would not fit before anything is allocated).
     */
    static long bytesFor(int numLayers, int batchSize, int kvHeads, int headDim, int promptLength,
            int maxNewTokens, RetainedLayers retained) {
        long perSlot = 2L * batchSize * kvHeads * headDim * Float.BYTES;
        long slots = 0;
        for (int l = 0; l < numLayers; l++) {
            slots += capacity(l, promptLength, maxNewTokens, retained);
        }
        return perSlot * slots;
    }

    /** Checks {@code sourceRows} (one row index per row, each in range) and says whether it moves nothing. */
    static boolean isIdentity(int[] sourceRows, int batchSize) {
        if (sourceRows.length != batchSize) {
            throw new IllegalArgumentException("expected " + batchSize + " rows, got " + Arrays.toString(sourceRows));
        }
        boolean identity = true;
        for (int i = 0; i < sourceRows.length; i++) {
            if (sourceRows[i] < 0 || sourceRows[i] >= batchSize) {
                throw new IllegalArgumentException("row " + sourceRows[i] + " outside 0.." + (batchSize - 1));
            }
            identity &= sourceRows[i] == i;
        }
        return identity;
    }
}
