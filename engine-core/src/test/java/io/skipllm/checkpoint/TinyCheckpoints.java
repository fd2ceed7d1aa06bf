package io.skipllm.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Writes tiny LLaMA and BLOOM checkpoints in Hugging Face layout, with seeded random F32 weights. */
final class TinyCheckpoints {

    static final int HIDDEN = 8;
    static final int HEADS = 2;
    static final int KV_HEADS = 1;
    static final int HEAD_DIM = HIDDEN / HEADS;
    static final int LAYERS = 2;
    static final int VOCAB = 11;
    static final int INTERMEDIATE = 12;

    /** Tensor name to (shape, values); the caller may edit it before {@link #write}. */
    static final class Tensors {
        final Map<String, long[]> shapes = new LinkedHashMap<>();
        final Map<String, float[]> values = new LinkedHashMap<>();
        private final Random random;

        Tensors(long seed) {
            random = new Random(seed);
        }

        Tensors random(String name, long... shape) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            float[] v = new float[(int) n];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) random.nextGaussian();
            }
            return put(name, v, shape);
        }

        Tensors put(String name, float[] v, long... shape) {
            shapes.put(name, shape);
            values.put(name, v);
            return this;
        }

        Tensors remove(String name) {
            shapes.remove(name);
            values.remove(name);
            return this;
        }

        SafetensorsWriter writer() {
            SafetensorsWriter w = new SafetensorsWriter();
            shapes.forEach((name, shape) -> w.f32(name, values.get(name), shape));
            return w;
        }
    }

    private TinyCheckpoints() {
    }

    static String llamaConfig(boolean tied, boolean qwen2) {
        return """
                {"architectures": ["%s"], "hidden_size": %d, "intermediate_size": %d, "num_hidden_layers": %d,
                 "num_attention_heads": %d, "num_key_value_heads": %d, "vocab_size": %d,
                 "tie_word_embeddings": %s, "eos_token_id": 2, "bos_token_id": 1}
                """.formatted(qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM", HIDDEN, INTERMEDIATE, LAYERS, HEADS,
                KV_HEADS, VOCAB, tied);
    }

    static Tensors llamaTensors(boolean tied, boolean bias, long seed) {
        Tensors t = new Tensors(seed).random("model.embed_tokens.weight", VOCAB, HIDDEN)
                .random("model.norm.weight", HIDDEN);
        if (!tied) {
            t.random("lm_head.weight", VOCAB, HIDDEN);
        }
        for (int i = 0; i < LAYERS; i++) {
            String p = "model.layers." + i + ".";
            t.random(p + "input_layernorm.weight", HIDDEN)
                    .random(p + "self_attn.q_proj.weight", HEADS * HEAD_DIM, HIDDEN)
                    .random(p + "self_attn.k_proj.weight", KV_HEADS * HEAD_DIM, HIDDEN)
                    .random(p + "self_attn.v_proj.weight", KV_HEADS * HEAD_DIM, HIDDEN)
                    .random(p + "self_attn.o_proj.weight", HIDDEN, HEADS * HEAD_DIM)
                    .random(p + "post_attention_layernorm.weight", HIDDEN)
                    .random(p + "mlp.gate_proj.weight", INTERMEDIATE, HIDDEN)
                    .random(p + "mlp.up_proj.weight", INTERMEDIATE, HIDDEN)
                    .random(p + "mlp.down_proj.weight", HIDDEN, INTERMEDIATE);
            if (bias) {
                t.random(p + "self_attn.q_proj.bias", HEADS * HEAD_DIM)
                        .random(p + "self_attn.k_proj.bias", KV_HEADS * HEAD_DIM)
                        .random(p + "self_attn.v_proj.bias", KV_HEADS * HEAD_DIM);
            }
        }
        return t;
    }

    static String bloomConfig() {
        return """
                {"architectures": ["BloomForCausalLM"], "n_head": %d, "n_layer": %d, "hidden_size": %d,
                 "vocab_size": %d, "layer_norm_epsilon": 1e-5, "eos_token_id": 2, "bos_token_id": 1}
                """.formatted(HEADS, LAYERS, HIDDEN, VOCAB);
    }

    static Tensors bloomTensors(String prefix, long seed) {
        Tensors t = new Tensors(seed).random(prefix + "word_embeddings.weight", VOCAB, HIDDEN)
                .random(prefix + "word_embeddings_layernorm.weight", HIDDEN)
                .random(prefix + "word_embeddings_layernorm.bias", HIDDEN)
                .random(prefix + "ln_f.weight", HIDDEN)
                .random(prefix + "ln_f.bias", HIDDEN);
        for (int i = 0; i < LAYERS; i++) {
            String p = prefix + "h." + i + ".";
            t.random(p + "input_layernorm.weight", HIDDEN).random(p + "input_layernorm.bias", HIDDEN)
                    .random(p + "self_attention.query_key_value.weight", 3 * HIDDEN, HIDDEN)
                    .random(p + "self_attention.query_key_value.bias", 3 * HIDDEN)
                    .random(p + "self_attention.dense.weight", HIDDEN, HIDDEN)
                    .random(p + "self_attention.dense.bias", HIDDEN)
                    .random(p + "post_attention_layernorm.weight", HIDDEN)
                    .random(p + "post_attention_layernorm.bias", HIDDEN)
                    .random(p + "mlp.dense_h_to_4h.weight", 4 * HIDDEN, HIDDEN)
                    .random(p + "mlp.dense_h_to_4h.bias", 4 * HIDDEN)
                    .random(p + "mlp.dense_4h_to_h.weight", HIDDEN, 4 * HIDDEN)
                    .random(p + "mlp.dense_4h_to_h.bias", HIDDEN);
        }
        return t;
    }

    /** config.json plus model.safetensors in {@code dir}. */
    static Path write(Path dir, String config, Tensors tensors) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config);
        tensors.writer().write(dir.resolve("model.safetensors"));
        return dir;
    }
}
