package io.skipllm.checkpoint;

import io.skipllm.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Hugging Face checkpoint directory, opened and validated: the parsed config, the tensor store
 * (every safetensors header already checked against its file), and the tokenizer file if there is
 * one. Nothing is loaded into memory yet; the architecture's weights class does that from
 * {@link #tensors()}.
 */
public final class Checkpoint implements AutoCloseable {

    static final String TOKENIZER_JSON = "tokenizer.json";

    private static final Logger LOG = LoggerFactory.getLogger(Checkpoint.class);

    private final Path directory;
    private final ModelConfig config;
    private final TensorStore tensors;
    private final Path tokenizerJson;

    private Checkpoint(Path directory, ModelConfig config, TensorStore tensors, Path tokenizerJson) {
        this.directory = directory;
        this.config = config;
        this.tensors = tensors;
        this.tokenizerJson = tokenizerJson;
    }

    /** Parses {@code dir/config.json} and opens its safetensors (single file or sharded). */
    public static Checkpoint open(Path dir) {
        if (!Files.exists(dir)) {
            throw new CheckpointException(dir + ": checkpoint directory not found");
        }
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir + ": not a directory; a checkpoint is a directory with config.json "
                    + "and model.safetensors");
        }
        ModelConfig config = ConfigParser.parse(dir);
        TensorStore tensors = TensorStore.open(dir);
        Path tokenizer = dir.resolve(TOKENIZER_JSON);
        LOG.info("{}: {} with {} layers, {} tensors", dir, config.architecture(), config.numLayers(),
                tensors.names().size());
        return new Checkpoint(dir, config, tensors, Files.isRegularFile(tokenizer) ? tokenizer : null);
    }

    public Path directory() {
        return directory;
    }

    public ModelConfig config() {
        return config;
    }

    public TensorStore tensors() {
        return tensors;
    }

    /** {@code tokenizer.json} in the directory, when present. */
    public Optional<Path> tokenizerJson() {
        return Optional.ofNullable(tokenizerJson);
    }

    /** Closes the safetensors files; weights already loaded stay valid. */
    @Override
    public void close() {
        tensors.close();
    }
}
