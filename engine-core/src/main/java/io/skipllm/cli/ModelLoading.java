package io.skipllm.cli;

import io.skipllm.model.LoadOptions;

/**
 * How every command that loads a model reads {@code --weights stored|f32|bf16|f16|q8_0|q4_0}: the in-memory
 * format (default {@code stored}), and {@code --backend host|nd4j}: the forward pass; {@code --model} goes
 * to {@link io.skipllm.model.Model#fromSpec} (a
 * checkpoint directory, a {@code random:} spec, or, where a command allows it, nothing for the shipped
 * model).
 */
final class ModelLoading {

    /** The option every loading command accepts besides {@code --model}. */
    static final String WEIGHTS = "weights";
    /** The forward pass, {@code host} or {@code nd4j}; every loading command accepts it too. */
    static final String BACKEND = "backend";

    private ModelLoading() {
    }

    /** {@code --weights} and {@code --backend}, checked before anything is loaded. */
    static LoadOptions options(Args args) {
        return LoadOptions.parse(args.string(WEIGHTS, "stored"), args.string(BACKEND, null));
    }
}
