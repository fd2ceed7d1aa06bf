package io.skipllm.model;

import java.util.List;

/**
 * LLaMA-family configuration: {@code LlamaForCausalLM}, {@code MistralForCausalLM},
 * {@code Qwen2ForCausalLM}. Field names mirror config.json keys.
 *
 * @param attentionBias true when q/k/v projections carry biases (Qwen2 always; LLaMA when
 *     {@code attention_bias} is set). The output projection never has a bias in these families.
 */
public record LlamaConfig(
        String architecture,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositions,
        double rmsNormEps,
        double ropeTheta,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        String hiddenAct,
        List<Integer> eosTokenIds,
        Integer bosTokenId,
        Integer padTokenId) implements ModelConfig {

    public LlamaConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
    }
}
