package io.skipllm.model;

import io.skipllm.weights.WeightFormat;
import java.util.ArrayList;
import java.util.List;

/**
 * The weight tensors a configuration implies, as {@link LoadMemory.TensorShape}s: what the memory check
 * before loading counts. Vectors (norms, biases) are {@code [1, n]}.
 */
final class ModelShapes {

    private ModelShapes() {
    }

    /** Every weight tensor of {@code config}, matrices stored as {@code stored}. */
    static List<LoadMemory.TensorShape> of(ModelConfig config, WeightFormat stored) {
        long h = config.hiddenSize();
        List<LoadMemory.TensorShape> shapes = new ArrayList<>();
        if (config instanceof LlamaConfig llama) {
            long q = (long) llama.numHeads() * llama.headDim();
            long kv = (long) llama.numKvHeads() * llama.headDim();
            long ff = llama.intermediateSize();
            shapes.add(matrix(config.vocabSize(), h, stored));
            if (!llama.tieWordEmbeddings()) {
                shapes.add(matrix(config.vocabSize(), h, stored));
            }
            shapes.add(vector(h));
            for (int i = 0; i < config.numLayers(); i++) {
                shapes.add(matrix(q + 2 * kv, h, stored));
                shapes.add(matrix(h, q, stored));
                shapes.add(matrix(2 * ff, h, stored));
                shapes.add(matrix(h, ff, stored));
                shapes.add(vector(2 * h + (llama.attentionBias() ? q + 2 * kv : 0)));
            }
        } else {
            long ff = ((BloomConfig) config).intermediateSize();
            shapes.add(matrix(config.vocabSize(), h, stored));
            shapes.add(vector(4 * h));
            for (int i = 0; i < config.numLayers(); i++) {
                shapes.add(matrix(3 * h, h, stored));
                shapes.add(matrix(h, h, stored));
                shapes.add(matrix(ff, h, stored));
                shapes.add(matrix(h, ff, stored));
                shapes.add(vector(9 * h + ff));
            }
        }
        return shapes;
    }

    private static LoadMemory.TensorShape matrix(long rows, long cols, WeightFormat stored) {
        return new LoadMemory.TensorShape(rows, cols, stored);
    }

    private static LoadMemory.TensorShape vector(long n) {
        return new LoadMemory.TensorShape(1, n, WeightFormat.F32);
    }
}
