package io.skipllm.model;

import io.skipllm.backend.ForwardBackend;
import io.skipllm.weights.WeightFormat;
import java.util.Optional;

/**
 * How {@link Model#load(java.nio.file.Path, LoadOptions)} holds a checkpoint in memory and which forward
 * pass runs it.
 *
 * @param weights the in-memory format of the weight matrices (projections, embeddings, LM head), or
 *     null for "as stored": F32, BF16 and F16 tensors stay in their dtype and are memory-mapped from
 *     the safetensors files. Norm weights and biases are always float32 (they are a few kilobytes and
 *     every token reads them). On the {@link ForwardBackend#ND4J nd4j} backend weights are float32 ND4J
 *     arrays whatever is asked, except that a format it cannot hold (Q8_0) is refused.
 * @param backend the forward pass ({@link ForwardBackend}), or null for this machine's default (host on
 *     the CPU build, nd4j on CUDA); {@link #backend()} resolves it
 */
public record LoadOptions(WeightFormat weights, ForwardBackend backend) {

    /** Weights in {@code weights} (null: as stored), on the default backend. */
    public LoadOptions(WeightFormat weights) {
        this(weights, null);
    }

    /** Weights as stored in the checkpoint (the default). */
    public static LoadOptions stored() {
        return new LoadOptions(null, null);
    }

    /** Weights converted to {@code format} at load. */
    public static LoadOptions weights(WeightFormat format) {
        return new LoadOptions(format, null);
    }

    /** {@code stored}, {@code f32}, {@code bf16}, {@code f16}, {@code q8_0} or {@code q4_0}, as the CLI's {@code --weights}. */
    public static LoadOptions parse(String label) {
        return label == null || label.trim().equalsIgnoreCase("stored") ? stored()
                : weights(WeightFormat.parse(label));
    }

    /** {@code --weights} and {@code --backend} (null: the default). */
    public static LoadOptions parse(String weightsLabel, String backendLabel) {
        return parse(weightsLabel).withBackend(backendLabel == null ? null : ForwardBackend.parse(backendLabel));
    }

    /** These options on {@code backend} (null: the default). */
    public LoadOptions withBackend(ForwardBackend backend) {
        return new LoadOptions(weights, backend);
    }

    /** The forward pass to run: the requested one, else this machine's default (which starts ND4J to ask). */
    @Override
    public ForwardBackend backend() {
        return backend != null ? backend : ForwardBackend.defaultHere();
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
