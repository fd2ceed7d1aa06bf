package io.skipllm.kvcache;

import io.skipllm.planner.RetainedLayers;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The host forward pass's {@link KvCache}: per layer one block of off-heap host memory for the keys and
 * one for the values, {@code [batch, kvHeads, capacity_l, headDim]} floats in row-major order, read and
 * written through {@link FloatBuffer}s. The memory comes from JavaCPP's allocator (zeroed, freed at
 * {@link #close}), not from ND4J, so a host run allocates its cache without starting ND4J.
 */
public final class HostKvCache implements KvCache {

    private final int batchSize;
    private final int kvHeads;
    private final int headDim;
    private final int[] capacity;
    private final FloatPointer[] keyMemory;
    private final FloatPointer[] valueMemory;
    private final FloatBuffer[] keys;
    private final FloatBuffer[] values;
    private final long bytes;

    /** Capacity per layer as the skip semantics give it ({@link KvCache#capacity(int, int, int, RetainedLayers)}). */
    public HostKvCache(int numLayers, int batchSize, int kvHeads, int headDim, int promptLength, int maxNewTokens,
            RetainedLayers retained) {
        this.batchSize = batchSize;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.capacity = new int[numLayers];
        this.keyMemory = new FloatPointer[numLayers];
        this.valueMemory = new FloatPointer[numLayers];
        this.keys = new FloatBuffer[numLayers];
        this.values = new FloatBuffer[numLayers];
        long total = 0;
        try {
            for (int l = 0; l < numLayers; l++) {
                capacity[l] = KvCache.capacity(l, promptLength, maxNewTokens, retained);
                long floats = (long) batchSize * kvHeads * capacity[l] * headDim;
                if (floats > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("layer " + l + "'s cache of " + floats
                            + " floats exceeds one buffer's 2^31 - 1");
                }
                keyMemory[l] = new FloatPointer(floats).zero();
                valueMemory[l] = new FloatPointer(floats).zero();
                keys[l] = keyMemory[l].asBuffer();
                values[l] = valueMemory[l].asBuffer();
                total += 2 * floats * Float.BYTES;
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            close();
            throw e;
        }
        this.bytes = total;
    }

    /** Keys of layer {@code layer}, {@code [batch, kvHeads, capacity, headDim]} row-major. */
    public FloatBuffer keys(int layer) {
        return keys[layer];
    }

    /** Values of layer {@code layer}, laid out as {@link #keys}. */
    public FloatBuffer values(int layer) {
        return values[layer];
    }

    public int numLayers() {
        return capacity.length;
    }

    @Override
    public int batchSize() {
        return batchSize;
    }

    @Override
    public int capacity(int layer) {
        return capacity[layer];
    }

    @Override
    public float key(int layer, int row, int kvHead, int slot, int i) {
        return keys[layer].get(((row * kvHeads + kvHead) * capacity[layer] + slot) * headDim + i);
    }

    @Override
    public void reorderRows(int[] sourceRows) {
        if (KvCache.isIdentity(sourceRows, batchSize)) {
            return;
        }
        for (int l = 0; l < capacity.length; l++) {
            gatherRows(keys[l], sourceRows, kvHeads * capacity[l] * headDim);
            gatherRows(values[l], sourceRows, kvHeads * capacity[l] * headDim);
        }
    }

    /** Row gather over a copy of the layer, so rows may be read and written in one go. */
    private static void gatherRows(FloatBuffer layer, int[] sourceRows, int rowFloats) {
        float[] before = new float[sourceRows.length * rowFloats];
        layer.get(0, before);
        for (int i = 0; i < sourceRows.length; i++) {
            layer.put(i * rowFloats, before, sourceRows[i] * rowFloats, rowFloats);
        }
    }

    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        for (int l = 0; l < capacity.length; l++) {
            keys[l] = null;
            values[l] = null;
            if (keyMemory[l] != null) {
                keyMemory[l].close();
                keyMemory[l] = null;
            }
            if (valueMemory[l] != null) {
                valueMemory[l].close();
                valueMemory[l] = null;
            }
        }
    }
}
