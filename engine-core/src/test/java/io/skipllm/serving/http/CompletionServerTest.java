package io.skipllm.serving.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.Generator;
import io.skipllm.model.Model;
import io.skipllm.model.RandomModels;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.SkipStrategy;
import io.skipllm.serving.BatchingEngine;
import io.skipllm.serving.RequestHandle;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP layer on a tiny random model (no tokenizer: prompts as token ids): response shapes,
 * outputs equal to {@link Generator}'s, streaming, per-request skip plans, errors, the queue bound,
 * client disconnects and shutdown.
 */
class CompletionServerTest {

    static final String SPEC = "random:llama,layers=4,hidden=64,heads=4,kv_heads=2,intermediate=128,vocab=300,"
            + "context=256,seed=1";
    static Model model;
    static Generator generator;
    static CompletionServer server;
    static TestClient client;

    @BeforeAll
    static void start() throws IOException {
        model = Model.of(RandomModels.fromSpec(SPEC));
        generator = model.generator();
        server = start(4, 16);
        client = new TestClient(server.port());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (model != null) {
            model.close();
        }
    }

    static CompletionServer start(int maxBatch, int maxQueue) throws IOException {
        BatchingEngine engine = BatchingEngine.start(model.decoder(), null,
                BatchingEngine.Options.defaults(model.config()).withMaxBatch(maxBatch).withMaxQueue(maxQueue));
        return CompletionServer.start(engine, CompletionServer.Options.defaults("tiny").withPort(0));
    }

    static GenerationConfig greedy(int maxNew) {
        return GenerationConfig.builder().maxNewTokens(maxNew).build();
    }

    /** A prompt whose greedy generation runs {@code length} tokens without reaching the EOS token. */
    static int[] longRunningPrompt(int length) {
        for (int start = 3; start < 300; start++) {
            int[] prompt = {start, 17, 42, 99};
            if (generator.generate(prompt, greedy(length)).tokens().length == length) {
                return prompt;
            }
        }
        throw new AssertionError("no prompt runs " + length + " tokens");
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).intValue();
        }
        return out;
    }

    @Test
    void greedyCompletionHasTheOpenAiShapeAndTheGeneratorsTokens() throws Exception {
        int[] prompt = {5, 9, 13, 7};
        TestClient.Reply r = client.complete("{\"model\":\"tiny\",\"prompt\":[5,9,13,7],\"max_tokens\":12,\"temperature\":0,"
                + "\"user\":\"someone\",\"some_future_field\":{\"x\":1}}");
        assertEquals(200, r.status(), r.body());
        assertTrue(r.header("Content-Type").startsWith("application/json"));
        JsonNode json = r.json();
        assertTrue(json.get("id").asText().startsWith("cmpl-"), r.body());
        assertEquals("text_completion", json.get("object").asText());
        assertTrue(Math.abs(json.get("created").asLong() - System.currentTimeMillis() / 1000) < 60);
        assertEquals("tiny", json.get("model").asText());
        JsonNode choice = json.get("choices").get(0);
        assertEquals(0, choice.get("index").asInt());
        assertFalse(choice.has("text"), "no tokenizer: no text");
        int[] expected = generator.generate(prompt, greedy(12)).tokens();
        assertArrayEquals(expected, ints(choice.get("token_ids")));
        boolean stoppedOnEos = expected.length < 12 || expected[expected.length - 1] == 2;
        assertEquals(stoppedOnEos ? "stop" : "length", choice.get("finish_reason").asText());
        assertEquals(4, json.get("usage").get("prompt_tokens").asInt());
        assertEquals(expected.length, json.get("usage").get("completion_tokens").asInt());
        assertEquals(4 + expected.length, json.get("usage").get("total_tokens").asInt());
        JsonNode skip = json.get("skip");
        assertEquals("unified", skip.get("strategy").asText());
        assertEquals(1.0, skip.get("speedup").asDouble());
        assertArrayEquals(new int[] {0, 1, 2, 3}, ints(skip.get("retained_layers")));
    }

    @Test
    void maxTokensEndsWithLengthAndDefaultsTo16() throws Exception {
        int[] prompt = longRunningPrompt(20);
        String ids = java.util.Arrays.toString(prompt);
        JsonNode json = client.complete("{\"prompt\":" + ids + ",\"temperature\":0}").json();
        assertEquals(16, json.get("choices").get(0).get("token_ids").size());
        assertEquals("length", json.get("choices").get(0).get("finish_reason").asText());
        json = client.complete("{\"prompt\":" + ids + ",\"temperature\":0,\"max_tokens\":20}").json();
        assertArrayEquals(generator.generate(prompt, greedy(20)).tokens(), ints(json.get("choices").get(0).get("token_ids")));
    }

    @Test
    void ignoreEosRunsTheWholeBudget() throws Exception {
        int[] prompt = {5, 9, 13, 7};
        JsonNode json = client.complete("{\"prompt\":[5,9,13,7],\"max_tokens\":30,\"temperature\":0,\"ignore_eos\":true}")
                .json();
        int[] expected = generator.generate(prompt, GenerationConfig.builder().maxNewTokens(30).stopTokenIds(List.of())
                .build()).tokens();
        assertEquals(30, expected.length);
        assertArrayEquals(expected, ints(json.get("choices").get(0).get("token_ids")));
        assertEquals("length", json.get("choices").get(0).get("finish_reason").asText());
        assertEquals(400, client.complete("{\"prompt\":[1],\"ignore_eos\":\"yes\"}").status());
    }

    @Test
    void perRequestSkipPlansOverrideTheServerDefault() throws Exception {
        int[] prompt = {8, 100, 3, 250, 11};
        JsonNode json = client.complete("{\"prompt\":[8,100,3,250,11],\"max_tokens\":10,\"temperature\":0,"
                + "\"skip\":{\"speedup\":2,\"strategy\":\"top\"}}").json();
        int[] retained = LayerSkipPlanner.plan(SkipStrategy.TOP, 4, 2).indices();
        assertArrayEquals(retained, ints(json.get("skip").get("retained_layers")));
        assertEquals("top", json.get("skip").get("strategy").asText());
        assertEquals(2.0, json.get("skip").get("speedup").asDouble());
        int[] expected = generator.generate(prompt, GenerationConfig.builder().maxNewTokens(10)
                .skipPlan(SkipStrategy.TOP, 2).build()).tokens();
        assertArrayEquals(expected, ints(json.get("choices").get(0).get("token_ids")));

        json = client.complete("{\"prompt\":[8,100,3,250,11],\"max_tokens\":3,\"skip\":{\"speedup\":4}}").json();
        assertArrayEquals(LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 4, 4).indices(),
                ints(json.get("skip").get("retained_layers")));
    }

    @Test
    void seededSamplingIsReproducibleAndMatchesTheGenerator() throws Exception {
        int[] prompt = {20, 21, 22};
        String body = "{\"prompt\":[20,21,22],\"max_tokens\":15,\"temperature\":0.8,\"top_p\":0.9,\"seed\":7}";
        int[] first = ints(client.complete(body).json().get("choices").get(0).get("token_ids"));
        int[] second = ints(client.complete(body).json().get("choices").get(0).get("token_ids"));
        assertArrayEquals(first, second);
        int[] expected = generator.generate(prompt, GenerationConfig.builder().maxNewTokens(15).doSample(true)
                .temperature(0.8).topP(0.9).topK(0).seed(7).build()).tokens();
        assertArrayEquals(expected, first);
    }

    @Test
    void streamSendsOneChunkPerTokenThenTheFinishChunkAndDone() throws Exception {
        int[] prompt = longRunningPrompt(24);
        TestClient.Stream s = client.stream("{\"prompt\":" + java.util.Arrays.toString(prompt)
                + ",\"max_tokens\":24,\"temperature\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        assertEquals(200, s.status());
        assertTrue(s.done(), s.raw());
        int[] expected = generator.generate(prompt, greedy(24)).tokens();
        assertArrayEquals(expected, s.tokenIds().stream().mapToInt(Integer::intValue).toArray());
        assertEquals(expected.length + 2, s.events().size(), "one chunk per token, the finish chunk, the usage chunk");
        String id = s.events().get(0).get("id").asText();
        for (JsonNode e : s.events()) {
            assertEquals(id, e.get("id").asText());
            assertEquals("text_completion", e.get("object").asText());
        }
        assertTrue(s.events().get(0).get("choices").get(0).get("finish_reason").isNull());
        JsonNode finish = s.events().get(s.events().size() - 2);
        assertEquals("length", finish.get("choices").get(0).get("finish_reason").asText());
        assertEquals(24, finish.get("usage").get("completion_tokens").asInt());
        assertArrayEquals(new int[] {0, 1, 2, 3}, ints(finish.get("skip").get("retained_layers")));
        JsonNode usage = s.last();
        assertEquals(0, usage.get("choices").size());
        assertEquals(28, usage.get("usage").get("total_tokens").asInt());
    }

    @Test
    void badRequestsAre400WithTheErrorBody() throws Exception {
        String[][] cases = {
            {"{\"prompt\":[1,2,3]", "malformed JSON"},
            {"not json at all", "malformed JSON"},
            {"{\"prompt\":[1,2]} trailing", "malformed JSON"},
            {"", "empty"},
            {"[1,2,3]", "JSON object"},
            {"{\"max_tokens\":4}", "prompt"},
            {"{\"prompt\":5}", "prompt"},
            {"{\"prompt\":[]}", "prompt"},
            {"{\"prompt\":[1,\"a\"]}", "prompt"},
            {"{\"prompt\":[1,-4]}", "prompt"},
            {"{\"prompt\":[[1,2],[3,4]]}", "one prompt per request"},
            {"{\"prompt\":\"hello\"}", "no tokenizer"},
            {"{\"prompt\":[1,300]}", "vocabulary"},
            {"{\"prompt\":[1,2],\"max_tokens\":\"8\"}", "max_tokens"},
            {"{\"prompt\":[1,2],\"max_tokens\":2.5}", "max_tokens"},
            {"{\"prompt\":[1,2],\"max_tokens\":0}", "max_tokens"},
            {"{\"prompt\":[1,2],\"max_tokens\":-3}", "max_tokens"},
            {"{\"prompt\":[1,2],\"max_tokens\":300}", "maximum context length is 256"},
            {"{\"prompt\":" + IntStream.range(0, 300).map(i -> 5).boxed().toList() + "}", "maximum context length"},
            {"{\"prompt\":[1,2],\"temperature\":\"hot\"}", "temperature"},
            {"{\"prompt\":[1,2],\"temperature\":-1}", "temperature"},
            {"{\"prompt\":[1,2],\"top_p\":0}", "top_p"},
            {"{\"prompt\":[1,2],\"top_p\":1.5}", "top_p"},
            {"{\"prompt\":[1,2],\"seed\":1.5}", "seed"},
            {"{\"prompt\":[1,2],\"stream\":\"yes\"}", "stream"},
            {"{\"prompt\":[1,2],\"n\":2}", "n"},
            {"{\"prompt\":[1,2],\"best_of\":3}", "best_of"},
            {"{\"prompt\":[1,2],\"echo\":true}", "echo"},
            {"{\"prompt\":[1,2],\"logprobs\":2}", "logprobs"},
            {"{\"prompt\":[1,2],\"stop\":7}", "stop"},
            {"{\"prompt\":[1,2],\"stop\":[\"\"]}", "stop"},
            {"{\"prompt\":[1,2],\"stop\":\"x\"}", "tokenizer"},
            {"{\"prompt\":[1,2],\"model\":5}", "model"},
            {"{\"prompt\":[1,2],\"presence_penalty\":0.5}", "presence_penalty"},
            {"{\"prompt\":[1,2],\"skip\":2}", "skip"},
            {"{\"prompt\":[1,2],\"skip\":{\"speedup\":0.5}}", "skip.speedup"},
            {"{\"prompt\":[1,2],\"skip\":{\"speedup\":\"2\"}}", "skip.speedup"},
            {"{\"prompt\":[1,2],\"skip\":{\"strategy\":\"skipdecode\"}}", "skip.strategy"},
            {"{\"prompt\":[1,2],\"skip\":{\"retained\":[0]}}", "skip.retained"},
            {"{\"prompt\":[1,2],\"prompt\":[3]}", "malformed JSON"},
        };
        for (String[] c : cases) {
            TestClient.Reply r = client.complete(c[0]);
            assertEquals(400, r.status(), c[0] + " -> " + r.body());
            assertTrue(r.header("Content-Type").startsWith("application/json"), c[0]);
            JsonNode error = r.json().get("error");
            assertNotNull(error, r.body());
            assertTrue(error.get("message").isTextual() && error.get("message").asText().contains(c[1]),
                    c[0] + " -> " + r.body());
            assertEquals("invalid_request_error", error.get("type").asText());
        }
        // the server is still fine, and the metrics counted every one
        assertEquals(200, client.complete("{\"prompt\":[1,2],\"max_tokens\":2}").status());
        assertTrue(server.metrics().count(ServerMetrics.Outcome.BAD_REQUEST) >= cases.length);
    }

    @Test
    void otherEndpointsAndMethods() throws Exception {
        TestClient.Reply health = client.get("/health");
        assertEquals(200, health.status());
        assertEquals("ok", health.json().get("status").asText());

        JsonNode models = client.get("/v1/models").json();
        assertEquals("list", models.get("object").asText());
        assertEquals("tiny", models.get("data").get(0).get("id").asText());
        assertEquals("model", models.get("data").get(0).get("object").asText());
        assertEquals(256, models.get("data").get(0).get("max_model_len").asInt());
        assertEquals(4, models.get("data").get(0).get("num_layers").asInt());

        TestClient.Reply missing = client.get("/v1/chat/completions");
        assertEquals(404, missing.status());
        assertTrue(missing.json().get("error").get("message").asText().contains("/v1/chat/completions"));
        assertEquals(404, client.get("/v1/completionsX").status());
        assertEquals(404, client.get("/healthz").status());
        TestClient.Reply wrongMethod = client.get("/v1/completions");
        assertEquals(405, wrongMethod.status());
        assertEquals("POST", wrongMethod.header("Allow"));
        assertEquals(405, client.post("/health", "{}").status());

        client.complete("{\"prompt\":[1,2,3],\"max_tokens\":3}");
        TestClient.Reply metrics = client.get("/metrics");
        assertEquals(200, metrics.status());
        assertTrue(metrics.header("Content-Type").startsWith("text/plain"));
        String text = metrics.body();
        for (String name : List.of("skipllm_requests_total{outcome=\"completed\"}", "skipllm_generated_tokens_total",
                "skipllm_active_rows 0", "skipllm_queue_length 0", "skipllm_max_batch 4",
                "skipllm_time_to_first_token_seconds_bucket{le=\"+Inf\"}", "skipllm_time_to_first_token_seconds_count",
                "# TYPE skipllm_time_to_first_token_seconds histogram", "skipllm_engine_requests_total{state=\"accepted\"}")) {
            assertTrue(text.contains(name), name + " in\n" + text);
        }
        for (String line : text.lines().toList()) {
            assertTrue(line.startsWith("#") || line.matches("[a-z_]+(\\{[a-z]+=\"[^\"]+\"\\})? [0-9.]+"), line);
        }
    }

    @Test
    void aFullQueueIs429WithRetryAfter() throws Exception {
        try (CompletionServer small = start(1, 1)) {
            TestClient c = new TestClient(small.port());
            BatchingEngine engine = small.engine();
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            // test only: a listener that holds the engine's thread keeps the one row busy
            RequestHandle busy = engine.submit(new int[] {4, 5, 6}, greedy(2), (p, s, id, t) -> {
                running.countDown();
                awaitQuietly(release);
            });
            assertTrue(running.await(30, TimeUnit.SECONDS));
            RequestHandle queued = engine.submit(new int[] {7, 8}, greedy(2), null);
            TestClient.Reply r = c.complete("{\"prompt\":[1,2,3],\"max_tokens\":2}");
            assertEquals(429, r.status(), r.body());
            assertEquals("1", r.header("Retry-After"));
            assertTrue(r.json().get("error").get("message").asText().contains("busy"), r.body());
            release.countDown();
            busy.result().get(30, TimeUnit.SECONDS);
            queued.result().get(30, TimeUnit.SECONDS);
            assertEquals(200, c.complete("{\"prompt\":[1,2,3],\"max_tokens\":2}").status());
            assertTrue(small.metricsText().contains("skipllm_requests_total{outcome=\"rejected\"} 1"));
        }
    }

    @Test
    void aClientThatLeavesMidStreamCancelsItsRow() throws Exception {
        int[] prompt = longRunningPrompt(200);
        try (CompletionServer own = start(2, 4)) {
            TestClient c = new TestClient(own.port());
            BatchingEngine engine = own.engine();
            // test only: a companion request whose listener sleeps keeps each step at >= 5 ms
            RequestHandle slow = engine.submit(longRunningPrompt(200), greedy(200), (p, s, id, t) -> sleep(5));
            HttpResponse<InputStream> r = c.open("{\"prompt\":" + java.util.Arrays.toString(prompt)
                    + ",\"max_tokens\":200,\"temperature\":0,\"stream\":true}");
            assertEquals(200, r.statusCode());
            BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
            int events = 0;
            while (events < 3) {
                String line = reader.readLine();
                events += line != null && line.startsWith("data: ") ? 1 : 0;
            }
            reader.close(); // the client goes away after three tokens
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (engine.stats().cancelled() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            BatchingEngine.Stats stats = engine.stats();
            assertEquals(1, stats.cancelled(), stats.toString());
            assertTrue(stats.generatedTokens() < 2 * 200, "the row stopped early: " + stats);
            slow.cancel();
            waitIdle(engine);
            assertTrue(own.metricsText().contains("skipllm_requests_total{outcome=\"client_disconnected\"} 1"));
            assertEquals(0, own.metrics().inFlight().get());
        }
    }

    @Test
    void shutdownFinishesAcceptedRequestsAndRefusesNewOnes() throws Exception {
        CompletionServer own = start(2, 4);
        TestClient c = new TestClient(own.port());
        BatchingEngine engine = own.engine();
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        RequestHandle holder = engine.submit(new int[] {4, 5, 6}, greedy(2), (p, s, id, t) -> {
            running.countDown();
            awaitQuietly(release);
        });
        assertTrue(running.await(30, TimeUnit.SECONDS));
        int[] prompt = longRunningPrompt(12);
        String body = "{\"prompt\":" + java.util.Arrays.toString(prompt) + ",\"max_tokens\":12,\"temperature\":0";
        CompletableFuture<TestClient.Stream> streamed = CompletableFuture.supplyAsync(() -> call(() -> c.stream(body
                + ",\"stream\":true}")));
        CompletableFuture<TestClient.Reply> whole = CompletableFuture.supplyAsync(() -> call(() -> c.complete(body + "}")));
        waitFor(() -> engine.stats().accepted() == 3);
        CompletableFuture<Boolean> stopped = CompletableFuture.supplyAsync(() -> own.shutdown(30_000));
        waitFor(() -> !own.accepting());
        // new connections are refused (the listener is closed), closed unanswered (one the kernel queued
        // just before the listener closed: the client reads no bytes) or, on a kept-alive one, answered 503
        try {
            TestClient.Reply refused = new TestClient(own.port()).complete(body + "}");
            assertEquals(503, refused.status(), refused.body());
        } catch (ConnectException expected) {
            // the listening socket is closed
        } catch (IOException expected) {
            assertTrue(String.valueOf(expected.getMessage()).contains("received no bytes"), expected.toString());
        }
        release.countDown();
        assertTrue(stopped.get(60, TimeUnit.SECONDS), "every accepted request finished");
        TestClient.Stream s = streamed.get(30, TimeUnit.SECONDS);
        assertTrue(s.done());
        int[] expected = generator.generate(prompt, greedy(12)).tokens();
        assertArrayEquals(expected, s.tokenIds().stream().mapToInt(Integer::intValue).toArray());
        assertEquals("length", s.last().get("choices").get(0).get("finish_reason").asText());
        assertArrayEquals(expected, ints(whole.get(30, TimeUnit.SECONDS).json().get("choices").get(0).get("token_ids")));
        holder.result().get(1, TimeUnit.SECONDS);
        assertEquals(0, engine.stats().activeRows());
    }

    @Test
    void shutdownWithoutGraceCancelsWithAnError() throws Exception {
        CompletionServer own = start(1, 4);
        TestClient c = new TestClient(own.port());
        BatchingEngine engine = own.engine();
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        engine.submit(new int[] {4, 5, 6}, greedy(3), (p, s, id, t) -> {
            running.countDown();
            awaitQuietly(release);
        });
        assertTrue(running.await(30, TimeUnit.SECONDS));
        String body = "{\"prompt\":[9,9,9],\"max_tokens\":12";
        CompletableFuture<TestClient.Stream> streamed = CompletableFuture.supplyAsync(() -> call(() -> c.stream(body
                + ",\"stream\":true}")));
        CompletableFuture<TestClient.Reply> whole = CompletableFuture.supplyAsync(() -> call(() -> c.complete(body + "}")));
        waitFor(() -> engine.stats().queueLength() == 2);
        CompletableFuture<Boolean> stopped = CompletableFuture.supplyAsync(() -> own.shutdown(0));
        // wait for the engine's own shutdown, not only the server's flag (set a moment earlier): released
        // before it, the engine could free the row and run a queued request to its end first
        waitFor(() -> !engine.isAccepting());
        release.countDown();
        assertFalse(stopped.get(60, TimeUnit.SECONDS));
        TestClient.Reply r = whole.get(30, TimeUnit.SECONDS);
        assertEquals(503, r.status(), r.body());
        assertTrue(r.json().get("error").get("message").asText().contains("cancelled"), r.body());
        TestClient.Stream s = streamed.get(30, TimeUnit.SECONDS);
        assertEquals(200, s.status());
        assertTrue(s.done(), s.raw());
        assertTrue(s.last().get("error").get("message").asText().contains("cancelled"), s.raw());
        BatchingEngine.Stats stats = engine.stats();
        assertEquals(stats.accepted(), stats.completed() + stats.cancelled() + stats.failed(), stats.toString());
        assertEquals(0, stats.activeRows());
        assertEquals(0, stats.queueLength());
    }

    // ---- helpers ----

    interface Call<T> {
        T run() throws Exception;
    }

    static <T> T call(Call<T> call) {
        try {
            return call.run();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting");
            Thread.sleep(5);
        }
    }

    static void waitIdle(BatchingEngine engine) throws InterruptedException {
        waitFor(() -> engine.stats().activeRows() == 0 && engine.stats().queueLength() == 0);
    }
}
