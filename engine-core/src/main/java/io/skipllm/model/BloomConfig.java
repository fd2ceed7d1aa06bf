package io.skipllm.model;

import java.util.List;

/**
 * BLOOM configuration ({@code BloomForCausalLM}). BLOOM uses ALiBi instead of learned or rotary
 * positions, multi-head attention (no GQA), GELU-tanh MLP of width 4 x hidden, and always ties the
 * LM head to the word embeddings.
 */
public record BloomConfig(
        String architecture,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int vocabSize,
        int maxPositions,
        double layerNormEps,
        List<Integer> eosTokenIds,
        Integer bosTokenId,
        Integer padTokenId) implements ModelConfig {

    public BloomConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    @Override
    public int numKvHeads() {
        return numHeads;
    }

    public int intermediateSize() {
        return 4 * hiddenSize;
    }
}
