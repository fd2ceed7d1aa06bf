package io.skipllm.backend;

import io.skipllm.BadInputException;
import java.util.Locale;

/**
 * Which implementation runs a model's forward pass, chosen once when the model is loaded ({@code --backend},
 * {@link io.skipllm.model.LoadOptions}) and never switched below that: every prefill, decode step and
 * early-exit check of the model goes through it.
 */
public enum ForwardBackend {
    /**
     * The Java forward pass over host buffers (the weights package's kernels in any format, the KV cache
     * in off-heap host memory): the default on the CPU build. It runs no ND4J op per step.
     */
    HOST("host"),
    /**
     * The forward pass as ND4J ops on float32 ND4J arrays (weights, KV cache, activations): what runs on
     * nd4j-cuda (its default there), and on nd4j-native when asked for.
     */
    ND4J("nd4j");

    private final String label;

    ForwardBackend(String label) {
        this.label = label;
    }

    /** {@code host} or {@code nd4j}, as {@code --backend} takes it. */
    public String label() {
        return label;
    }

    /** {@code host} or {@code nd4j} (case-insensitive); anything else is bad input naming both. */
    public static ForwardBackend parse(String label) {
        String l = label == null ? "" : label.trim().toLowerCase(Locale.ROOT);
        for (ForwardBackend b : values()) {
            if (b.label.equals(l)) {
                return b;
            }
        }
        throw new BadInputException("--backend: expected host or nd4j, got '" + label + "'");
    }

    /** The default where ND4J runs on {@code info}: nd4j on CUDA (the device does the work), host elsewhere. */
    public static ForwardBackend defaultFor(BackendInfo info) {
        return info.isCuda() ? ND4J : HOST;
    }

    /** The default on this machine's ND4J backend (which this starts, if it has not started yet). */
    public static ForwardBackend defaultHere() {
        return defaultFor(Backend.require());
    }
}
