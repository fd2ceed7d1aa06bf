package io.skipllm.checkpoint;

import io.skipllm.model.LlamaConfig;
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
    private final GgufFile gguf;

    private Checkpoint(Path directory, ModelConfig config, TensorStore tensors, Path tokenizerJson, GgufFile gguf) {
        this.directory = directory;
        this.config = config;
        this.tensors = tensors;
        this.tokenizerJson = tokenizerJson;
        this.gguf = gguf;
    }

    /**
     * Parses {@code dir/config.json} and opens its safetensors (single file or sharded); or, when
     * {@code dir} is a GGUF file, reads the configuration from its metadata and its tensors under
     * Hugging Face names ({@link GgufTensorStore}).
     */
    public static Checkpoint open(Path dir) {
        if (!Files.exists(dir)) {
            throw new CheckpointException(dir + (dir.toString().endsWith(".gguf") ? ": GGUF file not found"
                    : ": checkpoint directory not found"));
        }
        if (!Files.isDirectory(dir)) {
            if (GgufFile.isGguf(dir)) {
                return openGguf(dir);
            }
            throw new CheckpointException(dir + ": not a directory and not a GGUF file; a checkpoint is a directory "
                    + "with config.json and model.safetensors, or a .gguf file");
        }
        ModelConfig config = ConfigParser.parse(dir);
        TensorStore tensors = TensorStore.open(dir);
        Path tokenizer = dir.resolve(TOKENIZER_JSON);
        LOG.info("{}: {} with {} layers, {} tensors", dir, config.architecture(), config.numLayers(),
                tensors.names().size());
        return new Checkpoint(dir, config, tensors, Files.isRegularFile(tokenizer) ? tokenizer : null, null);
    }

    private static Checkpoint openGguf(Path file) {
        GgufFile gguf = GgufFile.open(file);
        try {
            LlamaConfig config = GgufConfig.parse(gguf);
            int[] permuted = GgufConfig.permutesRotaryRows(config)
                    ? new int[] {config.headDim(), config.numHeads(), config.numKvHeads()} : null;
            TensorStore tensors = new GgufTensorStore(gguf, permuted);
            LOG.info("{}: GGUF v{} {} with {} layers, {} tensors", file, gguf.version(), config.architecture(),
                    config.numLayers(), tensors.names().size());
            return new Checkpoint(file, config, tensors, null, gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
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

    /** The GGUF file this checkpoint was read from (its metadata holds the tokenizer), if it is one. */
    public Optional<GgufFile> gguf() {
        return Optional.ofNullable(gguf);
    }

    /** Closes the safetensors files; weights already loaded stay valid. */
    @Override
    public void close() {
        tensors.close();
    }
}
