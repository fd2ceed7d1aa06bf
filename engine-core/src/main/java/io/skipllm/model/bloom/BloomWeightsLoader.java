package io.skipllm.model.bloom;

import io.skipllm.checkpoint.LoadedTensors;
import io.skipllm.checkpoint.TensorRequest;
import io.skipllm.checkpoint.TensorStore;
import io.skipllm.model.BloomConfig;
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

    static BloomWeights load(BloomConfig config, TensorStore tensors) {
        String prefix = tensors.contains(PREFIX + "word_embeddings.weight") ? PREFIX : "";
        return new BloomWeightsLoader(config, prefix).load(tensors);
    }

    private String name(String suffix) {
        return prefix + suffix;
    }

    private String layer(int i, String suffix) {
        return prefix + "h." + i + "." + suffix;
    }

    private BloomWeights load(TensorStore tensors) {
        TensorRequest request = request(tensors);
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces();
                LoadedTensors loaded = request.load()) {
            List<BloomLayerWeights> layers = new ArrayList<>();
            for (int i = 0; i < config.numLayers(); i++) {
                layers.add(layer(loaded, i));
            }
            BloomWeights weights = new BloomWeights(config, loaded.get(name("word_embeddings.weight")),
                    loaded.get(name("word_embeddings_layernorm.weight")),
                    loaded.get(name("word_embeddings_layernorm.bias")), layers, loaded.get(name("ln_f.weight")),
                    loaded.get(name("ln_f.bias")));
            loaded.keep();
            return weights;
        }
    }

    private TensorRequest request(TensorStore tensors) {
        long h = config.hiddenSize();
        long ff = config.intermediateSize();
        TensorRequest request = new TensorRequest(tensors)
                .add(name("word_embeddings.weight"), config.vocabSize(), h)
                .add(name("word_embeddings_layernorm.weight"), h)
                .add(name("word_embeddings_layernorm.bias"), h)
                .add(name("ln_f.weight"), h)
                .add(name("ln_f.bias"), h);
        for (int i = 0; i < config.numLayers(); i++) {
            request.add(layer(i, "input_layernorm.weight"), h)
                    .add(layer(i, "input_layernorm.bias"), h)
                    .add(layer(i, "self_attention.query_key_value.weight"), 3 * h, h)
                    .add(layer(i, "self_attention.query_key_value.bias"), 3 * h)
                    .add(layer(i, "self_attention.dense.weight"), h, h)
                    .add(layer(i, "self_attention.dense.bias"), h)
                    .add(layer(i, "post_attention_layernorm.weight"), h)
                    .add(layer(i, "post_attention_layernorm.bias"), h)
                    .add(layer(i, "mlp.dense_h_to_4h.weight"), ff, h)
                    .add(layer(i, "mlp.dense_h_to_4h.bias"), ff)
                    .add(layer(i, "mlp.dense_4h_to_h.weight"), h, ff)
                    .add(layer(i, "mlp.dense_4h_to_h.bias"), h);
        }
        return request;
    }

    private BloomLayerWeights layer(LoadedTensors t, int i) {
        return new BloomLayerWeights(
                t.get(layer(i, "input_layernorm.weight")), t.get(layer(i, "input_layernorm.bias")),
                t.transform(layer(i, "self_attention.query_key_value.weight"), this::qkvToBlocks),
                t.transform(layer(i, "self_attention.query_key_value.bias"), this::qkvToBlocks),
                t.get(layer(i, "self_attention.dense.weight")), t.get(layer(i, "self_attention.dense.bias")),
                t.get(layer(i, "post_attention_layernorm.weight")), t.get(layer(i, "post_attention_layernorm.bias")),
                t.get(layer(i, "mlp.dense_h_to_4h.weight")), t.get(layer(i, "mlp.dense_h_to_4h.bias")),
                t.get(layer(i, "mlp.dense_4h_to_h.weight")), t.get(layer(i, "mlp.dense_4h_to_h.bias")));
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
