package io.skipllm.model.nd4j;

import io.skipllm.kvcache.Nd4jKvCache;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What every layer of one call of the nd4j forward pass shares: the batch geometry, the positions of its tokens, the
 * request's cache and the additive attention bias. A forward call is either a prefill (all prompt
 * tokens of every row, all layers) or a decode step (one token per row, retained layers only).
 *
 * @param batchSize rows B
 * @param tokensPerRow S: the padded prompt length for prefill, 1 for a decode step
 * @param positions position of each token, row-major {@code [B * S]}, counting real tokens only
 * @param cache the request's static KV cache
 * @param slot the cache slot the first token of each row is written to (0 for prefill)
 * @param prefill true for the prompt pass: attention then reads the freshly computed keys and values
 *     (slots 0..S-1) instead of the whole cache capacity
 * @param bias additive attention bias broadcastable to {@code [B, kvHeads, groups, S, keys]}: the
 *     padding/causal/unfilled-slot mask, plus ALiBi for BLOOM
 * @param rotary cos/sin tables for the positions, built once per pass; null for architectures without
 *     rotary embeddings
 */
public record ForwardPass(
        int batchSize,
        int tokensPerRow,
        int[] positions,
        Nd4jKvCache cache,
        int slot,
        boolean prefill,
        INDArray bias,
        RotaryEmbedding.Tables rotary) {

    public int tokens() {
        return batchSize * tokensPerRow;
    }
}
