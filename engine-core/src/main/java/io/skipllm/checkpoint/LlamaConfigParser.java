package io.skipllm.checkpoint;

import static io.skipllm.checkpoint.ConfigParser.requirePositive;
import static io.skipllm.checkpoint.ConfigParser.requirePositiveFinite;

import io.skipllm.model.LlamaConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * config.json keys of the LLaMA family (LLaMA, Mistral, Qwen2), with Hugging Face's defaults. Keys that
 * would change the computation in ways the engine does not implement ({@code rope_scaling},
 * {@code mlp_bias}, an activation other than SiLU) are refused rather than ignored.
 */
final class LlamaConfigParser {

    private static final Logger LOG = LoggerFactory.getLogger(LlamaConfigParser.class);

    private LlamaConfigParser() {
    }

    static LlamaConfig parse(JsonFields f, SupportedArchitecture architecture) {
        if (f.has("rope_scaling")) {
            throw f.error("rope_scaling", "is set (" + JsonFields.kind(f.get("rope_scaling"))
                    + "), but RoPE scaling is not supported; only plain rotary embeddings are");
        }
        String hiddenAct = f.optionalString("hidden_act", "silu");
        if (!hiddenAct.equals("silu")) {
            throw f.error("hidden_act", "is '" + hiddenAct + "', but only 'silu' is supported");
        }
        if (f.optionalBoolean("mlp_bias", false)) {
            throw f.error("mlp_bias", "is true, but MLP biases are not supported");
        }

        int hidden = f.requiredInt("hidden_size");
        int intermediate = f.requiredInt("intermediate_size");
        int layers = f.requiredInt("num_hidden_layers");
        int heads = f.requiredInt("num_attention_heads");
        int vocab = f.requiredInt("vocab_size");
        requirePositive(f, "hidden_size", hidden);
        requirePositive(f, "intermediate_size", intermediate);
        requirePositive(f, "num_hidden_layers", layers);
        requirePositive(f, "num_attention_heads", heads);
        requirePositive(f, "vocab_size", vocab);

        int kvHeads = f.optionalInt("num_key_value_heads", heads);
        requirePositive(f, "num_key_value_heads", kvHeads);
        if (heads % kvHeads != 0) {
            throw f.error("num_key_value_heads", "(" + kvHeads + ") must divide num_attention_heads (" + heads + ")");
        }
        int headDim;
        if (f.has("head_dim")) {
            headDim = f.requiredInt("head_dim");
            requirePositive(f, "head_dim", headDim);
        } else {
            if (hidden % heads != 0) {
                throw f.error("hidden_size", "(" + hidden + ") must be divisible by num_attention_heads (" + heads
                        + ") when head_dim is not given");
            }
            headDim = hidden / heads;
        }
        if ((long) (heads + 2L * kvHeads) * headDim > Integer.MAX_VALUE) {
            throw f.error("num_attention_heads", "(" + heads + ") times the head size (" + headDim
                    + ") is too large");
        }
        if (headDim % 2 != 0) {
            throw f.error(f.has("head_dim") ? "head_dim" : "hidden_size", "gives head size " + headDim
                    + ", but rotary embeddings need an even head size");
        }

        int maxPositions = f.optionalInt("max_position_embeddings", 2048);
        requirePositive(f, "max_position_embeddings", maxPositions);
        maxPositions = capToSlidingWindow(f, architecture, maxPositions);
        double eps = f.optionalDouble("rms_norm_eps", 1e-6);
        requirePositiveFinite(f, "rms_norm_eps", eps);
        double ropeTheta = f.optionalDouble("rope_theta", 10000.0);
        requirePositiveFinite(f, "rope_theta", ropeTheta);

        boolean attentionBias = architecture == SupportedArchitecture.QWEN2 || f.optionalBoolean("attention_bias", false);
        return new LlamaConfig(architecture.hfName, hidden, intermediate, layers, heads, kvHeads, headDim, vocab,
                maxPositions, eps, ropeTheta, f.optionalBoolean("tie_word_embeddings", false), attentionBias,
                hiddenAct, f.tokenIds("eos_token_id"), f.optionalTokenId("bos_token_id"),
                f.optionalTokenId("pad_token_id"));
    }

    /**
     * Mistral (and Qwen2 with {@code use_sliding_window}) attend only to the last {@code sliding_window}
     * positions. The engine attends to all of them, which is the same computation as long as the whole
     * sequence fits in the window, so the usable context is capped at the window instead of the model
     * silently computing something else past it.
     */
    private static int capToSlidingWindow(JsonFields f, SupportedArchitecture architecture, int maxPositions) {
        boolean slides = switch (architecture) {
            case MISTRAL -> true;
            case QWEN2 -> f.optionalBoolean("use_sliding_window", false);
            default -> false;
        };
        if (!slides || !f.has("sliding_window")) {
            return maxPositions;
        }
        int window = f.requiredInt("sliding_window");
        requirePositive(f, "sliding_window", window);
        if (window < maxPositions) {
            LOG.info("{}: sliding_window {} is shorter than max_position_embeddings {}; capping the context at {}",
                    f.source(), window, maxPositions, window);
            return window;
        }
        return maxPositions;
    }
}
