package io.skipllm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.generation.Generator;
import io.skipllm.model.Model;
import io.skipllm.planner.SkipStrategy;
import io.skipllm.serving.BatchingEngine;
import io.skipllm.serving.http.CompletionServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Concurrent clients against the {@link BatchingEngine} (the library), against {@code serve}
 * (continuous batching over HTTP, in this process on loopback: the clients' HTTP and JSON work shares
 * the CPU) and against plain concurrent {@link Generator#generate} calls, beside one static batch of
 * {@code maxBatch} prompts: aggregate tokens/s, time to first token and time per output token.
 *
 * <p>Every client sends its requests one after another (a closed loop); all requests have seeded random
 * prompts of the same length and are greedy with the same budget, so every mode generates exactly the
 * same tokens (the engine's output does not depend on company). The modes of one client count run back
 * to back, the static batch first, so their ratios are measured side by side.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp engine-bench/target/benchmarks.jar io.skipllm.bench.ServingBenchmark \
 *   --model random:llama,layers=32,hidden=1024,heads=16,kv_heads=16,intermediate=2816,vocab=32000,seed=1 \
 *   --clients 1,2,4,8,16 --requests 4 --prompt-tokens 32 --new-tokens 32 --speedup 2 --json out.json
 * </pre>
 * {@code --model shipped} (the default) is the CLI's default model.
 */
public final class ServingBenchmark {

    private final Model model;
    private final int promptTokens;
    private final int newTokens;
    private final double speedup;
    private final int maxBatch;
    private final int requestsPerClient;

    private ServingBenchmark(Model model, int promptTokens, int newTokens, double speedup, int maxBatch,
            int requestsPerClient) {
        this.model = model;
        this.promptTokens = promptTokens;
        this.newTokens = newTokens;
        this.speedup = speedup;
        this.maxBatch = maxBatch;
        this.requestsPerClient = requestsPerClient;
    }

    /** What one mode measured. */
    record Result(String mode, int clients, int requests, long tokens, double seconds, double[] ttftMs,
            double[] tpotMs) {

        double tokensPerS() {
            return tokens / seconds;
        }

        Map<String, Object> toJson(double staticRate) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mode", mode);
            m.put("clients", clients);
            m.put("requests", requests);
            m.put("tokens", tokens);
            m.put("seconds", seconds);
            m.put("tokens_per_s", tokensPerS());
            m.put("vs_static_batch", tokensPerS() / staticRate);
            m.put("ttft_ms_p50", percentile(ttftMs, 50));
            m.put("ttft_ms_p95", percentile(ttftMs, 95));
            m.put("tpot_ms_p50", percentile(tpotMs, 50));
            m.put("tpot_ms_p95", percentile(tpotMs, 95));
            return m;
        }
    }

    private GenerationConfig config() {
        return GenerationConfig.builder().maxNewTokens(newTokens).stopTokenIds(List.of())
                .skipPlan(SkipStrategy.UNIFIED, speedup).build();
    }

    private int[][] prompts(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int vocab = model.config().vocabSize();
        int[][] prompts = new int[count][];
        for (int i = 0; i < count; i++) {
            prompts[i] = random.ints(promptTokens, 0, vocab).toArray();
        }
        return prompts;
    }

    /** One static batch of {@code maxBatch} prompts through {@link Generator#generate}. */
    Result staticBatch(long seed) {
        int[][] prompts = prompts(maxBatch, seed);
        long start = System.nanoTime();
        List<GenerationResult> results = model.generator().generate(Arrays.asList(prompts), config(), null);
        double seconds = (System.nanoTime() - start) / 1e9;
        long tokens = results.stream().mapToLong(r -> r.tokens().length).sum();
        double ttft = results.get(0).timing().prefillMillis();
        double tpot = results.get(0).timing().decodeMillis() / Math.max(1, newTokens - 1);
        return new Result("static-batch", maxBatch, maxBatch, tokens, seconds, new double[] {ttft},
                new double[] {tpot});
    }

    /** C threads, each calling {@link Generator#generate} for its requests one after another. */
    Result concurrentGenerate(int clients, long seed) throws InterruptedException {
        int[][] prompts = prompts(clients * requestsPerClient, seed);
        double[] ttft = new double[prompts.length];
        double[] tpot = new double[prompts.length];
        AtomicLong tokens = new AtomicLong();
        Generator generator = model.generator();
        long start = System.nanoTime();
        runClients(clients, (client, i) -> {
            int index = client * requestsPerClient + i;
            long sent = System.nanoTime();
            long[] first = new long[1];
            GenerationResult r = generator.generate(List.of(prompts[index]), config(), (p, s, t, x) -> {
                if (first[0] == 0) {
                    first[0] = System.nanoTime();
                }
            }).get(0);
            long end = System.nanoTime();
            record(index, sent, first[0], end, r.tokens().length, ttft, tpot);
            tokens.addAndGet(r.tokens().length);
        });
        return new Result("generate", clients, prompts.length, tokens.get(), (System.nanoTime() - start) / 1e9, ttft,
                tpot);
    }

    /** C threads, each submitting its requests one after another to a {@link BatchingEngine} (the library, no HTTP). */
    Result engine(int clients, long seed) throws InterruptedException {
        int[][] prompts = prompts(clients * requestsPerClient, seed);
        double[] ttft = new double[prompts.length];
        double[] tpot = new double[prompts.length];
        AtomicLong tokens = new AtomicLong();
        try (BatchingEngine engine = BatchingEngine.start(model.decoder(), null, engineOptions(clients))) {
            long start = System.nanoTime();
            runClients(clients, (client, i) -> {
                int index = client * requestsPerClient + i;
                long sent = System.nanoTime();
                long[] first = new long[1];
                GenerationResult r = engine.submit(prompts[index], config(), (p, s, t, x) -> {
                    if (first[0] == 0) {
                        first[0] = System.nanoTime();
                    }
                }).result().get();
                record(index, sent, first[0], System.nanoTime(), r.tokens().length, ttft, tpot);
                tokens.addAndGet(r.tokens().length);
            });
            return new Result("engine", clients, prompts.length, tokens.get(), (System.nanoTime() - start) / 1e9,
                    ttft, tpot);
        }
    }

    private BatchingEngine.Options engineOptions(int clients) {
        return BatchingEngine.Options.defaults(model.config()).withMaxBatch(maxBatch)
                .withMaxQueue(Math.max(64, clients * 2)).withMaxSequenceLength(promptTokens + newTokens);
    }

    /** C threads, each streaming its requests one after another from {@code serve}. */
    Result serve(int clients, long seed) throws Exception {
        int[][] prompts = prompts(clients * requestsPerClient, seed);
        double[] ttft = new double[prompts.length];
        double[] tpot = new double[prompts.length];
        AtomicLong tokens = new AtomicLong();
        BatchingEngine engine = BatchingEngine.start(model.decoder(), null, engineOptions(clients));
        try (CompletionServer server = CompletionServer.start(engine, CompletionServer.Options.defaults("bench")
                .withPort(0).withSkip(SkipStrategy.UNIFIED, speedup))) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/completions");
            long start = System.nanoTime();
            runClients(clients, (client, i) -> {
                int index = client * requestsPerClient + i;
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("prompt", prompts[index]);
                body.put("max_tokens", newTokens);
                body.put("temperature", 0);
                body.put("stream", true);
                body.put("ignore_eos", true);  // as the other modes: every request generates its full budget
                body.put("skip", Map.of("speedup", speedup, "strategy", "unified"));
                HttpRequest request = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(BenchArgs.JSON.writeValueAsString(body))).build();
                long sent = System.nanoTime();
                HttpResponse<java.io.InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
                if (response.statusCode() != 200) {
                    throw new IOException("HTTP " + response.statusCode() + ": "
                            + new String(response.body().readAllBytes(), StandardCharsets.UTF_8));
                }
                long first = 0;
                int count = 0;
                try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = reader.readLine()) != null; ) {
                        if (!line.startsWith("data:") || line.contains("[DONE]")) {
                            continue;
                        }
                        int n = tokenCount(BenchArgs.JSON.readTree(line.substring(5).trim()));
                        if (n > 0 && first == 0) {
                            first = System.nanoTime();
                        }
                        count += n;
                    }
                }
                long end = System.nanoTime();
                if (count != newTokens) {
                    throw new IOException("request " + index + " streamed " + count + " tokens, expected " + newTokens);
                }
                record(index, sent, first, end, count, ttft, tpot);
                tokens.addAndGet(count);
            });
            double seconds = (System.nanoTime() - start) / 1e9;
            return new Result("serve", clients, prompts.length, tokens.get(), seconds, ttft, tpot);
        }
    }

    /** Tokens in one streamed chunk: {@code choices[0].token_ids}. */
    private static int tokenCount(JsonNode chunk) {
        JsonNode choices = chunk.path("choices");
        if (!choices.isArray() || choices.isEmpty()) {
            return 0;
        }
        JsonNode ids = choices.get(0).path("token_ids");
        return ids.isArray() ? ids.size() : 0;
    }

    private static void record(int index, long sent, long first, long end, int tokens, double[] ttft, double[] tpot) {
        ttft[index] = (first - sent) / 1e6;
        tpot[index] = tokens > 1 ? (end - first) / 1e6 / (tokens - 1) : 0;
    }

    @FunctionalInterface
    private interface ClientWork {
        void request(int client, int index) throws Exception;
    }

    private void runClients(int clients, ClientWork work) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            Thread t = new Thread(() -> {
                try {
                    for (int i = 0; i < requestsPerClient; i++) {
                        work.request(client, i);
                    }
                } catch (Throwable e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            }, "bench-client-" + c);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!errors.isEmpty()) {
            throw new IllegalStateException("a client failed: " + errors.get(0), errors.get(0));
        }
    }

    private static double percentile(double[] values, double p) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    public static void main(String[] argv) throws Exception {
        BenchArgs args = BenchArgs.parse(argv);
        Model model = args.model();
        int[] clientCounts = args.integers("clients", "1,2,4,8,16").stream().mapToInt(Integer::intValue).toArray();
        ServingBenchmark bench = new ServingBenchmark(model, args.integer("prompt-tokens", 32),
                args.integer("new-tokens", 32), args.number("speedup", 2), args.integer("max-batch", 8),
                args.integer("requests", 4));
        // warm-up: every path once (JIT), not recorded
        bench.staticBatch(99);
        bench.concurrentGenerate(2, 98);
        bench.serve(2, 97);
        bench.engine(2, 96);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int clients : clientCounts) {
            Result stat = bench.staticBatch(clients);
            Result library = bench.engine(clients, clients);
            Result served = bench.serve(clients, clients);
            Result plain = bench.concurrentGenerate(clients, clients);
            for (Result r : List.of(stat, library, served, plain)) {
                Map<String, Object> row = r.toJson(stat.tokensPerS());
                row.put("clients", r.mode().equals("static-batch") ? clients : r.clients());
                row.put("vs_concurrent_generate", r.tokensPerS() / plain.tokensPerS());
                rows.add(row);
                System.err.printf(Locale.ROOT, "clients %2d %-12s %8.1f tokens/s (%.2fx static batch of %d)  ttft p50 %7.1f"
                        + " p95 %7.1f ms  tpot p50 %6.2f p95 %6.2f ms%n", clients, r.mode(), r.tokensPerS(),
                        r.tokensPerS() / stat.tokensPerS(), bench.maxBatch, percentile(r.ttftMs(), 50),
                        percentile(r.ttftMs(), 95), percentile(r.tpotMs(), 50), percentile(r.tpotMs(), 95));
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", args.string("model", "shipped"));
        out.put("prompt_tokens", bench.promptTokens);
        out.put("new_tokens", bench.newTokens);
        out.put("speedup", bench.speedup);
        out.put("max_batch", bench.maxBatch);
        out.put("requests_per_client", bench.requestsPerClient);
        out.put("threads", Runtime.getRuntime().availableProcessors());
        out.put("rows", rows);
        args.writeJson(out);
        model.close();
    }
}
