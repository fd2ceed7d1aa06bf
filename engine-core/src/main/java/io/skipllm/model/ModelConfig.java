package io.skipllm.model;

import java.util.List;

/**
 * Typed view of a checkpoint's {@code config.json}: what every architecture has in common. One
 * record per architecture family implements it ({@link LlamaConfig}, {@link BloomConfig}).
 */
public sealed interface ModelConfig permits LlamaConfig, BloomConfig {

    /** The {@code architectures[0]} value from config.json, e.g. {@code LlamaForCausalLM}. */
    String architecture();

    int numLayers();

    int hiddenSize();

    int numHeads();

    /** Key/value heads; equals {@link #numHeads()} without grouped-query attention. */
    int numKvHeads();

    default int headDim() {
        return hiddenSize() / numHeads();
    }

    int vocabSize();

    /** Longest sequence (prompt + response) the model accepts. */
    int maxPositions();

    /** Token ids that end generation ({@code eos_token_id}, a number or a list); may be empty. */
    List<Integer> eosTokenIds();

    /** {@code bos_token_id}, or null when the config has none. */
    Integer bosTokenId();

    /** {@code pad_token_id}, or null when the config has none. */
    Integer padTokenId();
}
