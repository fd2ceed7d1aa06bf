package io.skipllm.cli;

import io.skipllm.model.LoadOptions;
import io.skipllm.model.Model;
import io.skipllm.model.RandomModels;
import io.skipllm.model.ShippedModel;
import java.nio.file.Path;

/**
 * How every command that loads a model reads {@code --model} and {@code --weights}: a checkpoint
 * directory, a {@code random:} spec, or (where a command allows it) nothing for the shipped model;
 * {@code --weights stored|f32|bf16|f16|q8_0} picks the in-memory format (default {@code stored}).
 */
final class ModelLoading {

    /** The option every loading command accepts besides {@code --model}. */
    static final String WEIGHTS = "weights";

    private ModelLoading() {
    }

    /** {@code --weights}, checked before anything is loaded. */
    static LoadOptions options(Args args) {
        return LoadOptions.parse(args.string(WEIGHTS, "stored"));
    }

    /** The model {@code spec} names (null: the shipped model) with the weights as {@code options} say. */
    static Model load(String spec, LoadOptions options) {
        if (spec == null) {
            return ShippedModel.load(options);
        }
        if (spec.startsWith("random:")) {
            return Model.of(RandomModels.fromSpec(spec, options));
        }
        return Model.load(Path.of(spec), options);
    }
}
