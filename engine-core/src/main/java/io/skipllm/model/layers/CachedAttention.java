package io.skipllm.model.layers;

import io.skipllm.model.ForwardPass;
import java.nio.FloatBuffer;
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
 * <p>Prefill attends over the prompt's fresh keys and values; a decode step attends over the whole
 * cache capacity of the layer, with unfilled and padding slots masked by the bias. Reading the full
 * capacity keeps every operand contiguous and the op count per step fixed.
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
     * @param queriesAndKeys {@code [B * S, heads + kvHeads, headDim]}, contiguous, positions already applied
     * @param values {@code [B * S, kvHeads * headDim]}
     * @return the attention output {@code [B * S, heads * headDim]} (a new array), ready for the output projection
     */
    public INDArray attend(int layer, INDArray queriesAndKeys, INDArray values, ForwardPass pass) {
        int b = pass.batchSize();
        int s = pass.tokensPerRow();
        int groups = numHeads / numKvHeads;
        INDArray q = s == 1 ? decodeQueriesOnHost(layer, queriesAndKeys, values, pass) : null;
        INDArray keys;
        INDArray vals;
        if (q != null) {
            keys = pass.cache().keys(layer);
            vals = pass.cache().values(layer);
            INDArray context = attendOnHost(q, keys, vals, pass.bias());
            if (context != null) {
                return context;
            }
        } else {
            INDArray qk = queriesAndKeys.reshape('c', true, b, s, numHeads + numKvHeads, headDim);
            INDArray[] kv = store(layer, qk, values, pass);
            keys = pass.prefill() ? kv[0] : pass.cache().keys(layer);
            vals = pass.prefill() ? kv[1] : pass.cache().values(layer);
            // queries as [B, kvHeads, groups, S, headDim], scaled once here instead of scaling the scores
            q = Nd4j.createUninitialized(DataType.FLOAT, b, numKvHeads, groups, s, headDim);
            q.assign(qk.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, numHeads), NDArrayIndex.all())
                    .reshape('c', true, b, s, numKvHeads, groups, headDim).permute(0, 2, 3, 1, 4));
            q.muli(scale);
        }
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
     * attention runs as Java loops: ND4J's batched matmuls, bias add and softmax cost ~0.8 ms per layer
     * in op overhead whatever the size, the loops ~1 ns per multiply-add. Above it (long caches, large
     * batches) ND4J's kernels win.
     */
    static final long HOST_ATTENTION_MAX_MACS = 1L << 20;

    /**
     * Attention of one query per row over the layer's cache, on the host: {@code q [B, kvHeads, groups,
     * 1, headDim]} (already scaled), the bias broadcastable to {@code [B, kvHeads, groups, 1, slots]}.
     * Slots the bias hides (unfilled or padding) are skipped, not just zeroed. Returns the context as
     * {@code [B, heads * headDim]}, or null when the sizes or arrays call for the ND4J path.
     */
    private INDArray attendOnHost(INDArray q, INDArray keys, INDArray vals, INDArray bias) {
        int b = (int) q.size(0);
        int slots = (int) keys.size(2);
        FloatBuffer biasValues = HostArrays.floats(bias);
        if ((long) b * numHeads * slots * headDim > HOST_ATTENTION_MAX_MACS || biasValues == null || bias.rank() != 5
                || bias.size(4) != slots || bias.size(3) != 1) {
            return null;
        }
        long[] biasShape = bias.shape();
        long[] target = {b, numKvHeads, numHeads / numKvHeads, 1, slots};
        for (int d = 0; d < 5; d++) {
            if (biasShape[d] != 1 && biasShape[d] != target[d]) {
                return null;
            }
        }
        // broadcast strides of the packed bias: 0 along its unit dimensions
        long[] biasStride = new long[5];
        long stride = 1;
        for (int d = 4; d >= 0; d--) {
            biasStride[d] = biasShape[d] == 1 ? 0 : stride;
            stride *= biasShape[d];
        }
        FloatBuffer queries = HostArrays.floats(q);
        FloatBuffer keyCache = HostArrays.floats(keys);
        FloatBuffer valueCache = HostArrays.floats(vals);
        INDArray context = Nd4j.createUninitialized(DataType.FLOAT, b, (long) numHeads * headDim);
        FloatBuffer out = HostArrays.floats(context);
        if (out == null) {
            return null;
        }
        int groups = numHeads / numKvHeads;
        float[] weights = new float[slots];
        for (int row = 0; row < b; row++) {
            for (int h = 0; h < numHeads; h++) {
                int kv = h / groups;
                int queryAt = (row * numHeads + h) * headDim;
                int cacheAt = (row * numKvHeads + kv) * slots * headDim;
                int biasAt = (int) (row * biasStride[0] + kv * biasStride[1] + (h % groups) * biasStride[2]);
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t < slots; t++) {
                    float add = biasValues.get(biasAt + (int) (t * biasStride[4]));
                    if (add <= MASKED / 2) {
                        weights[t] = Float.NEGATIVE_INFINITY;
                        continue;
                    }
                    int keyAt = cacheAt + t * headDim;
                    float dot0 = 0;
                    float dot1 = 0;
                    for (int d = 0; d < headDim; d += 2) {
                        dot0 += queries.get(queryAt + d) * keyCache.get(keyAt + d);
                        dot1 += queries.get(queryAt + d + 1) * keyCache.get(keyAt + d + 1);
                    }
                    weights[t] = dot0 + dot1 + add;
                    max = Math.max(max, weights[t]);
                }
                double sum = 0;
                for (int t = 0; t < slots; t++) {
                    float e = weights[t] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(weights[t] - max);
                    weights[t] = e;
                    sum += e;
                }
                float inverse = (float) (1.0 / sum);
                int outAt = (row * numHeads + h) * headDim;
                for (int d = 0; d < headDim; d++) {
                    out.put(outAt + d, 0f);
                }
                for (int t = 0; t < slots; t++) {
                    float p = weights[t] * inverse;
                    if (p == 0f) {
                        continue;
                    }
                    int valueAt = cacheAt + t * headDim;
                    for (int d = 0; d < headDim; d++) {
                        out.put(outAt + d, out.get(outAt + d) + p * valueCache.get(valueAt + d));
                    }
                }
            }
        }
        return context;
    }

    /**
     * The decode step's bookkeeping as one Java pass over host memory (see {@link HostArrays}): writes
     * each row's new key and value into the layer's cache slot and returns the scaled queries as
     * {@code [B, kvHeads, groups, 1, headDim]}. With one token per row these are plain copies (the ND4J
     * path spends 6 op calls and 2 temporaries on them). Null when the arrays are not on the host.
     */
    private INDArray decodeQueriesOnHost(int layer, INDArray queriesAndKeys, INDArray values, ForwardPass pass) {
        int b = pass.batchSize();
        INDArray keys = pass.cache().keys(layer);
        INDArray vals = pass.cache().values(layer);
        FloatBuffer qk = HostArrays.floats(queriesAndKeys);
        FloatBuffer v = HostArrays.floats(values);
        FloatBuffer keyCache = HostArrays.floats(keys);
        FloatBuffer valueCache = HostArrays.floats(vals);
        long rowWidth = (long) (numHeads + numKvHeads) * headDim;
        if (qk == null || v == null || keyCache == null || valueCache == null || pass.prefill()
                || qk.capacity() != b * rowWidth || v.capacity() != (long) b * numKvHeads * headDim
                || keys.rank() != 4 || keys.size(0) != b || keys.size(1) != numKvHeads || keys.size(3) != headDim
                || !java.util.Arrays.equals(keys.shape(), vals.shape())) {
            return null;
        }
        int capacity = (int) keys.size(2);
        int slot = pass.slot();
        if (slot < 0 || slot >= capacity) {
            throw new IllegalStateException("layer " + layer + ": slot " + slot + " outside its capacity " + capacity);
        }
        INDArray q = Nd4j.createUninitialized(DataType.FLOAT, b, numKvHeads, numHeads / numKvHeads, 1, headDim);
        FloatBuffer queries = HostArrays.floats(q);
        if (queries == null) {
            return null;
        }
        float scaleF = (float) scale;
        for (int row = 0; row < b; row++) {
            int source = (int) (row * rowWidth);
            // query head h goes to (kvHead, group) = (h / groups, h % groups): the same order in memory
            for (int i = 0; i < numHeads * headDim; i++) {
                queries.put(row * numHeads * headDim + i, qk.get(source + i) * scaleF);
            }
            for (int kv = 0; kv < numKvHeads; kv++) {
                int cacheAt = ((row * numKvHeads + kv) * capacity + slot) * headDim;
                int keyAt = source + (numHeads + kv) * headDim;
                int valueAt = (row * numKvHeads + kv) * headDim;
                for (int d = 0; d < headDim; d++) {
                    keyCache.put(cacheAt + d, qk.get(keyAt + d));
                    valueCache.put(cacheAt + d, v.get(valueAt + d));
                }
            }
        }
        return q;
    }

    /**
     * Writes this call's keys and values to the layer's cache without attending (early exit's state
     * propagation), with the same layout as {@link #attend}.
     */
    public void storeOnly(int layer, INDArray queriesAndKeys, INDArray values, ForwardPass pass) {
        store(layer, queriesAndKeys.reshape('c', true, pass.batchSize(), pass.tokensPerRow(), numHeads + numKvHeads,
                headDim), values, pass);
    }

    /** Keys and values rearranged to the cache's {@code [B, kvHeads, S, headDim]} and written at the pass's slot. */
    private INDArray[] store(int layer, INDArray qk, INDArray values, ForwardPass pass) {
        int b = pass.batchSize();
        int s = pass.tokensPerRow();
        INDArray k = Nd4j.createUninitialized(DataType.FLOAT, b, numKvHeads, s, headDim);
        k.assign(qk.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(numHeads, numHeads + numKvHeads),
                NDArrayIndex.all()).permute(0, 2, 1, 3));
        INDArray v = Nd4j.createUninitialized(DataType.FLOAT, b, numKvHeads, s, headDim);
        v.assign(values.reshape('c', true, b, s, numKvHeads, headDim).permute(0, 2, 1, 3));
        pass.cache().write(layer, pass.slot(), k, v);
        return new INDArray[] {k, v};
    }
}
