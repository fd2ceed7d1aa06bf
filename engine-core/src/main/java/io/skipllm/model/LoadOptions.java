package io.skipllm.model;

import io.skipllm.weights.WeightFormat;
import java.util.Optional;

/**
 * How {@link Model#load(java.nio.file.Path, LoadOptions)} holds a checkpoint in memory.
 *
 * @param weights the in-memory format of the weight matrices (projections, embeddings, LM head), or
 *     null for "as stored": F32, BF16 and F16 tensors stay in their dtype and are memory-mapped from
 *     the safetensors files. Norm weights and biases are always float32 (they are a few kilobytes and
 *     every token reads them). On a backend without host kernels (CUDA) weights are float32 ND4J
 *     arrays whatever is asked, except that a format the backend cannot hold (Q8_0) is refused.
 */
public record LoadOptions(WeightFormat weights) {

    /** Weights as stored in the checkpoint (the default). */
    public static LoadOptions stored() {
        return new LoadOptions(null);
    }

    /** Weights converted to {@code format} at load. */
    public static LoadOptions weights(WeightFormat format) {
        return new LoadOptions(format);
    }

    /** {@code stored}, {@code f32}, {@code bf16}, {@code f16}, {@code q8_0} or {@code q4_0}, as the CLI's {@code --weights}. */
    public static LoadOptions parse(String label) {
        return label == null || label.trim().equalsIgnoreCase("stored") ? stored()
                : weights(WeightFormat.parse(label));
    }

    /** The requested format; empty for "as stored". */
    public Optional<WeightFormat> format() {
        return Optional.ofNullable(weights);
    }

    /** The label {@link #parse} reads. */
    public String label() {
        return weights == null ? "stored" : weights.label();
    }
}
