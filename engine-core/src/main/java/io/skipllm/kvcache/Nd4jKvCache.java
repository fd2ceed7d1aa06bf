package io.skipllm.kvcache;

import io.skipllm.planner.RetainedLayers;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The nd4j forward pass's {@link KvCache}: per layer {@code keys[l]} and {@code values[l]}, ND4J arrays
 * of shape {@code [batch, kvHeads, capacity_l, headDim]} (device memory on CUDA).
 *
 * <p>Skip semantics decide the capacity: every layer holds the prompt (prefill runs all layers), but
 * only retained layers receive response tokens, so a skipped layer's capacity is the prompt length
 * and a retained layer's is prompt + max new tokens. Slot {@code t} holds the t-th token of the
 * left-padded sequence; which slots are real is the attention mask's business, not the cache's.
 */
public final class Nd4jKvCache implements KvCache {

    private final int batchSize;
    private final int promptLength;
    private final int maxNewTokens;
    private final INDArray[] keys;
    private final INDArray[] values;
    private final long bytes;

    public Nd4jKvCache(int numLayers, int batchSize, int kvHeads, int headDim, int promptLength, int maxNewTokens,
            RetainedLayers retained) {
        this.batchSize = batchSize;
        this.promptLength = promptLength;
        this.maxNewTokens = maxNewTokens;
        this.keys = new INDArray[numLayers];
        this.values = new INDArray[numLayers];
        long total = 0;
        // The cache outlives any forward pass, so it must never land in a pass's workspace.
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (int l = 0; l < numLayers; l++) {
                int capacity = KvCache.capacity(l, promptLength, maxNewTokens, retained);
                keys[l] = Nd4j.zeros(DataType.FLOAT, batchSize, kvHeads, capacity, headDim);
                values[l] = Nd4j.zeros(DataType.FLOAT, batchSize, kvHeads, capacity, headDim);
                total += 2L * batchSize * kvHeads * capacity * headDim * Float.BYTES;
            }
        }
        this.bytes = total;
    }

    @Override
    public int capacity(int layer) {
        return (int) keys[layer].size(2);
    }

    @Override
    public float key(int layer, int row, int kvHead, int slot, int i) {
        return keys[layer].getFloat(row, kvHead, slot, i);
    }

    /** Keys of a layer, {@code [batch, kvHeads, capacity, headDim]}. */
    public INDArray keys(int layer) {
        return keys[layer];
    }

    /** Values of a layer, {@code [batch, kvHeads, capacity, headDim]}. */
    public INDArray values(int layer) {
        return values[layer];
    }

    /** Writes {@code k, v [batch, kvHeads, count, headDim]} into slots {@code [slot, slot + count)}. */
    public void write(int layer, int slot, INDArray k, INDArray v) {
        long count = k.size(2);
        if (slot < 0 || slot + count > keys[layer].size(2)) {
            throw new IllegalStateException("layer " + layer + ": slots [" + slot + ", " + (slot + count)
                    + ") outside its capacity " + keys[layer].size(2));
        }
        INDArrayIndex[] where = {NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(slot, slot + count),
            NDArrayIndex.all()};
        keys[layer].get(where).assign(k);
        values[layer].get(where).assign(v);
    }

    @Override
    public void reorderRows(int[] sourceRows) {
        if (sourceRows.length != batchSize) {
            throw new IllegalArgumentException("expected " + batchSize + " rows, got " + Arrays.toString(sourceRows));
        }
        if (KvCache.isIdentity(sourceRows, batchSize)) {
            return;
        }
        for (int l = 0; l < keys.length; l++) {
            gatherRows(keys[l], sourceRows);
            gatherRows(values[l], sourceRows);
        }
    }

    /** Row gather on the batch dimension; pullRows copies first, so rows may be read and written in one go. */
    private static void gatherRows(INDArray cache, int[] sourceRows) {
        INDArray rows = cache.reshape('c', true, cache.size(0), cache.length() / cache.size(0));
        rows.assign(Nd4j.pullRows(rows, 1, sourceRows));
    }

    @Override
    public int batchSize() {
        return batchSize;
    }

    public int promptLength() {
        return promptLength;
    }

    public int maxNewTokens() {
        return maxNewTokens;
    }

    @Override
    public long bytes() {
        return bytes;
    }

    /** Releases the arrays' memory now instead of when the garbage collector gets to it. */
    @Override
    public void close() {
        for (int l = 0; l < keys.length; l++) {
            if (keys[l] != null && keys[l].closeable()) {
                keys[l].close();
                values[l].close();
            }
            keys[l] = null;
            values[l] = null;
        }
    }
}
