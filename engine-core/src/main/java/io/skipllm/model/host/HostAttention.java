package io.skipllm.model.host;

import io.skipllm.kvcache.HostKvCache;
import io.skipllm.weights.NativeAttention;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;

/**
 * Attention of the host forward pass ({@link io.skipllm.model.host.HostPass}) over the session's KV cache
 * in host memory ({@code [batch, kvHeads, capacity, headDim]} per layer), grouped-query heads as in
 * {@code CachedAttention}. Each row first writes its key and value into its cache slot, then each of its
 * query heads attends over its sequence's slots {@code [firstVisible, slot]}: causality and left
 * padding are a range, not a mask. With ALiBi slopes (BLOOM) the bias of a key is
 * {@code slope * (its position)}, positions counting from the first visible slot.
 *
 * <p>Rows of one sequence are consecutive, so each (sequence, key/value head) block is read once per call,
 * as far as its last row sees: in place by the native kernel ({@link NativeAttention}) where the weight
 * kernels are native, else copied into Java arrays for {@link HeadAttention} (the fallback where no
 * native kernels load); large calls split those blocks over the common pool (disjoint outputs, the same
 * arithmetic on any thread).
 */
public final class HostAttention {

    /** Above this many multiply-adds per call the blocks are split over threads (~20 µs to fork). */
    static final long PARALLEL_MIN_MACS = 1L << 17;
    /**
     * The same bound for the native kernel, ~30x faster than the Java loop with its copies: a decode step
     * stays on one thread up to thousands of slots (the common pool's threads would compete with the
     * weight kernels' spinning workers for the cores).
     */
    static final long NATIVE_PARALLEL_MIN_MACS = 1L << 22;

    private final int numHeads;
    private final int numKvHeads;
    private final int headDim;
    private final float scale;
    private final FloatBuffer[] keys;
    private final FloatBuffer[] values;
    private final int[] capacity;
    private final double[] alibiSlopes;
    private final ThreadLocal<Scratch> scratch;

    /**
     * @param keys per layer, the cache's keys as a host buffer
     * @param values per layer, the cache's values
     * @param capacity per layer, the cache's slots
     * @param alibiSlopes per query head, or null without ALiBi
     */
    public HostAttention(int numHeads, int numKvHeads, int headDim, FloatBuffer[] keys, FloatBuffer[] values,
            int[] capacity, double[] alibiSlopes) {
        this.numHeads = numHeads;
        this.numKvHeads = numKvHeads;
        this.headDim = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.keys = keys.clone();
        this.values = values.clone();
        this.capacity = capacity.clone();
        this.alibiSlopes = alibiSlopes == null ? null : alibiSlopes.clone();
        int largest = 0;
        for (int c : capacity) {
            largest = Math.max(largest, c);
        }
        int slots = largest;
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(slots, headDim));
    }

    /** Attention over {@code cache}'s host memory. */
    public static HostAttention over(HostKvCache cache, int numHeads, int numKvHeads, int headDim,
            double[] alibiSlopes) {
        int layers = cache.numLayers();
        FloatBuffer[] keys = new FloatBuffer[layers];
        FloatBuffer[] values = new FloatBuffer[layers];
        int[] capacity = new int[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = cache.keys(l);
            values[l] = cache.values(l);
            capacity[l] = cache.capacity(l);
        }
        return new HostAttention(numHeads, numKvHeads, headDim, keys, values, capacity, alibiSlopes);
    }

    /**
     * Writes the {@code n} rows' keys and values ({@code qkv} as {@link #attend} takes it) into their
     * slots, without attending: what {@link #attend} does first, and early exit's state propagation.
     */
    public void store(int layer, float[] qkv, int n, int[] sequences, int[] slots, int[] firstVisible) {
        int width = (numHeads + 2 * numKvHeads) * headDim;
        int cap = capacity[layer];
        FloatBuffer k = keys[layer];
        FloatBuffer v = values[layer];
        for (int i = 0; i < n; i++) {
            if (slots[i] < 0 || slots[i] >= cap || firstVisible[sequences[i]] > slots[i]) {
                throw new IllegalStateException("layer " + layer + ": slot " + slots[i] + " outside [first visible "
                        + firstVisible[sequences[i]] + ", capacity " + cap + ")");
            }
            for (int g = 0; g < numKvHeads; g++) {
                int at = ((sequences[i] * numKvHeads + g) * cap + slots[i]) * headDim;
                k.put(at, qkv, i * width + (numHeads + g) * headDim, headDim);
                v.put(at, qkv, i * width + (numHeads + numKvHeads + g) * headDim, headDim);
            }
        }
    }

    /**
     * Writes the {@code n} rows' keys and values, then attends: {@code qkv [n, (heads + 2 kvHeads) * headDim]}
     * (queries and keys already rotated) to {@code out [n, heads * headDim]}.
     */
    public void attend(int layer, float[] qkv, int n, int[] sequences, int[] slots, int[] firstVisible, float[] out) {
        store(layer, qkv, n, sequences, slots, firstVisible);
        int width = (numHeads + 2 * numKvHeads) * headDim;
        // runs of consecutive rows of one sequence: the blocks
        int[] runStart = new int[n + 1];
        int runs = 0;
        long macs = 0;
        for (int i = 0; i < n; i++) {
            if (i == 0 || sequences[i] != sequences[i - 1]) {
                runStart[runs++] = i;
            }
            macs += (long) (slots[i] - firstVisible[sequences[i]] + 1) * numHeads * headDim;
        }
        runStart[runs] = n;
        int items = runs * numKvHeads;
        boolean inPlace = NativeAttention.available() && keys[layer].isDirect() && values[layer].isDirect();
        Block block = new Block(layer, qkv, width, runStart, sequences, slots, firstVisible, out, inPlace);
        if (macs >= (inPlace ? NATIVE_PARALLEL_MIN_MACS : PARALLEL_MIN_MACS) && items > 1) {
            IntStream.range(0, items).parallel().forEach(block::attend);
        } else {
            for (int item = 0; item < items; item++) {
                block.attend(item);
            }
        }
    }

    /** Per-thread Java arrays: one block of keys and values, scores, bias and one head's output. */
    private static final class Scratch {
        final float[] keyBlock;
        final float[] valueBlock;
        final float[] weights;
        final float[] bias;
        final float[] sum;

        Scratch(int slots, int headDim) {
            keyBlock = new float[slots * headDim];
            valueBlock = new float[slots * headDim];
            weights = new float[slots];
            bias = new float[slots];
            sum = new float[headDim];
        }
    }

    /** One call's shared arguments; {@link #attend(int)} does one (run of rows, key/value head) block. */
    private final class Block {
        private final int layer;
        private final float[] qkv;
        private final int width;
        private final int[] runStart;
        private final int[] sequences;
        private final int[] slots;
        private final int[] firstVisible;
        private final float[] out;
        /** Whether the native kernel reads the cache in place (else the block is copied for the Java loop). */
        private final boolean inPlace;

        Block(int layer, float[] qkv, int width, int[] runStart, int[] sequences, int[] slots, int[] firstVisible,
                float[] out, boolean inPlace) {
            this.inPlace = inPlace;
            this.layer = layer;
            this.qkv = qkv;
            this.width = width;
            this.runStart = runStart;
            this.sequences = sequences;
            this.slots = slots;
            this.firstVisible = firstVisible;
            this.out = out;
        }

        void attend(int item) {
            int run = item / numKvHeads;
            int g = item % numKvHeads;
            int firstRow = runStart[run];
            int endRow = runStart[run + 1];
            int sequence = sequences[firstRow];
            int first = firstVisible[sequence];
            int last = first;
            for (int i = firstRow; i < endRow; i++) {
                last = Math.max(last, slots[i]);
            }
            int count = last - first + 1;
            Scratch s = scratch.get();
            int at = ((sequence * numKvHeads + g) * capacity[layer] + first) * headDim;
            if (!inPlace) {
                keys[layer].get(at, s.keyBlock, 0, count * headDim);
                values[layer].get(at, s.valueBlock, 0, count * headDim);
            }
            int groups = numHeads / numKvHeads;
            for (int i = firstRow; i < endRow; i++) {
                int visible = slots[i] - first + 1;
                for (int q = 0; q < groups; q++) {
                    int head = g * groups + q;
                    float[] bias = null;
                    if (alibiSlopes != null) {
                        bias = s.bias;
                        for (int t = 0; t < visible; t++) {
                            bias[t] = (float) (alibiSlopes[head] * t);
                        }
                    }
                    if (inPlace) {
                        NativeAttention.attend(keys[layer], values[layer], at, visible, headDim, qkv,
                                i * width + head * headDim, bias, scale, s.weights, out, (i * numHeads + head) * headDim);
                    } else {
                        HeadAttention.attend(qkv, i * width + head * headDim, headDim, s.keyBlock, s.valueBlock, bias,
                                0, s.weights, s.sum, scale, visible);
                        System.arraycopy(s.sum, 0, out, (i * numHeads + head) * headDim, headDim);
                    }
                }
            }
        }
    }
}
