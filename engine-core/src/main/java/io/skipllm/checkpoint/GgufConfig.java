package io.skipllm.checkpoint;

import io.skipllm.model.LlamaConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The configuration of a GGUF file's model, from its metadata ({@code general.architecture} and the
 * {@code ARCH.*} keys llama.cpp writes), as the same {@link LlamaConfig} a config.json gives. Architectures
 * {@code llama} (which Mistral files use too) and {@code qwen2}; anything the engine would compute
 * differently from llama.cpp (RoPE scaling, partial rotary, mixture of experts, other architectures) is
 * refused by name rather than run wrong.
 */
final class GgufConfig {

    private GgufConfig() {
    }

    static LlamaConfig parse(GgufFile f) {
        String arch = f.string("general.architecture")
                .orElseThrow(() -> f.error("general.architecture", "is missing; every GGUF model file has it"));
        SupportedArchitecture architecture = switch (arch) {
            case "llama" -> SupportedArchitecture.LLAMA;
            case "qwen2" -> SupportedArchitecture.QWEN2;
            default -> throw f.error("general.architecture", "is '" + arch
                    + "'; skipllm runs GGUF architectures llama (LLaMA, Mistral) and qwen2");
        };
        Optional<Long> experts = f.integer(arch + ".expert_count");
        if (experts.isPresent() && experts.get() > 0) {
            throw f.error(arch + ".expert_count", "is " + experts.get()
                    + ": mixture-of-experts models (Mixtral) are not supported");
        }
        String scaling = f.string(arch + ".rope.scaling.type").orElse("none");
        if (!scaling.equals("none")) {
            throw f.error(arch + ".rope.scaling.type", "is '" + scaling
                    + "', but RoPE scaling is not supported; only plain rotary embeddings are");
        }
        if (f.tensors().containsKey("rope_freqs.weight")) {
            throw new CheckpointException(f.path() + ": tensor 'rope_freqs.weight' scales the rotary frequencies "
                    + "(LLaMA 3.1-style RoPE scaling), which is not supported");
        }
        int layers = required(f, arch + ".block_count");
        int hidden = required(f, arch + ".embedding_length");
        int intermediate = required(f, arch + ".feed_forward_length");
        int heads = required(f, arch + ".attention.head_count");
        int kvHeads = f.positiveInt(arch + ".attention.head_count_kv").orElse(heads);
        if (heads % kvHeads != 0) {
            throw f.error(arch + ".attention.head_count_kv", "(" + kvHeads + ") must divide "
                    + arch + ".attention.head_count (" + heads + ")");
        }
        Optional<Integer> keyLength = f.positiveInt(arch + ".attention.key_length");
        if (keyLength.isEmpty() && hidden % heads != 0) {
            throw f.error(arch + ".embedding_length", "(" + hidden + ") must be divisible by the head count ("
                    + heads + ") when attention.key_length is not given");
        }
        int headDim = keyLength.orElse(hidden / heads);
        int valueLength = f.positiveInt(arch + ".attention.value_length").orElse(headDim);
        if (valueLength != headDim) {
            throw f.error(arch + ".attention.value_length", "(" + valueLength + ") differs from the key length ("
                    + headDim + "), which is not supported");
        }
        if (headDim % 2 != 0 || (long) (heads + 2L * kvHeads) * headDim > Integer.MAX_VALUE) {
            throw f.error(arch + ".attention.head_count", "gives head size " + headDim
                    + "; rotary embeddings need an even head size");
        }
        int ropeDims = f.positiveInt(arch + ".rope.dimension_count").orElse(headDim);
        if (ropeDims != headDim) {
            throw f.error(arch + ".rope.dimension_count", "is " + ropeDims + ", but the head size is " + headDim
                    + ": partial rotary embeddings are not supported");
        }
        int context = required(f, arch + ".context_length");
        double eps = f.real(arch + ".attention.layer_norm_rms_epsilon")
                .orElseThrow(() -> f.error(arch + ".attention.layer_norm_rms_epsilon", "is missing"));
        if (!(eps > 0) || !Double.isFinite(eps)) {
            throw f.error(arch + ".attention.layer_norm_rms_epsilon", "is " + eps + ", expected a positive number");
        }
        double theta = f.real(arch + ".rope.freq_base").orElse(10000.0);
        if (!(theta > 0) || !Double.isFinite(theta)) {
            throw f.error(arch + ".rope.freq_base", "is " + theta + ", expected a positive number");
        }
        GgufFile.Tensor embedding = f.tensors().get("token_embd.weight");
        if (embedding == null) {
            throw new CheckpointException(f.path() + ": tensor 'token_embd.weight' (the token embeddings) not found");
        }
        if (embedding.dims().length != 2 || embedding.dims()[1] > Integer.MAX_VALUE) {
            throw new CheckpointException(f.path() + ": tensor 'token_embd.weight' must be a matrix of at most 2^31 - 1 rows");
        }
        int vocab = f.positiveInt(arch + ".vocab_size").orElse((int) embedding.dims()[1]);
        boolean tied = !f.tensors().containsKey("output.weight");
        boolean bias = architecture == SupportedArchitecture.QWEN2 || f.tensors().containsKey("blk.0.attn_q.bias");
        return new LlamaConfig(architecture.hfName, hidden, intermediate, layers, heads, kvHeads, headDim, vocab,
                context, eps, theta, tied, bias, "silu", eosIds(f, vocab), tokenId(f, "tokenizer.ggml.bos_token_id", vocab),
                tokenId(f, "tokenizer.ggml.padding_token_id", vocab));
    }

    /** Whether llama.cpp's converter permuted this architecture's q/k rows (see {@link GgufTensorStore}). */
    static boolean permutesRotaryRows(LlamaConfig config) {
        return config.architecture().equals(SupportedArchitecture.LLAMA.hfName);
    }

    /** Where generation stops: EOS and, when the file names them, end-of-turn and end-of-message tokens. */
    private static List<Integer> eosIds(GgufFile f, int vocab) {
        Set<Integer> ids = new LinkedHashSet<>();
        for (String key : List.of("tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                "tokenizer.ggml.eom_token_id")) {
            Integer id = tokenId(f, key, vocab);
            if (id != null) {
                ids.add(id);
            }
        }
        return new ArrayList<>(ids);
    }

    private static Integer tokenId(GgufFile f, String key, int vocab) {
        Optional<Long> id = f.integer(key);
        if (id.isEmpty()) {
            return null;
        }
        if (id.get() < 0 || id.get() >= vocab) {
            throw f.error(key, "is " + id.get() + ", outside the vocabulary [0, " + vocab + ")");
        }
        return id.get().intValue();
    }

    private static int required(GgufFile f, String key) {
        return f.positiveInt(key).orElseThrow(() -> f.error(key, "is missing"));
    }
}
