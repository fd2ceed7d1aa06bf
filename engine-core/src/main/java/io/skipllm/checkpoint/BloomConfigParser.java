package io.skipllm.checkpoint;

import static io.skipllm.checkpoint.ConfigParser.requirePositive;
import static io.skipllm.checkpoint.ConfigParser.requirePositiveFinite;

import io.skipllm.model.BloomConfig;

/**
 * config.json keys of BLOOM. Its configs predate Hugging Face's naming conventions, so each size has
 * two spellings ({@code n_head} / {@code num_attention_heads}, {@code n_layer} /
 * {@code num_hidden_layers}, {@code hidden_size} / {@code n_embed}); either is accepted, and a config
 * that gives both with different values is refused.
 */
final class BloomConfigParser {

    private BloomConfigParser() {
    }

    static BloomConfig parse(JsonFields f, SupportedArchitecture architecture) {
        if (f.optionalBoolean("apply_residual_connection_post_layernorm", false)) {
            throw f.error("apply_residual_connection_post_layernorm",
                    "is true, but only the standard pre-layernorm residual (false) is supported");
        }
        int heads = f.requiredIntAlias("n_head", "num_attention_heads");
        int layers = f.requiredIntAlias("n_layer", "num_hidden_layers");
        int hidden = f.requiredIntAlias("hidden_size", "n_embed");
        int vocab = f.requiredInt("vocab_size");
        requirePositive(f, "n_head", heads);
        requirePositive(f, "n_layer", layers);
        requirePositive(f, "hidden_size", hidden);
        requirePositive(f, "vocab_size", vocab);
        if (hidden > Integer.MAX_VALUE / 4) {
            throw f.error("hidden_size", "(" + hidden + ") is too large: the MLP width 4 x hidden_size overflows");
        }
        if (hidden % heads != 0) {
            throw f.error("hidden_size", "(" + hidden + ") must be divisible by n_head (" + heads + ")");
        }
        int maxPositions;
        if (f.has("seq_length")) {
            maxPositions = f.requiredInt("seq_length");
            requirePositive(f, "seq_length", maxPositions);
        } else {
            maxPositions = f.optionalInt("max_position_embeddings", 2048);
            requirePositive(f, "max_position_embeddings", maxPositions);
        }
        double eps = f.optionalDouble("layer_norm_epsilon", 1e-5);
        requirePositiveFinite(f, "layer_norm_epsilon", eps);
        return new BloomConfig(architecture.hfName, hidden, layers, heads, vocab, maxPositions, eps,
                f.tokenIds("eos_token_id"), f.optionalTokenId("bos_token_id"), f.optionalTokenId("pad_token_id"));
    }
}
