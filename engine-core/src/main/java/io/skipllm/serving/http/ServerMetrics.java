package io.skipllm.serving.http;

import io.skipllm.serving.BatchingEngine;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The server's counters, rendered for {@code GET /metrics} in the Prometheus text format (0.0.4):
 * completion requests by outcome, prompt and generated tokens, the engine's rows and queue, and
 * histograms of time to first token and request duration.
 */
final class ServerMetrics {

    /** How a {@code POST /v1/completions} ended. */
    enum Outcome {
        /** A complete response (200). */
        COMPLETED("completed"),
        /** The client closed the connection mid-stream; its row was cancelled. */
        CLIENT_DISCONNECTED("client_disconnected"),
        /** Cancelled by the server's shutdown (503, or an error event in a stream). */
        CANCELLED("cancelled"),
        /** The engine failed the request (500, or an error event in a stream). */
        FAILED("failed"),
        /** Queue full (429). */
        REJECTED("rejected"),
        /** Malformed or impossible request (400, 404, 405, 413). */
        BAD_REQUEST("bad_request"),
        /** Refused while shutting down (503). */
        UNAVAILABLE("unavailable");

        final String label;

        Outcome(String label) {
            this.label = label;
        }
    }

    private static final double[] TTFT_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    private static final double[] DURATION_BUCKETS = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

    private final LongAdder[] outcomes = new LongAdder[Outcome.values().length];
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder completionTokens = new LongAdder();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Histogram timeToFirstToken = new Histogram(TTFT_BUCKETS);
    private final Histogram duration = new Histogram(DURATION_BUCKETS);

    ServerMetrics() {
        for (int i = 0; i < outcomes.length; i++) {
            outcomes[i] = new LongAdder();
        }
    }

    void outcome(Outcome outcome) {
        outcomes[outcome.ordinal()].increment();
    }

    long count(Outcome outcome) {
        return outcomes[outcome.ordinal()].sum();
    }

    void tokens(int prompt, int completion) {
        promptTokens.add(prompt);
        completionTokens.add(completion);
    }

    void timeToFirstToken(double seconds) {
        timeToFirstToken.observe(seconds);
    }

    void duration(double seconds) {
        duration.observe(seconds);
    }

    /** Completion requests being handled now (from the body read to the last byte written). */
    AtomicInteger inFlight() {
        return inFlight;
    }

    /** The Prometheus exposition of these counters and the engine's {@code stats}. */
    String render(BatchingEngine.Stats stats) {
        StringBuilder b = new StringBuilder(2048);
        header(b, "skipllm_requests_total", "counter", "POST /v1/completions requests by outcome");
        for (Outcome o : Outcome.values()) {
            b.append("skipllm_requests_total{outcome=\"").append(o.label).append("\"} ").append(count(o)).append('\n');
        }
        counter(b, "skipllm_prompt_tokens_total", "prompt tokens of completed requests", promptTokens.sum());
        counter(b, "skipllm_completion_tokens_total", "tokens returned in completed responses", completionTokens.sum());
        counter(b, "skipllm_generated_tokens_total", "tokens the engine generated (cancelled requests included)",
                stats.generatedTokens());
        header(b, "skipllm_engine_requests_total", "counter", "requests the engine accepted, finished or refused");
        engineCounter(b, "accepted", stats.accepted());
        engineCounter(b, "completed", stats.completed());
        engineCounter(b, "cancelled", stats.cancelled());
        engineCounter(b, "failed", stats.failed());
        engineCounter(b, "rejected", stats.rejected());
        gauge(b, "skipllm_active_rows", "batch rows holding a request", stats.activeRows());
        gauge(b, "skipllm_queue_length", "requests waiting for a batch row", stats.queueLength());
        gauge(b, "skipllm_max_batch", "batch rows of the engine", stats.maxBatch());
        gauge(b, "skipllm_http_in_flight", "completion requests being handled", inFlight.get());
        timeToFirstToken.render(b, "skipllm_time_to_first_token_seconds",
                "from the request received to its first generated token");
        duration.render(b, "skipllm_request_duration_seconds", "from the request received to the complete response");
        return b.toString();
    }

    private static void header(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void counter(StringBuilder b, String name, String help, long value) {
        header(b, name, "counter", help);
        b.append(name).append(' ').append(value).append('\n');
    }

    private static void engineCounter(StringBuilder b, String state, long value) {
        b.append("skipllm_engine_requests_total{state=\"").append(state).append("\"} ").append(value).append('\n');
    }

    private static void gauge(StringBuilder b, String name, String help, long value) {
        header(b, name, "gauge", help);
        b.append(name).append(' ').append(value).append('\n');
    }

    /** A Prometheus histogram: cumulative bucket counts, sum and count. */
    static final class Histogram {
        private final double[] bounds;
        private final long[] counts;
        private double sum;
        private long count;

        Histogram(double[] bounds) {
            this.bounds = bounds.clone();
            this.counts = new long[bounds.length];
        }

        synchronized void observe(double value) {
            for (int i = 0; i < bounds.length; i++) {
                if (value <= bounds[i]) {
                    counts[i]++;
                }
            }
            sum += value;
            count++;
        }

        synchronized long count() {
            return count;
        }

        synchronized void render(StringBuilder b, String name, String help) {
            header(b, name, "histogram", help);
            for (int i = 0; i < bounds.length; i++) {
                b.append(name).append("_bucket{le=\"").append(format(bounds[i])).append("\"} ").append(counts[i])
                        .append('\n');
            }
            b.append(name).append("_bucket{le=\"+Inf\"} ").append(count).append('\n');
            b.append(name).append("_sum ").append(String.format(Locale.ROOT, "%.6f", sum)).append('\n');
            b.append(name).append("_count ").append(count).append('\n');
        }

        private static String format(double bound) {
            return bound == Math.rint(bound) ? String.format(Locale.ROOT, "%.1f", bound) : Double.toString(bound);
        }
    }
}
