package io.skipllm.model.bloom;

import io.skipllm.checkpoint.LoadedTensors;
import io.skipllm.checkpoint.TensorRequest;
import io.skipllm.checkpoint.TensorStore;
import io.skipllm.model.BloomConfig;
import io.skipllm.model.LoadOptions;
import io.skipllm.model.WeightLoading;
import io.skipllm.weights.Weight;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads a BLOOM checkpoint's tensors and reorders {@code query_key_value} from Hugging Face's per-head
 * interleaving to the q-block, k-block, v-block layout of {@link BloomLayerWeights}.
 *
 * <p>BLOOM checkpoints come in two spellings: {@code transformer.word_embeddings.weight} (saved from
 * {@code BloomForCausalLM}) and {@code word_embeddings.weight} (saved from {@code BloomModel}); the
 * loader detects which by the embedding's name and reads the rest with the same prefix. A stored
 * {@code lm_head.weight} is ignored: BLOOM always ties the head to the embeddings.
 */
final class BloomWeightsLoader {

    static final String PREFIX = "transformer.";

    private final BloomConfig config;
    private final String prefix;

    private BloomWeightsLoader(BloomConfig config, String prefix) {
        this.config = config;
        this.prefix = prefix;
    }

    static BloomWeights load(BloomConfig config, TensorStore tensors, LoadOptions options) {
        String prefix = tensors.contains(PREFIX + "word_embeddings.weight") ? PREFIX : "";
        return new BloomWeightsLoader(config, prefix).load(tensors, options);
    }

    private String name(String suffix) {
        return prefix + suffix;
    }

    private String layer(int i, String suffix) {
        return prefix + "h." + i + "." + suffix;
    }

    private BloomWeights load(TensorStore tensors, LoadOptions options) {
        TensorRequest small = smallTensors(tensors);
        WeightLoading matrices = matrices(tensors, options);
        matrices.validate();
        small.validate();
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces();
                LoadedTensors loaded = small.load();
                WeightLoading.Loaded weights = matrices.load()) {
            List<BloomLayerWeights> layers = new ArrayList<>();
            for (int i = 0; i < config.numLayers(); i++) {
                layers.add(layer(loaded, weights, i));
            }
            BloomWeights result = new BloomWeights(config, weights.get(name("word_embeddings.weight")),
                    loaded.get(name("word_embeddings_layernorm.weight")),
                    loaded.get(name("word_embeddings_layernorm.bias")), layers, loaded.get(name("ln_f.weight")),
                    loaded.get(name("ln_f.bias")));
            loaded.keep();
            weights.keep();
            return result;
        }
    }

    /** Norms and biases: float32 arrays. */
    private TensorRequest smallTensors(TensorStore tensors) {
        long h = config.hiddenSize();
        TensorRequest request = new TensorRequest(tensors)
                .add(name("word_embeddings_layernorm.weight"), h)
                .add(name("word_embeddings_layernorm.bias"), h)
                .add(name("ln_f.weight"), h)
                .add(name("ln_f.bias"), h);
        for (int i = 0; i < config.numLayers(); i++) {
            request.add(layer(i, "input_layernorm.weight"), h)
                    .add(layer(i, "input_layernorm.bias"), h)
                    .add(layer(i, "self_attention.query_key_value.bias"), 3 * h)
                    .add(layer(i, "self_attention.dense.bias"), h)
                    .add(layer(i, "post_attention_layernorm.weight"), h)
                    .add(layer(i, "post_attention_layernorm.bias"), h)
                    .add(layer(i, "mlp.dense_h_to_4h.bias"), config.intermediateSize())
                    .add(layer(i, "mlp.dense_4h_to_h.bias"), h);
        }
        return request;
    }

    /** The matrices, in the format the options ask for. */
    private WeightLoading matrices(TensorStore tensors, LoadOptions options) {
        long h = config.hiddenSize();
        long ff = config.intermediateSize();
        WeightLoading request = new WeightLoading(tensors, options).add(name("word_embeddings.weight"), config.vocabSize(), h);
        for (int i = 0; i < config.numLayers(); i++) {
            request.add(layer(i, "self_attention.query_key_value.weight"), 3 * h, h)
                    .add(layer(i, "self_attention.dense.weight"), h, h)
                    .add(layer(i, "mlp.dense_h_to_4h.weight"), ff, h)
                    .add(layer(i, "mlp.dense_4h_to_h.weight"), h, ff);
        }
        return request;
    }

    private BloomLayerWeights layer(LoadedTensors t, WeightLoading.Loaded w, int i) {
        return new BloomLayerWeights(
                t.get(layer(i, "input_layernorm.weight")), t.get(layer(i, "input_layernorm.bias")),
                w.replace(layer(i, "self_attention.query_key_value.weight"), this::qkvToBlocks),
                t.transform(layer(i, "self_attention.query_key_value.bias"), this::qkvToBlocks),
                w.get(layer(i, "self_attention.dense.weight")), t.get(layer(i, "self_attention.dense.bias")),
                t.get(layer(i, "post_attention_layernorm.weight")), t.get(layer(i, "post_attention_layernorm.bias")),
                w.get(layer(i, "mlp.dense_h_to_4h.weight")), t.get(layer(i, "mlp.dense_h_to_4h.bias")),
                w.get(layer(i, "mlp.dense_4h_to_h.weight")), t.get(layer(i, "mlp.dense_4h_to_h.bias")));
    }

    /** {@link #qkvToBlocks(INDArray)} for a weight matrix in any format (a reordered copy). */
    private Weight qkvToBlocks(Weight fused) {
        if (!fused.onHost()) {
            return Weight.ofArray(qkvToBlocks(fused.array()));
        }
        int heads = config.numHeads();
        int headDim = config.headDim();
        // block row (part, head, d) comes from interleaved row (head, part, d)
        return fused.reorderRows(r -> {
            int part = r / (heads * headDim);
            int head = (r / headDim) % heads;
            return (head * 3 + part) * headDim + r % headDim;
        });
    }

    /**
     * HF's fused rows (or bias entries) are ordered {@code [heads, 3, headDim]}: head 0's q, k, v, then
     * head 1's. Swapping the first two axes gives {@code [3, heads, headDim]}: every head's q rows, then
     * every head's k rows, then v. Works for the weight ({@code [3H, H]}) and the bias ({@code [3H]}).
     */
    INDArray qkvToBlocks(INDArray fused) {
        long heads = config.numHeads();
        long headDim = config.headDim();
        boolean matrix = fused.rank() == 2;
        long[] interleaved = matrix ? new long[] {heads, 3, headDim, fused.columns()} : new long[] {heads, 3, headDim};
        long[] blocked = matrix ? new long[] {3, heads, headDim, fused.columns()} : new long[] {3, heads, headDim};
        int[] swap = matrix ? new int[] {1, 0, 2, 3} : new int[] {1, 0, 2};
        INDArray out = Nd4j.createUninitializedDetached(fused.dataType(), 'c', fused.shape());
        out.reshape('c', blocked).assign(fused.reshape('c', interleaved).permute(swap));
        return out;
    }
}
