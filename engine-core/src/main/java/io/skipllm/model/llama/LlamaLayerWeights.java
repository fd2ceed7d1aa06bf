package io.skipllm.model.llama;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One LLaMA-family decoder layer, in the compute dtype (FLOAT), every matrix in Hugging Face's
 * {@code [out, in]} layout. The q/k/v and gate/up projections are fused at load time (rows of q, then
 * k, then v; rows of gate, then up) so that a decode step makes one matmul for each pair instead of
 * two or three: per-op overhead dominates small decode steps on ND4J.
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
        INDArray qkvProj,
        INDArray qkvBias,
        INDArray oProj,
        INDArray postAttentionLayernorm,
        INDArray gateUpProj,
        INDArray downProj) {
}
