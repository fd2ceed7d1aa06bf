package io.skipllm.model.layers;

import io.skipllm.model.ForwardPass;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Scaled dot-product attention with grouped-query heads over the request's static KV cache, shared by
 * every architecture. Query head {@code h} reads key/value head {@code h / groups}, as Hugging Face's
 * {@code repeat_kv} arranges them; grouping the queries as {@code [B, kvHeads, groups * S, headDim]}
 * lets one batched matmul serve each key/value head without repeating the cache.
 *
 * <p>Prefill attends over the prompt's fresh keys and values; a decode step attends over the
 * layer's cache, with unfilled and padding slots masked by the bias. With ND4J ops it reads the whole
 * capacity, which keeps every operand contiguous and the op count per step fixed; the host loops of
 * the CPU backend read only the slots some query sees.
 */
public final class CachedAttention {

    /** Added to attention scores of hidden slots; large enough that exp() underflows to exactly 0. */
    public static final float MASKED = -1e9f;

    private final int numHeads;
    private final int numKvHeads;
    private final int headDim;
    private final double scale;

    public CachedAttention(int numHeads, int numKvHeads, int headDim) {
        this.numHeads = numHeads;
        this.numKvHeads = numKvHeads;
        this.headDim = headDim;
        this.scale = 1.0 / Math.sqrt(headDim);
    }

    /**
     * Stores this call's keys and values in the layer's cache, then attends.
     *
     * @param qkv {@code [B * S, heads + 2 kvHeads, headDim]}, contiguous: each token's query heads, then
     *     its key heads, then its value heads (the output of one fused q/k/v matmul), positions already
     *     applied to queries and keys
     * @return the attention output {@code [B * S, heads * headDim]} (a new array), ready for the output projection
     */
    public INDArray attend(int layer, INDArray qkv, ForwardPass pass) {
        int b = pass.batchSize();
        int s = pass.tokensPerRow();
        if (s == 1 && !pass.prefill()) {
            INDArray context = attendDecodeOnHost(layer, qkv, pass);
            if (context != null) {
                return context;
            }
        }
        int groups = numHeads / numKvHeads;
        INDArray tokens = qkv.reshape('c', true, b, s, numHeads + 2L * numKvHeads, headDim);
        INDArray[] kv = store(layer, tokens, pass);
        INDArray keys = pass.prefill() ? kv[0] : pass.cache().keys(layer);
        INDArray vals = pass.prefill() ? kv[1] : pass.cache().values(layer);
        // queries as [B, kvHeads, groups, S, headDim], scaled once here instead of scaling the scores
        INDArray q = Nd4j.createUninitialized(DataType.FLOAT, b, numKvHeads, groups, s, headDim);
        q.assign(tokens.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, numHeads), NDArrayIndex.all())
                .reshape('c', true, b, s, numKvHeads, groups, headDim).permute(0, 2, 3, 1, 4));
        q.muli(scale);
        long keyCount = keys.size(2);

        INDArray scores = Nd4j.createUninitialized(DataType.FLOAT, b, numKvHeads, groups * s, keyCount);
        Nd4j.matmul(q.reshape('c', true, b, numKvHeads, groups * s, headDim), keys, scores, false, true, false);
        scores.reshape('c', true, b, numKvHeads, groups, s, keyCount).addi(pass.bias());
        Nd4j.exec(new SoftMax(scores, scores, 3));

        INDArray context = Nd4j.createUninitialized(DataType.FLOAT, b, numKvHeads, groups * s, headDim);
        Nd4j.matmul(scores, vals, context, false, false, false);

        if (s == 1) {
            // one token per row: [B, kvHeads, groups, 1, headDim] is already [B, heads * headDim] in memory
            return context.reshape('c', true, b, (long) numHeads * headDim);
        }
        // back to [B, S, heads * headDim] in head order kvHead * groups + group
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, (long) b * s, (long) numHeads * headDim);
        out.reshape('c', true, b, s, numKvHeads, groups, headDim)
                .assign(context.reshape('c', true, b, numKvHeads, groups, s, headDim).permute(0, 3, 1, 2, 4));
        return out;
    }

    /**
     * Below this many multiply-adds per layer (rows x heads x cache slots x head size), a decode step's
     * attention runs as Java loops. Measured against ND4J's path (batched matmuls, bias add, softmax,
     * plus 6 op calls of cache and query bookkeeping): the loops were 2.5-3.5x faster at every size
     * tried, up to 8 rows x 16 heads x 1000 slots x 64 (8M); beyond this bound, which was not
     * measured, ND4J's kernels take over.
     */
    static final long HOST_ATTENTION_MAX_MACS = 1L << 26;

    /**
     * A decode step (one token per row) as one Java pass over host memory ({@link HostArrays}): writes
     * each row's new key and value into the layer's cache slot, then attends each query head over the
     * slots the bias leaves visible (hidden ones, unfilled or padding, are skipped, not just zeroed).
     * The bias is broadcastable to {@code [B, kvHeads, groups, 1, slots]}. Returns the context
     * {@code [B, heads * headDim]}, or null, before touching anything, when the sizes or arrays call
     * for the ND4J path.
     *
     * <p>Each (row, key/value head) block of the cache is copied once into Java arrays, on which the
     * JIT's loops run several times faster than element-by-element reads of the native buffers.
     */
    private INDArray attendDecodeOnHost(int layer, INDArray qkv, ForwardPass pass) {
        int b = pass.batchSize();
        INDArray keys = pass.cache().keys(layer);
        INDArray vals = pass.cache().values(layer);
        INDArray bias = pass.bias();
        int width = (numHeads + 2 * numKvHeads) * headDim;
        FloatBuffer tokens = HostArrays.floats(qkv);
        FloatBuffer keyCache = HostArrays.floats(keys);
        FloatBuffer valueCache = HostArrays.floats(vals);
        FloatBuffer biasValues = HostArrays.floats(bias);
        long macs = (long) b * numHeads * keys.size(2) * headDim;
        if (tokens == null || keyCache == null || valueCache == null || biasValues == null
                || tokens.capacity() != (long) b * width || keys.rank() != 4 || keys.size(0) != b
                || keys.size(1) != numKvHeads || keys.size(3) != headDim || !Arrays.equals(keys.shape(), vals.shape())
                || bias.rank() != 5 || bias.size(3) != 1 || bias.size(4) != keys.size(2)
                || macs > HOST_ATTENTION_MAX_MACS) {
            return null;
        }
        int slots = (int) keys.size(2);
        int groups = numHeads / numKvHeads;
        long[] biasShape = bias.shape();
        long[] target = {b, numKvHeads, groups, 1, slots};
        for (int d = 0; d < 5; d++) {
            if (biasShape[d] != 1 && biasShape[d] != target[d]) {
                return null;
            }
        }
        INDArray context = Nd4j.createUninitialized(DataType.FLOAT, b, (long) numHeads * headDim);
        FloatBuffer out = HostArrays.floats(context);
        if (out == null) {
            return null;
        }
        int slot = pass.slot();
        if (slot < 0 || slot >= slots) {
            throw new IllegalStateException("layer " + layer + ": slot " + slot + " outside its capacity " + slots);
        }
        // broadcast strides of the packed bias: 0 along its unit dimensions
        long[] biasStride = new long[5];
        long stride = 1;
        for (int d = 4; d >= 0; d--) {
            biasStride[d] = biasShape[d] == 1 ? 0 : stride;
            stride *= biasShape[d];
        }
        HostDecodeStep step = new HostDecodeStep(tokens, keyCache, valueCache, biasValues, biasStride, out, slots, slot);
        int pairs = b * numKvHeads;
        if (macs >= PARALLEL_MIN_MACS && pairs > 1) {
            // (row, key/value head) pairs touch disjoint cache blocks and outputs: split them over the
            // common pool (the ND4J threads idle between matmuls); each pair's arithmetic is the same
            // on any thread, so results do not depend on the split
            IntStream.range(0, pairs).parallel().forEach(step::attendPair);
        } else {
            for (int pair = 0; pair < pairs; pair++) {
                step.attendPair(pair);
            }
        }
        return context;
    }

    /** Above this many multiply-adds per layer, the host attention is split over threads (~20 µs to fork). */
    static final long PARALLEL_MIN_MACS = 1L << 17;

    /** Per-thread working arrays of the host attention, grown on demand and reused across steps. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** The Java arrays one (row, key/value head) pair works in; see {@link HostDecodeStep#attendPair}. */
    private static final class Scratch {
        float[] keyBlock = new float[0];
        float[] valueBlock = new float[0];
        float[] biasRows = new float[0];
        float[] query = new float[0];
        float[] weights = new float[0];
        float[] sum = new float[0];

        /** This scratch, grown where it is smaller than a step with these sizes needs. */
        Scratch fit(int slots, int groups, int headDim) {
            if (keyBlock.length < slots * headDim) {
                keyBlock = new float[slots * headDim];
                valueBlock = new float[slots * headDim];
            }
            if (biasRows.length < groups * slots) {
                biasRows = new float[groups * slots];
            }
            if (weights.length < slots) {
                weights = new float[slots];
            }
            if (query.length < headDim) {
                query = new float[headDim];
                sum = new float[headDim];
            }
            return this;
        }
    }

    /** One decode step's attention over host memory: the buffers and geometry every (row, kv head) pair shares. */
    private final class HostDecodeStep {
        private final FloatBuffer tokens;
        private final FloatBuffer keyCache;
        private final FloatBuffer valueCache;
        private final FloatBuffer biasValues;
        private final long[] biasStride;
        private final FloatBuffer out;
        private final int slots;
        private final int slot;

        HostDecodeStep(FloatBuffer tokens, FloatBuffer keyCache, FloatBuffer valueCache, FloatBuffer biasValues,
                long[] biasStride, FloatBuffer out, int slots, int slot) {
            this.tokens = tokens;
            this.keyCache = keyCache;
            this.valueCache = valueCache;
            this.biasValues = biasValues;
            this.biasStride = biasStride;
            this.out = out;
            this.slots = slots;
            this.slot = slot;
        }

        /** Row {@code pair / kvHeads}, key/value head {@code pair % kvHeads}: cache write, then its query heads. */
        void attendPair(int pair) {
            int row = pair / numKvHeads;
            int kv = pair % numKvHeads;
            int groups = numHeads / numKvHeads;
            int width = (numHeads + 2 * numKvHeads) * headDim;
            Scratch scratch = SCRATCH.get().fit(slots, groups, headDim);
            float[] keyBlock = scratch.keyBlock;
            float[] valueBlock = scratch.valueBlock;
            float[] biasRows = scratch.biasRows;
            float[] query = scratch.query;
            float[] weights = scratch.weights;
            float[] sum = scratch.sum;
            int rowAt = row * width;
            // the bias of each query head of this key/value head, and how far into the cache any of
            // them sees: only that many slots are read (a cache sized for a long response is mostly
            // unfilled early on)
            int visible = 0;
            for (int g = 0; g < groups; g++) {
                int biasAt = (int) (row * biasStride[0] + kv * biasStride[1] + g * biasStride[2]);
                if (biasStride[4] == 1) {
                    biasValues.get(biasAt, biasRows, g * slots, slots);
                } else {
                    Arrays.fill(biasRows, g * slots, (g + 1) * slots, biasValues.get(biasAt));
                }
                for (int t = slots - 1; t >= visible; t--) {
                    if (biasRows[g * slots + t] > MASKED / 2) {
                        visible = t + 1;
                        break;
                    }
                }
            }
            int cacheAt = (row * numKvHeads + kv) * slots * headDim;
            // this token's key and value go into the cache slot first: the query attends to itself
            tokens.get(rowAt + (numHeads + kv) * headDim, query, 0, headDim);
            keyCache.put(cacheAt + slot * headDim, query, 0, headDim);
            tokens.get(rowAt + (numHeads + numKvHeads + kv) * headDim, query, 0, headDim);
            valueCache.put(cacheAt + slot * headDim, query, 0, headDim);
            keyCache.get(cacheAt, keyBlock, 0, visible * headDim);
            valueCache.get(cacheAt, valueBlock, 0, visible * headDim);
            for (int g = 0; g < groups; g++) {
                int h = kv * groups + g;
                tokens.get(rowAt + h * headDim, query, 0, headDim);
                HeadAttention.attend(query, 0, headDim, keyBlock, valueBlock, biasRows, g * slots, weights, sum, (float) scale,
                        visible);
                out.put((row * numHeads + h) * headDim, sum, 0, headDim);
            }
        }
    }

    /**
     * Writes this call's keys and values to the layer's cache without attending (early exit's state
     * propagation), with the same layout as {@link #attend}.
     */
    public void storeOnly(int layer, INDArray qkv, ForwardPass pass) {
        store(layer, qkv.reshape('c', true, pass.batchSize(), pass.tokensPerRow(), numHeads + 2L * numKvHeads, headDim),
                pass);
    }

    /**
     * Keys and values of {@code tokens [B, S, heads + 2 kvHeads, headDim]} rearranged to the cache's
     * {@code [B, kvHeads, S, headDim]} and written at the pass's slot.
     */
    private INDArray[] store(int layer, INDArray tokens, ForwardPass pass) {
        int b = pass.batchSize();
        int s = pass.tokensPerRow();
        INDArray k = Nd4j.createUninitialized(DataType.FLOAT, b, numKvHeads, s, headDim);
        k.assign(tokens.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(numHeads, numHeads + numKvHeads),
                NDArrayIndex.all()).permute(0, 2, 1, 3));
        INDArray v = Nd4j.createUninitialized(DataType.FLOAT, b, numKvHeads, s, headDim);
        v.assign(tokens.get(NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.interval(numHeads + numKvHeads, numHeads + 2L * numKvHeads), NDArrayIndex.all())
                .permute(0, 2, 1, 3));
        pass.cache().write(layer, pass.slot(), k, v);
        return new INDArray[] {k, v};
    }
}
