package io.skipllm.model.bloom;

import io.skipllm.checkpoint.TensorStore;
import io.skipllm.model.BloomConfig;
import io.skipllm.model.LoadOptions;
import io.skipllm.weights.Weight;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * All weights of a BLOOM checkpoint, mirroring its tensor names (with or without the
 * {@code transformer.} prefix), matrices in the model's weight format. The LM head is the word embedding matrix.
 *
 * @param wordEmbeddings {@code word_embeddings.weight}, [vocab, hidden]
 * @param embeddingLayernormWeight {@code word_embeddings_layernorm.weight}, [hidden]
 * @param embeddingLayernormBias {@code word_embeddings_layernorm.bias}, [hidden]
 * @param layers {@code h.i.*}, one entry per block
 * @param finalLayernormWeight {@code ln_f.weight}, [hidden]
 * @param finalLayernormBias {@code ln_f.bias}, [hidden]
 */
public record BloomWeights(
        BloomConfig config,
        Weight wordEmbeddings,
        INDArray embeddingLayernormWeight,
        INDArray embeddingLayernormBias,
        List<BloomLayerWeights> layers,
        INDArray finalLayernormWeight,
        INDArray finalLayernormBias) {

    public BloomWeights {
        layers = List.copyOf(layers);
    }

    /**
     * Reads every tensor {@code config} implies from {@code tensors} (names with or without the
     * {@code transformer.} prefix), checking each shape, and reorders {@code query_key_value} to the q, k,
     * v block layout (see {@link BloomLayerWeights}).
     *
     * @throws io.skipllm.checkpoint.CheckpointException when a tensor is missing, has another shape or an
     *     unsupported dtype; all tensors are checked before any is read, and nothing partial is returned
     */
    public static BloomWeights load(BloomConfig config, TensorStore tensors) {
        return load(config, tensors, LoadOptions.stored());
    }

    /** As {@link #load(BloomConfig, TensorStore)}, matrices in the format {@code options} ask for. */
    public static BloomWeights load(BloomConfig config, TensorStore tensors, LoadOptions options) {
        return BloomWeightsLoader.load(config, tensors, options);
    }
}
