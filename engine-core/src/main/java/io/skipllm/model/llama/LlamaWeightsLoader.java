package io.skipllm.model.llama;

import io.skipllm.checkpoint.CheckpointException;
import io.skipllm.checkpoint.LoadedTensors;
import io.skipllm.checkpoint.TensorRequest;
import io.skipllm.checkpoint.TensorStore;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.LoadOptions;
import io.skipllm.model.WeightLoading;
import io.skipllm.weights.Weight;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads a LLaMA-family checkpoint's tensors (Hugging Face names, shapes implied by the config) and
 * fuses q/k/v and gate/up row-wise into the layout {@link LlamaLayerWeights} documents. Matrices go
 * through {@link WeightLoading} (the in-memory format); norms and biases are read as float32.
 */
final class LlamaWeightsLoader {

    static final String EMBED_TOKENS = "model.embed_tokens.weight";
    static final String NORM = "model.norm.weight";
    static final String LM_HEAD = "lm_head.weight";

    private final LlamaConfig config;
    private final long hidden;
    private final long qRows;
    private final long kvRows;

    private LlamaWeightsLoader(LlamaConfig config) {
        this.config = config;
        this.hidden = config.hiddenSize();
        this.qRows = (long) config.numHeads() * config.headDim();
        this.kvRows = (long) config.numKvHeads() * config.headDim();
    }

    static LlamaWeights load(LlamaConfig config, TensorStore tensors, LoadOptions options) {
        return new LlamaWeightsLoader(config).load(tensors, options);
    }

    static String layer(int i, String suffix) {
        return "model.layers." + i + "." + suffix;
    }

    private LlamaWeights load(TensorStore tensors, LoadOptions options) {
        TensorRequest small = smallTensors(tensors);
        WeightLoading matrices = new WeightLoading(tensors, options);
        requestMatrices(tensors, matrices);
        matrices.validate();
        small.validate();
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces();
                LoadedTensors loaded = small.load();
                WeightLoading.Loaded weights = matrices.load()) {
            List<LlamaLayerWeights> layers = new ArrayList<>();
            for (int i = 0; i < config.numLayers(); i++) {
                layers.add(layer(loaded, weights, i));
            }
            Weight embed = weights.get(EMBED_TOKENS);
            Weight head = config.tieWordEmbeddings() ? embed : weights.get(LM_HEAD);
            LlamaWeights result = new LlamaWeights(config, embed, layers, loaded.get(NORM), head);
            loaded.keep();
            weights.keep();
            return result;
        }
    }

    /** Norms and biases: float32 arrays. */
    private TensorRequest smallTensors(TensorStore tensors) {
        TensorRequest request = new TensorRequest(tensors).add(NORM, hidden);
        for (int i = 0; i < config.numLayers(); i++) {
            request.add(layer(i, "input_layernorm.weight"), hidden)
                    .add(layer(i, "post_attention_layernorm.weight"), hidden);
            if (config.attentionBias()) {
                request.add(layer(i, "self_attn.q_proj.bias"), qRows)
                        .add(layer(i, "self_attn.k_proj.bias"), kvRows)
                        .add(layer(i, "self_attn.v_proj.bias"), kvRows);
            }
        }
        return request;
    }

    /** Every matrix the config implies, with its shape. */
    private void requestMatrices(TensorStore tensors, WeightLoading request) {
        long vocab = config.vocabSize();
        long intermediate = config.intermediateSize();
        request.add(EMBED_TOKENS, vocab, hidden);
        if (!config.tieWordEmbeddings()) {
            if (!tensors.contains(LM_HEAD)) {
                throw new CheckpointException(tensors.location() + ": tensor '" + LM_HEAD + "' not found, and the "
                        + "config does not tie it to " + EMBED_TOKENS + " (tie_word_embeddings is false)");
            }
            request.add(LM_HEAD, vocab, hidden);
        }
        for (int i = 0; i < config.numLayers(); i++) {
            request.add(layer(i, "self_attn.q_proj.weight"), qRows, hidden)
                    .add(layer(i, "self_attn.k_proj.weight"), kvRows, hidden)
                    .add(layer(i, "self_attn.v_proj.weight"), kvRows, hidden)
                    .add(layer(i, "self_attn.o_proj.weight"), hidden, qRows)
                    .add(layer(i, "mlp.gate_proj.weight"), intermediate, hidden)
                    .add(layer(i, "mlp.up_proj.weight"), intermediate, hidden)
                    .add(layer(i, "mlp.down_proj.weight"), hidden, intermediate);
        }
    }

    private LlamaLayerWeights layer(LoadedTensors t, WeightLoading.Loaded w, int i) {
        Weight qkv = w.stack(layer(i, "self_attn.q_proj.weight"), layer(i, "self_attn.k_proj.weight"),
                layer(i, "self_attn.v_proj.weight"));
        INDArray qkvBias = config.attentionBias()
                ? t.concatRows(layer(i, "self_attn.q_proj.bias"), layer(i, "self_attn.k_proj.bias"),
                        layer(i, "self_attn.v_proj.bias"))
                : null;
        Weight gateUp = w.stack(layer(i, "mlp.gate_proj.weight"), layer(i, "mlp.up_proj.weight"));
        return new LlamaLayerWeights(t.get(layer(i, "input_layernorm.weight")), qkv, qkvBias,
                w.get(layer(i, "self_attn.o_proj.weight")), t.get(layer(i, "post_attention_layernorm.weight")),
                gateUp, w.get(layer(i, "mlp.down_proj.weight")));
    }
}
