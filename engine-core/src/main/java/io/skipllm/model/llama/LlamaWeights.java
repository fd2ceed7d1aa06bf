package io.skipllm.model.llama;

import io.skipllm.checkpoint.TensorStore;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.LoadOptions;
import io.skipllm.model.NativeArrays;
import io.skipllm.weights.Weight;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * All weights of a LLaMA-family checkpoint, mirroring its tensor names.
 *
 * @param embedTokens {@code model.embed_tokens.weight}, [vocab, hidden]
 * @param layers {@code model.layers.i.*}, one entry per layer
 * @param norm {@code model.norm.weight}, [hidden]
 * @param lmHead {@code lm_head.weight}, [vocab, hidden]; the same weight as {@code embedTokens} when
 *     the config ties embeddings
 */
public record LlamaWeights(
        LlamaConfig config,
        Weight embedTokens,
        List<LlamaLayerWeights> layers,
        INDArray norm,
        Weight lmHead) {

    public LlamaWeights {
        layers = List.copyOf(layers);
    }

    /**
     * Reads every tensor {@code config} implies from {@code tensors}, checking each shape, and fuses q/k/v
     * and gate/up (see {@link LlamaLayerWeights}). With tied embeddings {@code lmHead} is the
     * {@code embedTokens} weight itself and a stored {@code lm_head.weight} is not read.
     *
     * @throws io.skipllm.checkpoint.CheckpointException when a tensor is missing, has another shape or an
     *     unsupported dtype; all tensors are checked before any is read, and nothing partial is returned
     */
    public static LlamaWeights load(LlamaConfig config, TensorStore tensors) {
        return load(config, tensors, LoadOptions.stored());
    }

    /** As {@link #load(LlamaConfig, TensorStore)}, matrices in the format {@code options} ask for. */
    public static LlamaWeights load(LlamaConfig config, TensorStore tensors, LoadOptions options) {
        return LlamaWeightsLoader.load(config, tensors, options);
    }

    /** Frees every weight and array (a tied head once). */
    void close() {
        List<Weight> matrices = new ArrayList<>(List.of(embedTokens, lmHead));
        List<INDArray> arrays = new ArrayList<>(List.of(norm));
        for (LlamaLayerWeights w : layers) {
            matrices.addAll(Arrays.asList(w.qkvProj(), w.oProj(), w.gateUpProj(), w.downProj()));
            arrays.addAll(Arrays.asList(w.inputLayernorm(), w.qkvBias(), w.postAttentionLayernorm()));
        }
        matrices.forEach(Weight::close);
        NativeArrays.close(arrays);
    }
}
