package io.skipllm.model.llama;

import io.skipllm.weights.Weight;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One LLaMA-family decoder layer, every matrix in Hugging Face's {@code [out, in]} layout, in whatever
 * {@link io.skipllm.weights.WeightFormat} the model was loaded with; norms and biases in float32. The
 * q/k/v and gate/up projections are fused at load time (rows of q, then k, then v; rows of gate, then
 * up; zero-copy when the weights stay as stored) so that a step makes one matmul for each group and
 * streams one long run of weights.
 *
 * @param inputLayernorm {@code model.layers.i.input_layernorm.weight}, [hidden]
 * @param qkvProj {@code self_attn.{q,k,v}_proj.weight} stacked, [(heads + 2 kvHeads) * headDim, hidden]
 * @param qkvBias {@code self_attn.{q,k,v}_proj.bias} stacked, [(heads + 2 kvHeads) * headDim], or null
 * @param oProj {@code self_attn.o_proj.weight}, [hidden, heads * headDim]
 * @param postAttentionLayernorm {@code post_attention_layernorm.weight}, [hidden]
 * @param gateUpProj {@code mlp.{gate,up}_proj.weight} stacked, [2 * intermediate, hidden]
 * @param downProj {@code mlp.down_proj.weight}, [hidden, intermediate]
 */
public record LlamaLayerWeights(
        INDArray inputLayernorm,
        Weight qkvProj,
        INDArray qkvBias,
        Weight oProj,
        INDArray postAttentionLayernorm,
        Weight gateUpProj,
        Weight downProj) {

    /** Bytes a step reads from this layer: the matrices in their format, norms and bias in float32. */
    public long bytes() {
        long small = inputLayernorm.length() + postAttentionLayernorm.length() + (qkvBias == null ? 0 : qkvBias.length());
        return qkvProj.bytes() + oProj.bytes() + gateUpProj.bytes() + downProj.bytes() + small * Float.BYTES;
    }
}
