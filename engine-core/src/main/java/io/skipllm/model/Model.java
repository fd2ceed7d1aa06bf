package io.skipllm.model;

import io.skipllm.backend.Backend;
import io.skipllm.backend.ForwardBackend;
import io.skipllm.checkpoint.Checkpoint;
import io.skipllm.generation.Generator;
import io.skipllm.model.bloom.BloomModel;
import io.skipllm.model.bloom.BloomWeights;
import io.skipllm.model.llama.LlamaModel;
import io.skipllm.model.llama.LlamaWeights;
import io.skipllm.tokenizer.GgufTokenizer;
import io.skipllm.tokenizer.Tokenizer;
import io.skipllm.weights.WeightFormat;
import java.nio.file.Path;
import java.util.Optional;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A checkpoint loaded for inference: configuration, weights in the format the {@link LoadOptions} chose, the
 * skip-aware decoder over them and, when the directory has a {@code tokenizer.json}, the tokenizer.
 * Immutable after loading and safe to share between threads; each request gets its own
 * {@link DecodeSession}.
 *
 * <p>{@link #close} frees the weights' native memory and the tokenizer. Sessions already open keep
 * working: the memory is freed when the last of them closes. New sessions are refused once the model
 * is closed.
 */
public final class Model implements AutoCloseable {

    private final Path directory;
    private final CausalLm network;
    private final SkipAwareDecoder decoder;
    private final Tokenizer tokenizer;
    /** Lifecycle state, guarded by {@code this}: sessions are few and short-lived next to a lock. */
    private int openSessions;
    private boolean closed;
    private boolean released;

    private Model(Path directory, CausalLm network, Tokenizer tokenizer) {
        this.directory = directory;
        this.network = network;
        this.decoder = new SkipAwareDecoder(network, new SkipAwareDecoder.SessionTracker() {
            @Override
            public void opened() {
                sessionOpened();
            }

            @Override
            public void closed() {
                sessionClosed();
            }
        });
        this.tokenizer = tokenizer;
    }

    /**
     * Loads a Hugging Face checkpoint directory ({@code config.json}, {@code model.safetensors} or a
     * sharded index, optional {@code tokenizer.json}), or a GGUF file (llama.cpp's format: architectures
     * {@code llama} and {@code qwen2}, the tokenizer from its metadata). Everything is validated before the weights are
     * built; a failure throws {@link io.skipllm.checkpoint.CheckpointException} and leaves nothing behind.
     * When ND4J's backend cannot start on this machine it throws {@link io.skipllm.SkipLlmException}
     * saying why (see {@link Backend}).
     */
    public static Model load(Path directory) {
        return load(directory, LoadOptions.stored());
    }

    /**
     * As {@link #load(Path)}, with the weights held as {@code options} say (default: as stored,
     * memory-mapped). Before anything is read, the memory the weights need in that format is compared
     * with what this process can get ({@link LoadMemory}); a model that does not fit is refused with
     * {@link LoadMemory.ModelTooLargeException}.
     */
    public static Model load(Path directory, LoadOptions options) {
        CausalLm network;
        Tokenizer tokenizer;
        try (Checkpoint checkpoint = Checkpoint.open(directory)) {   // config and headers validated, no data read
            Backend.require(); // a clear error if ND4J's backend cannot start here; logs which backend once
            ModelConfig config = checkpoint.config();
            WeightFormat stored = checkpoint.tensors().storedFormat(embeddingName(config, checkpoint));
            // the nd4j forward pass holds every weight as a float32 ND4J array
            WeightFormat inMemory = options.backend() == ForwardBackend.HOST ? options.format().orElse(stored)
                    : WeightFormat.F32;
            LoadMemory.requireFits(directory.toString(), ModelShapes.of(config, stored), inMemory);
            // a GGUF file carries its tokenizer in its metadata; built before the weights, so that a bad one
            // is refused without loading anything
            tokenizer = checkpoint.gguf().isPresent() ? GgufTokenizer.of(checkpoint.gguf().get()).orElse(null)
                    : Tokenizer.loadFromModelDir(directory).orElse(null);
            try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                if (config instanceof LlamaConfig llama) {
                    network = new LlamaModel(LlamaWeights.load(llama, checkpoint.tensors(), options));
                } else {
                    network = new BloomModel(BloomWeights.load((BloomConfig) config, checkpoint.tensors(), options));
                }
            } catch (RuntimeException | Error e) {
                if (tokenizer != null) {
                    tokenizer.close();
                }
                throw e;
            }
        }
        return new Model(directory, network, tokenizer);
    }

    /** The embedding tensor's name: its stored dtype stands for the checkpoint's. */
    private static String embeddingName(ModelConfig config, Checkpoint checkpoint) {
        if (config instanceof LlamaConfig) {
            return "model.embed_tokens.weight";
        }
        String prefixed = "transformer.word_embeddings.weight";
        return checkpoint.tensors().contains(prefixed) ? prefixed : "word_embeddings.weight";
    }

    /**
     * The model {@code spec} names, as {@code --model} reads it: a {@code random:} spec, a checkpoint
     * directory, or null for the shipped default model ({@link ShippedModel}); weights held as
     * {@code options} say.
     */
    public static Model fromSpec(String spec, LoadOptions options) {
        if (spec == null) {
            return ShippedModel.load(options);
        }
        if (spec.startsWith("random:")) {
            return of(RandomModels.fromSpec(spec, options));
        }
        return load(Path.of(spec), options);
    }

    /** Wraps an in-memory network (for example one with random weights for benchmarks). */
    public static Model of(CausalLm network) {
        return new Model(null, network, null);
    }

    public ModelConfig config() {
        return network.config();
    }

    /** The decoder over this model's weights; it refuses new sessions once the model is closed. */
    public SkipAwareDecoder decoder() {
        requireOpen();
        return decoder;
    }

    /** A generator over this model, with its tokenizer when the checkpoint has one (text in and out). */
    public Generator generator() {
        requireOpen();
        return tokenizer == null ? new Generator(decoder) : new Generator(decoder, tokenizer);
    }

    public CausalLm network() {
        return network;
    }

    /** The forward pass this model runs on, chosen when it was loaded. */
    public ForwardBackend backend() {
        return network.backend();
    }

    /** The tokenizer from {@code tokenizer.json}, if the checkpoint has one. */
    public Optional<Tokenizer> tokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    /** The checkpoint directory, if the model was loaded from one. */
    public Optional<Path> directory() {
        return Optional.ofNullable(directory);
    }

    /** True once {@link #close} was called (the memory may still be held by open sessions). */
    public synchronized boolean isClosed() {
        return closed;
    }

    /** True once the weights' memory is freed: after close, when no session is open any more. */
    public synchronized boolean isReleased() {
        return released;
    }

    private synchronized void requireOpen() {
        if (closed) {
            throw new IllegalStateException("model is closed");
        }
    }

    private synchronized void sessionOpened() {
        requireOpen();
        openSessions++;
    }

    private synchronized void sessionClosed() {
        openSessions--;
        releaseIfIdle();
    }

    /**
     * Frees the weights and the tokenizer, now or, while decode sessions are open, when the last one
     * closes (freeing memory a running session reads would crash the JVM). Idempotent. Afterwards
     * {@link #decoder()}, {@link #generator()} and starting a session on an earlier decoder throw
     * {@link IllegalStateException}.
     */
    @Override
    public synchronized void close() {
        closed = true;
        releaseIfIdle();
    }

    private void releaseIfIdle() {
        if (closed && !released && openSessions == 0) {
            released = true;
            network.close();
            if (tokenizer != null) {
                tokenizer.close();
            }
        }
    }
}
