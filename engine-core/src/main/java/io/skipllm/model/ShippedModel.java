package io.skipllm.model;

import io.skipllm.SkipLlmException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The model the project trains and ships ({@code models/translation/base}: a 12-layer LLaMA that
 * translates Spanish Bible verses to English), packed into the engine-core jar so that the CLI works
 * on a fresh machine with no {@code --model} and no download.
 *
 * <p>The checkpoint travels as class-path resources because a jar entry cannot be memory-mapped:
 * {@link #load()} copies the four files (about 7 MB) to a private temporary directory, loads them
 * like any other Hugging Face directory and deletes the copy at once (the weights are in ND4J
 * memory by then, nothing keeps the files open).
 */
public final class ShippedModel {

    /** What the CLI prints when it uses this model. */
    public static final String DESCRIPTION =
            "shipped default model models/translation/base (Spanish -> English verses, 12 layers)";

    /** The prompt the model was trained on; {@code {source}} is the Spanish text. */
    public static final String PROMPT_TEMPLATE = "Translate Spanish to English: {source} English:";

    private static final String RESOURCE_DIR = "/io/skipllm/shipped/translation-base/";
    private static final List<String> FILES =
            List.of("config.json", "generation_config.json", "model.safetensors", "tokenizer.json");

    private ShippedModel() {
    }

    /** Whether this build carries the shipped model (a build from a checkout always does). */
    public static boolean available() {
        return FILES.stream().allMatch(f -> ShippedModel.class.getResource(RESOURCE_DIR + f) != null);
    }

    /** Loads the shipped model. */
    public static Model load() {
        return load(LoadOptions.stored());
    }

    /** Loads the shipped model with its weights held as {@code options} say. */
    public static Model load(LoadOptions options) {
        if (!available()) {
            throw new SkipLlmException("this build of skipllm carries no default model (resources "
                    + RESOURCE_DIR + " missing); pass --model DIR");
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("skipllm-shipped-model");
            for (String file : FILES) {
                try (InputStream in = ShippedModel.class.getResourceAsStream(RESOURCE_DIR + file)) {
                    Files.copy(in, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return Model.load(dir, options);
        } catch (IOException e) {
            throw new SkipLlmException("cannot unpack the shipped default model to "
                    + (dir == null ? "a temporary directory" : dir) + ": " + e, e);
        } finally {
            deleteQuietly(dir);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        for (String file : FILES) {
            try {
                Files.deleteIfExists(dir.resolve(file));
            } catch (IOException ignored) {
                // a leftover file in the temp directory is harmless; the model is already loaded
            }
        }
        try {
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // as above
        }
    }
}
