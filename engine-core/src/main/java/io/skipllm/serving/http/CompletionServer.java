package io.skipllm.serving.http;

import com.sun.net.httpserver.HttpServer;
import io.skipllm.BadInputException;
import io.skipllm.planner.SkipStrategy;
import io.skipllm.serving.BatchingEngine;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible HTTP server in front of a {@link BatchingEngine}, on the JDK's own
 * {@code com.sun.net.httpserver}: {@code POST /v1/completions}, {@code GET /v1/models},
 * {@code GET /health} and {@code GET /metrics} (docs/serving.md).
 *
 * <p>Threads: a fixed pool of {@code maxBatch + maxQueue + 16} handler threads, one per request for
 * its whole life (a streaming request blocks its thread while it runs), so the engine's queue fills up
 * before the pool does and a request beyond it gets its 429 at once instead of waiting for a thread.
 *
 * <p>The server owns the engine: {@link #shutdown} stops accepting (new requests get 503 and
 * {@code /health} turns 503), lets the engine finish what it accepted within the grace period and
 * cancels the rest, waits for every handler to write its last byte, then stops the HTTP server and
 * closes the engine.
 */
public final class CompletionServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CompletionServer.class);

    static {
        // A token is a few dozen bytes: with Nagle's algorithm on (the JDK server's default) each small
        // write waits for the client's delayed ACK, about 40 ms, which measured as a 45 ms time to first
        // token and tokens arriving in bursts. Read once, when the JDK server's configuration loads.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }
    /** How long handlers get to write their last responses after the engine is done. */
    private static final long DRAIN_MILLIS = 5000;

    /**
     * What the server listens on and serves.
     *
     * @param host the address to bind ({@code 127.0.0.1} by default; {@code 0.0.0.0} for every interface)
     * @param port the TCP port; 0 picks a free one ({@link #port()} tells which)
     * @param modelId the model name {@code /v1/models} and responses carry
     * @param strategy the skip strategy of requests without {@code skip.strategy}
     * @param speedup the target speedup of requests without {@code skip.speedup}
     * @param maxBodyBytes larger request bodies are refused with 413
     */
    public record Options(String host, int port, String modelId, SkipStrategy strategy, double speedup,
            int maxBodyBytes) {

        public Options {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(strategy, "strategy");
            if (port < 0 || port > 65535) {
                throw new BadInputException("port must be in 0..65535, got " + port);
            }
            if (!Double.isFinite(speedup) || speedup < 1) {
                throw new BadInputException("speedup must be a finite number >= 1, got " + speedup);
            }
            if (modelId == null || modelId.isBlank()) {
                throw new BadInputException("the model id must not be empty");
            }
            if (maxBodyBytes < 1024) {
                throw new BadInputException("maxBodyBytes must be >= 1024, got " + maxBodyBytes);
            }
        }

        /** Loopback, port 8080, unified at 1.0 (full depth), 4 MiB bodies. */
        public static Options defaults(String modelId) {
            return new Options("127.0.0.1", 8080, modelId, SkipStrategy.UNIFIED, 1.0, 4 << 20);
        }

        public Options withHost(String value) {
            return new Options(value, port, modelId, strategy, speedup, maxBodyBytes);
        }

        public Options withPort(int value) {
            return new Options(host, value, modelId, strategy, speedup, maxBodyBytes);
        }

        public Options withSkip(SkipStrategy value, double valueSpeedup) {
            return new Options(host, port, modelId, value, valueSpeedup, maxBodyBytes);
        }
    }

    private final BatchingEngine engine;
    private final Options options;
    private final ServerMetrics metrics = new ServerMetrics();
    private final HttpServer http;
    private final ExecutorService executor;
    private final long startedEpochSeconds = System.currentTimeMillis() / 1000;
    private final Object drained = new Object();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile boolean accepting = true;
    private boolean shutdownStarted;
    private volatile boolean cleanShutdown;

    private CompletionServer(BatchingEngine engine, Options options) throws IOException {
        this.engine = engine;
        this.options = options;
        int threads = engine.options().maxBatch() + engine.options().maxQueue() + 16;
        AtomicInteger count = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "skipllm-http-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 256);
        http.setExecutor(executor);
        CompletionRequest.Defaults defaults = new CompletionRequest.Defaults(options.strategy(), options.speedup());
        http.createContext(CompletionsHandler.PATH, new CompletionsHandler(this, engine, metrics, defaults));
        http.createContext(StatusHandlers.MODELS, StatusHandlers.models(this, engine));
        http.createContext(StatusHandlers.HEALTH, StatusHandlers.health(this));
        http.createContext(StatusHandlers.METRICS, StatusHandlers.metrics(metrics, engine));
        http.createContext("/", StatusHandlers.notFound());
    }

    /**
     * Binds {@code options.host():options.port()} and starts serving {@code engine}, which the server
     * then owns (it is closed by {@link #shutdown}).
     *
     * @throws IOException when the address cannot be bound (the engine is closed then too)
     */
    public static CompletionServer start(BatchingEngine engine, Options options) throws IOException {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(options, "options");
        CompletionServer server;
        try {
            server = new CompletionServer(engine, options);
        } catch (IOException | RuntimeException e) {
            engine.close();
            throw e;
        }
        server.http.start();
        return server;
    }

    /** The port the server listens on (the one picked when {@link Options#port()} was 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    public Options options() {
        return options;
    }

    public BatchingEngine engine() {
        return engine;
    }

    /** False once {@link #shutdown} began. */
    public boolean accepting() {
        return accepting;
    }

    /** The server's counters in the Prometheus text format, as {@code GET /metrics} serves them. */
    public String metricsText() {
        return metrics.render(engine.stats());
    }

    long startedEpochSeconds() {
        return startedEpochSeconds;
    }

    ServerMetrics metrics() {
        return metrics;
    }

    /** A completion handler finished; wakes a shutdown waiting for the last ones. */
    void handlerDone() {
        synchronized (drained) {
            drained.notifyAll();
        }
    }

    /**
     * Graceful shutdown: stops accepting (new requests: 503; the listening socket is closed at once),
     * waits up to {@code graceMillis} for accepted requests to finish and cancels the rest (their
     * clients get an error), waits for the handlers to write their last responses, stops the HTTP
     * server and closes the engine. Idempotent; a second caller waits for the first.
     *
     * @return true when every accepted request finished without being cancelled
     */
    public boolean shutdown(long graceMillis) {
        synchronized (this) {
            if (shutdownStarted) {
                awaitQuietly();
                return cleanShutdown;
            }
            shutdownStarted = true;
        }
        accepting = false;
        try {
            // closes the listening socket now; the JDK 17 server then sleeps out its delay before closing
            // connections, so it runs beside the drain below rather than in front of it
            long delaySeconds = Math.max(1, (graceMillis + DRAIN_MILLIS) / 1000 + 1);
            Thread stopper = new Thread(() -> http.stop((int) Math.min(Integer.MAX_VALUE, delaySeconds)),
                    "skipllm-http-stop");
            stopper.setDaemon(true);
            stopper.start();
            boolean finished = engine.shutdown(graceMillis);
            long deadline = System.currentTimeMillis() + DRAIN_MILLIS;
            synchronized (drained) {
                while (metrics.inFlight().get() > 0) {
                    long left = deadline - System.currentTimeMillis();
                    if (left <= 0) {
                        LOG.warn("{} completion handlers still writing after the drain period", metrics.inFlight().get());
                        break;
                    }
                    try {
                        drained.wait(Math.min(left, 50));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
            executor.shutdown();
            try {
                if (!executor.awaitTermination(1, TimeUnit.SECONDS)) {
                    executor.shutdownNow();
                }
            } catch (InterruptedException e) {
                executor.shutdownNow();
                Thread.currentThread().interrupt();
            }
            engine.close();
            cleanShutdown = finished;
            return finished;
        } finally {
            terminated.countDown();
        }
    }

    /** Blocks until {@link #shutdown} has finished. */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /** {@link #shutdown shutdown(0)}: cancels whatever is running. */
    @Override
    public void close() {
        shutdown(0);
    }

    private void awaitQuietly() {
        try {
            terminated.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
