package io.skipllm.model.llama;

import io.skipllm.checkpoint.TensorStore;
import io.skipllm.model.LlamaConfig;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * All weights of a LLaMA-family checkpoint, mirroring its tensor names, in the compute dtype.
 *
 * @param embedTokens {@code model.embed_tokens.weight}, [vocab, hidden]
 * @param layers {@code model.layers.i.*}, one entry per layer
 * @param norm {@code model.norm.weight}, [hidden]
 * @param lmHead {@code lm_head.weight}, [vocab, hidden]; the same array as {@code embedTokens} when
 *     the config ties embeddings
 */
public record LlamaWeights(
        LlamaConfig config,
        INDArray embedTokens,
        List<LlamaLayerWeights> layers,
        INDArray norm,
        INDArray lmHead) {

    public LlamaWeights {
        layers = List.copyOf(layers);
    }

    /**
     * Reads every tensor {@code config} implies from {@code tensors}, checking each shape, and fuses q/k/v
     * and gate/up (see {@link LlamaLayerWeights}). With tied embeddings {@code lmHead} is the
     * {@code embedTokens} array itself and a stored {@code lm_head.weight} is not read.
     *
     * @throws io.skipllm.checkpoint.CheckpointException when a tensor is missing, has another shape or an
     *     unsupported dtype; all tensors are checked before any is read, and nothing partial is returned
     */
    public static LlamaWeights load(LlamaConfig config, TensorStore tensors) {
        return LlamaWeightsLoader.load(config, tensors);
    }
}
