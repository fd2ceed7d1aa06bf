package io.skipllm.cli;

import io.skipllm.BadInputException;
import io.skipllm.SkipLlmException;
import io.skipllm.generation.TextCodec;
import io.skipllm.model.LoadOptions;
import io.skipllm.model.Model;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.SkipStrategy;
import io.skipllm.serving.BatchingEngine;
import io.skipllm.serving.http.CompletionServer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * {@code serve [--model DIR|random:SPEC] [--port 8080] [--max-batch B] [--speedup R] [--strategy S]}:
 * an OpenAI-compatible HTTP server with continuous batching (docs/serving.md). Runs until SIGTERM or
 * SIGINT, then stops accepting, lets accepted requests finish (at most {@code --shutdown-timeout}
 * seconds, then cancels the rest, whose clients get an error) and exits 0.
 */
final class ServeCommand implements Command {

    @Override
    public String name() {
        return "serve";
    }

    @Override
    public String usage() {
        return "serve [--model DIR|random:SPEC] [--port 8080] [--host 127.0.0.1] [--max-batch 8] [--max-queue 64]"
                + " [--max-seq-len N] [--speedup R] [--strategy S] [--shutdown-timeout 30]"
                + " [--weights stored|f32|bf16|f16|q8_0|q4_0]   (POST /v1/completions, GET /v1/models, /health, /metrics)";
    }

    @Override
    public void run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args args = Args.parse(name(), argv, Set.of("model", ModelLoading.WEIGHTS, ModelLoading.BACKEND, "port", "host",
                "max-batch", "max-queue", "max-seq-len", "speedup", "strategy", "shutdown-timeout"), Set.of("debug"));
        // every option is checked before the model is loaded
        int port = args.integer("port", 8080);
        if (port < 0 || port > 65535) {
            throw new BadInputException("--port must be in 0..65535 (0 picks a free port), got " + port);
        }
        String host = args.string("host", "127.0.0.1");
        int maxBatch = positive(args, "max-batch", 8);
        int maxQueue = positive(args, "max-queue", 64);
        Integer maxSeqLen = args.has("max-seq-len") ? positive(args, "max-seq-len", 0) : null;
        if (maxSeqLen != null && maxSeqLen < 2) {
            throw new BadInputException("--max-seq-len must be >= 2, got " + maxSeqLen);
        }
        SkipStrategy strategy = SkipStrategy.fromName(args.string("strategy", "unified"));
        double speedup = args.number("speedup", 1.0);
        LayerSkipPlanner.plan(strategy, 2, speedup); // the planner's own check of the speedup
        double shutdownSeconds = args.number("shutdown-timeout", 30);
        if (!Double.isFinite(shutdownSeconds) || shutdownSeconds < 0) {
            throw new BadInputException("--shutdown-timeout must be a number of seconds >= 0, got " + shutdownSeconds);
        }
        LoadOptions loadOptions = ModelLoading.options(args);
        String spec = args.string("model", null);

        try (Model model = Model.fromSpec(spec, loadOptions)) {
            BatchingEngine.Options engineOptions = BatchingEngine.Options.defaults(model.config())
                    .withMaxBatch(maxBatch).withMaxQueue(maxQueue);
            if (maxSeqLen != null) {
                if (maxSeqLen > model.config().maxPositions()) {
                    throw new BadInputException("--max-seq-len " + maxSeqLen + " exceeds the model's context of "
                            + model.config().maxPositions() + " positions");
                }
                engineOptions = engineOptions.withMaxSequenceLength(maxSeqLen);
            }
            TextCodec codec = model.tokenizer().map(TextCodec::of).orElse(null);
            BatchingEngine engine = BatchingEngine.start(model.decoder(), codec, engineOptions);
            CompletionServer.Options serverOptions = CompletionServer.Options.defaults(modelId(spec))
                    .withHost(host).withPort(port).withSkip(strategy, speedup);
            CompletionServer server;
            try {
                server = CompletionServer.start(engine, serverOptions);
            } catch (IOException e) {
                throw new SkipLlmException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
            }
            long graceMillis = Math.round(shutdownSeconds * 1000);
            SignalHandler stop = signal -> {
                err.println("serve: SIG" + signal.getName() + ": not accepting new requests; finishing "
                        + engine.stats().activeRows() + " running and " + engine.stats().queueLength()
                        + " waiting (at most " + shutdownSeconds + " s)");
                err.flush();
                server.shutdown(graceMillis);
            };
            SignalHandler previousTerm = handle("TERM", stop);
            SignalHandler previousInt = handle("INT", stop);
            err.printf(Locale.ROOT, "serve: %s (%d layers, %s), max batch %d, queue %d, max %d tokens per request,"
                            + " KV cache %.1f MiB; default skip %s at %s; listening on http://%s:%d%n",
                    serverOptions.modelId(), model.config().numLayers(),
                    codec != null ? "tokenizer" : "no tokenizer: prompts as token ids", maxBatch, maxQueue,
                    engine.maxSequenceLength(), engine.cacheBytes() / (1024.0 * 1024.0), strategy.cliName(), speedup,
                    host, server.port());
            err.flush();
            try {
                server.awaitTermination();
            } finally {
                restore("TERM", previousTerm);
                restore("INT", previousInt);
            }
            BatchingEngine.Stats stats = engine.stats();
            err.printf(Locale.ROOT, "serve: stopped; %d requests accepted, %d completed, %d cancelled, %d failed,"
                    + " %d refused (queue full); %d tokens generated%n", stats.accepted(), stats.completed(),
                    stats.cancelled(), stats.failed(), stats.rejected(), stats.generatedTokens());
            err.flush();
        }
    }

    /** The name the server reports for the model: the directory's name, the random spec, or the shipped model's. */
    static String modelId(String spec) {
        if (spec == null) {
            return "translation-base";
        }
        if (spec.startsWith("random:")) {
            return spec;
        }
        Path name = Path.of(spec).toAbsolutePath().normalize().getFileName();
        return name == null ? spec : name.toString();
    }

    private static int positive(Args args, String name, int defaultValue) {
        int value = args.integer(name, defaultValue);
        if (value < 1) {
            throw new BadInputException("--" + name + " must be >= 1, got " + value);
        }
        return value;
    }

    /** Installs {@code handler} for {@code SIG<name>}; null when the JVM does not let us (e.g. under -Xrs). */
    private static SignalHandler handle(String name, SignalHandler handler) {
        try {
            return Signal.handle(new Signal(name), handler);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static void restore(String name, SignalHandler previous) {
        if (previous != null) {
            try {
                Signal.handle(new Signal(name), previous);
            } catch (IllegalArgumentException e) {
                // nothing to restore
            }
        }
    }
}
