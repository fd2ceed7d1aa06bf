package io.skipllm.model.nd4j;

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
 * layer's cache, with unfilled and padding slots masked by the bias. It reads the whole capacity, which
 * keeps every operand contiguous and the op count per step fixed. This is the nd4j forward pass's
 * attention; the host pass has its own ({@link HostAttention}, over a visible slot range).
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
