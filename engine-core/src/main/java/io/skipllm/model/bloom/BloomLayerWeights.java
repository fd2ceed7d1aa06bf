package io.skipllm.model.bloom;

import io.skipllm.weights.Weight;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One BLOOM block, matrices in the model's weight format, norms and biases in float32, matrices in Hugging Face's {@code [out, in]} layout.
 *
 * <p>BLOOM stores {@code self_attention.query_key_value} interleaved per head ({@code [heads, 3,
 * headDim]} along the output dimension). The loader reorders it to the block layout the shared
 * attention code uses: all query rows, then all key rows, then all value rows. Same for the bias.
 *
 * @param inputLayernormWeight {@code h.i.input_layernorm.weight}, [hidden]
 * @param inputLayernormBias {@code h.i.input_layernorm.bias}, [hidden]
 * @param qkvWeight reordered {@code self_attention.query_key_value.weight}, [3 * hidden, hidden]
 * @param qkvBias reordered {@code self_attention.query_key_value.bias}, [3 * hidden]
 * @param denseWeight {@code self_attention.dense.weight}, [hidden, hidden]
 * @param denseBias {@code self_attention.dense.bias}, [hidden]
 * @param postAttentionLayernormWeight {@code post_attention_layernorm.weight}, [hidden]
 * @param postAttentionLayernormBias {@code post_attention_layernorm.bias}, [hidden]
 * @param fcWeight {@code mlp.dense_h_to_4h.weight}, [4 * hidden, hidden]
 * @param fcBias {@code mlp.dense_h_to_4h.bias}, [4 * hidden]
 * @param projWeight {@code mlp.dense_4h_to_h.weight}, [hidden, 4 * hidden]
 * @param projBias {@code mlp.dense_4h_to_h.bias}, [hidden]
 */
public record BloomLayerWeights(
        INDArray inputLayernormWeight,
        INDArray inputLayernormBias,
        Weight qkvWeight,
        INDArray qkvBias,
        Weight denseWeight,
        INDArray denseBias,
        INDArray postAttentionLayernormWeight,
        INDArray postAttentionLayernormBias,
        Weight fcWeight,
        INDArray fcBias,
        Weight projWeight,
        INDArray projBias) {

    /** Bytes a step reads from this block: the matrices in their format, norms and biases in float32. */
    public long bytes() {
        long small = inputLayernormWeight.length() + inputLayernormBias.length() + qkvBias.length()
                + denseBias.length() + postAttentionLayernormWeight.length() + postAttentionLayernormBias.length()
                + fcBias.length() + projBias.length();
        return qkvWeight.bytes() + denseWeight.bytes() + fcWeight.bytes() + projWeight.bytes() + small * Float.BYTES;
    }
}
