package io.skipllm.checkpoint;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The {@code architectures[0]} values skipllm can run, with the {@code model_type} that stands in for
 * them in configs that omit {@code architectures}. Anything else is refused up front: running a
 * checkpoint through the wrong layer code gives plausible-looking garbage, not an error.
 */
enum SupportedArchitecture {
    LLAMA("LlamaForCausalLM", "llama", Family.LLAMA),
    MISTRAL("MistralForCausalLM", "mistral", Family.LLAMA),
    QWEN2("Qwen2ForCausalLM", "qwen2", Family.LLAMA),
    BLOOM("BloomForCausalLM", "bloom", Family.BLOOM);

    /** Which config record and weight layout an architecture uses. */
    enum Family { LLAMA, BLOOM }

    final String hfName;
    final String modelType;
    final Family family;

    SupportedArchitecture(String hfName, String modelType, Family family) {
        this.hfName = hfName;
        this.modelType = modelType;
        this.family = family;
    }

    static Optional<SupportedArchitecture> byName(String architecture) {
        return Arrays.stream(values()).filter(a -> a.hfName.equals(architecture)).findFirst();
    }

    static Optional<SupportedArchitecture> byModelType(String modelType) {
        String lower = modelType.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(a -> a.modelType.equals(lower)).findFirst();
    }

    /** "LlamaForCausalLM, MistralForCausalLM, ..." for error messages. */
    static String names() {
        return Arrays.stream(values()).map(a -> a.hfName).collect(Collectors.joining(", "));
    }
}
