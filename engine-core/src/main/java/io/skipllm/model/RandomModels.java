package io.skipllm.model;

import io.skipllm.BadInputException;
import io.skipllm.backend.ForwardBackend;
import io.skipllm.model.bloom.BloomLayerWeights;
import io.skipllm.model.bloom.BloomModel;
import io.skipllm.model.bloom.BloomWeights;
import io.skipllm.model.llama.LlamaLayerWeights;
import io.skipllm.model.llama.LlamaModel;
import io.skipllm.model.llama.LlamaWeights;
import io.skipllm.weights.HalfFloats;
import io.skipllm.weights.Weight;
import io.skipllm.weights.WeightFormat;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Models with seeded random weights, built in memory: benchmarks measure real shapes without a
 * download, and tests check the decoder's invariants (prefill equals step-by-step decoding, a prompt
 * gives the same logits alone or in a batch) on any shape.
 */
public final class RandomModels {

    private RandomModels() {
    }

    /**
     * A model from a {@code random:} spec (CONTRACTS.md), e.g.
     * {@code random:llama,layers=32,hidden=1024,heads=16,kv_heads=16,intermediate=2816,vocab=32000,seed=1}
     * or {@code random:bloom,layers=30,hidden=1024,heads=16,vocab=32000,seed=1}. Unspecified keys take
     * the defaults of those examples; {@code random:qwen2,...} adds q/k/v biases.
     */
    public static CausalLm fromSpec(String spec) {
        return fromSpec(spec, LoadOptions.stored());
    }

    /**
     * As {@link #fromSpec(String)}, with the weights held as {@code options} say: {@code dtype=} in the
     * spec is the "stored" dtype (values are rounded to it, as a checkpoint in that dtype would hold
     * them), {@code options} the in-memory format (default: the dtype). The memory the model needs is
     * checked before anything is allocated ({@link LoadMemory}).
     */
    public static CausalLm fromSpec(String spec, LoadOptions options) {
        String body = spec.startsWith("random:") ? spec.substring("random:".length()) : spec;
        String[] parts = body.split(",");
        String family = parts[0].trim().toLowerCase(Locale.ROOT);
        Map<String, Integer> values = new HashMap<>(Map.of("layers", 32, "hidden", 1024,
                "heads", 16, "vocab", 32000, "seed", 1, "intermediate", 2816, "context", 4096));
        Set<String> known = Set.of("layers", "hidden", "heads", "kv_heads", "intermediate", "vocab",
                "seed", "context", "dtype");
        WeightFormat dtype = WeightFormat.F32;
        for (int i = 1; i < parts.length; i++) {
            String[] kv = parts[i].split("=", 2);
            String key = kv[0].trim();
            if (key.equals("dtype") && kv.length == 2) {
                dtype = WeightFormat.parse(kv[1]);
                if (dtype.quantized()) {
                    throw new BadInputException("random model spec '" + spec + "': dtype is how a checkpoint stores "
                            + "weights (f32, bf16 or f16); use --weights " + dtype.label() + " to quantize at load");
                }
                continue;
            }
            if (kv.length != 2 || !known.contains(key)) {
                throw new BadInputException("random model spec '" + spec + "': expected key=value with keys "
                        + new TreeSet<>(known) + ", got '" + parts[i] + "'");
            }
            try {
                int v = Integer.parseInt(kv[1].trim());
                if (v < 1) {
                    throw new NumberFormatException();
                }
                values.put(key, v);
            } catch (NumberFormatException e) {
                throw new BadInputException("random model spec '" + spec + "': " + key
                        + " must be a positive integer, got '" + kv[1] + "'");
            }
        }
        int hidden = values.get("hidden");
        int heads = values.get("heads");
        int kvHeads = values.getOrDefault("kv_heads", heads);
        if (hidden % heads != 0 || heads % kvHeads != 0 || (hidden / heads) % 2 != 0) {
            throw new BadInputException("random model spec '" + spec
                    + "': hidden must be divisible by heads into an even head size, and heads by kv_heads");
        }
        long seed = values.get("seed");
        ModelConfig config = switch (family) {
            case "llama", "qwen2" -> new LlamaConfig(family.equals("llama") ? "LlamaForCausalLM" : "Qwen2ForCausalLM",
                    hidden, values.get("intermediate"), values.get("layers"), heads, kvHeads, hidden / heads,
                    values.get("vocab"), values.get("context"), 1e-6, 10000.0, false, family.equals("qwen2"), "silu",
                    List.of(2), 1, null);
            case "bloom" -> new BloomConfig("BloomForCausalLM", hidden, values.get("layers"), heads,
                    values.get("vocab"), values.get("context"), 1e-5, List.of(2), 1, null);
            default -> throw new BadInputException("random model spec '" + spec
                    + "': unknown family '" + family + "'; expected llama, qwen2 or bloom");
        };
        ForwardBackend backend = options.backend();
        WeightFormat inMemory = backend == ForwardBackend.HOST ? options.format().orElse(dtype) : WeightFormat.F32;
        LoadMemory.requireFits("random model " + spec, ModelShapes.of(config, dtype), inMemory);
        Matrices matrices = new Matrices(dtype, inMemory, backend);
        return config instanceof LlamaConfig llama ? llama(llama, seed, matrices) : bloom((BloomConfig) config, seed, matrices);
    }

    /**
     * Makes weight matrices from random float32 arrays: values rounded to the "stored" dtype, then held in
     * the in-memory format (host weights for the host forward pass, float32 ND4J arrays for the nd4j one).
     */
    private record Matrices(WeightFormat stored, WeightFormat inMemory, ForwardBackend backend) {
        /** Float32 weights on the default forward pass. */
        static Matrices f32() {
            return new Matrices(WeightFormat.F32, WeightFormat.F32, ForwardBackend.defaultHere());
        }

        Weight of(INDArray values) {
            if (backend == ForwardBackend.ND4J) {
                return Weight.ofArray(values);
            }
            int rows = (int) values.rows();
            int cols = (int) values.columns();
            float[] source = values.data().asFloat();
            Weight weight = Weight.convert((r, into) -> {
                System.arraycopy(source, r * cols, into, 0, cols);
                for (int i = 0; i < cols; i++) {
                    into[i] = roundTo(stored, into[i]);
                }
            }, rows, cols, inMemory);
            values.close();
            return weight;
        }

        private static float roundTo(WeightFormat dtype, float v) {
            return switch (dtype) {
                case BF16 -> HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(v));
                case F16 -> HalfFloats.f16ToFloat(HalfFloats.floatToF16(v));
                default -> v;
            };
        }
    }

    /** A LLaMA-family network; {@code attentionBias} adds Qwen2-style q/k/v biases. */
    public static LlamaModel llama(LlamaConfig config, long seed, ForwardBackend backend) {
        return llama(config, seed, new Matrices(WeightFormat.F32, WeightFormat.F32, backend));
    }

    public static LlamaModel llama(LlamaConfig config, long seed) {
        return llama(config, seed, Matrices.f32());
    }

    private static LlamaModel llama(LlamaConfig config, long seed, Matrices m) {
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
            int h = config.hiddenSize();
            int d = config.headDim();
            long qkvRows = (long) (config.numHeads() + 2 * config.numKvHeads()) * d;
            double std = 1.0 / Math.sqrt(h);
            List<LlamaLayerWeights> layers = new ArrayList<>();
            for (int l = 0; l < config.numLayers(); l++) {
                layers.add(new LlamaLayerWeights(
                        norm(rng, h),
                        m.of(normal(rng, std, qkvRows, h)),
                        config.attentionBias() ? normal(rng, 0.1, qkvRows) : null,
                        m.of(normal(rng, std, h, (long) config.numHeads() * d)),
                        norm(rng, h),
                        m.of(normal(rng, std, 2L * config.intermediateSize(), h)),
                        m.of(normal(rng, 1.0 / Math.sqrt(config.intermediateSize()), h, config.intermediateSize()))));
            }
            Weight embed = m.of(normal(rng, 1.0, config.vocabSize(), h));
            Weight head = config.tieWordEmbeddings() ? embed : m.of(normal(rng, std, config.vocabSize(), h));
            return new LlamaModel(new LlamaWeights(config, embed, layers, norm(rng, h), head));
        }
    }

    public static BloomModel bloom(BloomConfig config, long seed, ForwardBackend backend) {
        return bloom(config, seed, new Matrices(WeightFormat.F32, WeightFormat.F32, backend));
    }

    public static BloomModel bloom(BloomConfig config, long seed) {
        return bloom(config, seed, Matrices.f32());
    }

    private static BloomModel bloom(BloomConfig config, long seed, Matrices m) {
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
            int h = config.hiddenSize();
            double std = 1.0 / Math.sqrt(h);
            List<BloomLayerWeights> layers = new ArrayList<>();
            for (int l = 0; l < config.numLayers(); l++) {
                layers.add(new BloomLayerWeights(
                        norm(rng, h), normal(rng, 0.1, h),
                        m.of(normal(rng, std, 3L * h, h)), normal(rng, 0.1, 3L * h),
                        m.of(normal(rng, std, h, h)), normal(rng, 0.1, h),
                        norm(rng, h), normal(rng, 0.1, h),
                        m.of(normal(rng, std, 4L * h, h)), normal(rng, 0.1, 4L * h),
                        m.of(normal(rng, 0.5 * std, h, 4L * h)), normal(rng, 0.1, h)));
            }
            // embeddings at Hugging Face's initializer_range (0.02): the embedding LayerNorm makes the
            // hidden states independent of it, but the head is tied, and at std 1 its logits were so
            // large that every layer's prediction was the input token with probability 1.0
            return new BloomModel(new BloomWeights(config, m.of(normal(rng, 0.02, config.vocabSize(), h)),
                    norm(rng, h), normal(rng, 0.1, h), layers, norm(rng, h), normal(rng, 0.1, h)));
        }
    }

    private static INDArray normal(Random rng, double std, long... shape) {
        return Nd4j.randn(0.0, std, shape, rng).castTo(DataType.FLOAT);
    }

    /** Norm weights around 1, as trained models have them. */
    private static INDArray norm(Random rng, int size) {
        return normal(rng, 0.1, size).addi(1.0);
    }
}
