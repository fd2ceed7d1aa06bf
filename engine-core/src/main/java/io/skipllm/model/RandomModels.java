package io.skipllm.model;

import io.skipllm.model.bloom.BloomLayerWeights;
import io.skipllm.model.bloom.BloomModel;
import io.skipllm.model.bloom.BloomWeights;
import io.skipllm.model.llama.LlamaLayerWeights;
import io.skipllm.model.llama.LlamaModel;
import io.skipllm.model.llama.LlamaWeights;
import java.util.ArrayList;
import java.util.List;
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

    /** A LLaMA-family network; {@code attentionBias} adds Qwen2-style q/k/v biases. */
    public static LlamaModel llama(LlamaConfig config, long seed) {
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
                        normal(rng, std, qkvRows, h),
                        config.attentionBias() ? normal(rng, 0.1, qkvRows) : null,
                        normal(rng, std, h, (long) config.numHeads() * d),
                        norm(rng, h),
                        normal(rng, std, 2L * config.intermediateSize(), h),
                        normal(rng, 1.0 / Math.sqrt(config.intermediateSize()), h, config.intermediateSize())));
            }
            INDArray embed = normal(rng, 1.0, config.vocabSize(), h);
            INDArray head = config.tieWordEmbeddings() ? embed : normal(rng, std, config.vocabSize(), h);
            return new LlamaModel(new LlamaWeights(config, embed, layers, norm(rng, h), head));
        }
    }

    public static BloomModel bloom(BloomConfig config, long seed) {
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
            int h = config.hiddenSize();
            double std = 1.0 / Math.sqrt(h);
            List<BloomLayerWeights> layers = new ArrayList<>();
            for (int l = 0; l < config.numLayers(); l++) {
                layers.add(new BloomLayerWeights(
                        norm(rng, h), normal(rng, 0.1, h),
                        normal(rng, std, 3L * h, h), normal(rng, 0.1, 3L * h),
                        normal(rng, std, h, h), normal(rng, 0.1, h),
                        norm(rng, h), normal(rng, 0.1, h),
                        normal(rng, std, 4L * h, h), normal(rng, 0.1, 4L * h),
                        normal(rng, 0.5 * std, h, 4L * h), normal(rng, 0.1, h)));
            }
            return new BloomModel(new BloomWeights(config, normal(rng, 1.0, config.vocabSize(), h),
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
