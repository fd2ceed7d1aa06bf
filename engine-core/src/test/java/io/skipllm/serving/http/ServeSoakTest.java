package io.skipllm.serving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skipllm.model.Model;
import io.skipllm.model.RandomModels;
import io.skipllm.serving.BatchingEngine;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A bounded soak of the server on loopback: a few hundred requests from 16 concurrent clients against
 * 4 batch rows and a queue of 8 (so some are refused with 429), random prompt lengths, max_tokens,
 * sampling and skip plans, half of them streamed, a quarter of the streams dropped by the client
 * mid-stream, some malformed or impossible. Every request must end in one of the expected ways, every
 * accepted one must be accounted for (a complete response, or cancelled by its client leaving), the
 * engine must end idle, and resident memory must come back within {@link #RSS_BOUND_MIB} MiB of
 * what it was after a warm-up pass of the same mix.
 */
class ServeSoakTest {

    static final String SPEC = "random:llama,layers=4,hidden=64,heads=4,kv_heads=2,intermediate=128,vocab=300,"
            + "context=128,seed=1";
    static final int CLIENTS = 14;
    static final int WARMUP_REQUESTS = 120;
    static final int SOAK_REQUESTS = 360;
    /** Growth of VmRSS from after warm-up to after the soak that the test accepts (leak detector, not a budget). */
    static final long RSS_BOUND_MIB = 96;
    /** A refused client waits this long before its next request. */
    static final long REJECTED_BACKOFF_MILLIS = 100;

    /** How a request ended, as the client saw it. */
    enum Seen { COMPLETE, STREAM_COMPLETE, CLIENT_CANCELLED, BAD_REQUEST, REJECTED, OTHER_ENDPOINT }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void everyRequestIsAccountedForAndNothingLeaks() throws Exception {
        try (Model model = Model.of(RandomModels.fromSpec(SPEC))) {
            BatchingEngine engine = BatchingEngine.start(model.decoder(), null,
                    BatchingEngine.Options.defaults(model.config()).withMaxBatch(4).withMaxQueue(8));
            try (CompletionServer server = CompletionServer.start(engine,
                    CompletionServer.Options.defaults("soak").withPort(0))) {
                TestClient client = new TestClient(server.port());

                run(client, WARMUP_REQUESTS, 1);
                awaitIdle(server);
                long rssWarm = settledRssKib();
                BatchingEngine.Stats before = engine.stats();
                Map<Seen, Long> beforeMetrics = outcomes(server);

                long start = System.nanoTime();
                Map<Seen, LongAdder> seen = run(client, SOAK_REQUESTS, 2);
                double seconds = (System.nanoTime() - start) / 1e9;
                awaitIdle(server);
                long rssEnd = settledRssKib();

                BatchingEngine.Stats after = engine.stats();
                long accepted = after.accepted() - before.accepted();
                long completed = after.completed() - before.completed();
                long cancelled = after.cancelled() - before.cancelled();
                long complete = count(seen, Seen.COMPLETE) + count(seen, Seen.STREAM_COMPLETE);
                long clientCancelled = count(seen, Seen.CLIENT_CANCELLED);
                String summary = String.format("soak: %d requests in %.1f s: %s; engine %s; VmRSS after warm-up %d KiB,"
                        + " after soak %d KiB", SOAK_REQUESTS, seconds, seen, after, rssWarm, rssEnd);
                System.out.println(summary);

                long total = seen.values().stream().mapToLong(LongAdder::sum).sum();
                assertEquals(SOAK_REQUESTS, total, summary);
                assertTrue(count(seen, Seen.REJECTED) > 0 && count(seen, Seen.CLIENT_CANCELLED) > 0
                        && count(seen, Seen.BAD_REQUEST) > 0 && count(seen, Seen.STREAM_COMPLETE) > 0, summary);
                // every accepted request: a complete response, or its client left
                assertEquals(accepted, complete + clientCancelled, summary);
                assertEquals(accepted, completed + cancelled, summary);
                assertEquals(0, after.failed() - before.failed(), summary);
                assertTrue(cancelled <= clientCancelled, summary);
                assertEquals(count(seen, Seen.REJECTED), after.rejected() - before.rejected(), summary);
                assertEquals(0, after.activeRows(), summary);
                assertEquals(0, after.queueLength(), summary);
                // the server's own books agree
                Map<Seen, Long> metrics = outcomes(server);
                long served = metrics.get(Seen.COMPLETE) - beforeMetrics.get(Seen.COMPLETE);
                long left = metrics.get(Seen.CLIENT_CANCELLED) - beforeMetrics.get(Seen.CLIENT_CANCELLED);
                assertEquals(accepted, served + left, summary + "\n" + server.metricsText());
                assertEquals(0, server.metrics().inFlight().get());
                if (rssWarm > 0) {
                    assertTrue(rssEnd - rssWarm < RSS_BOUND_MIB * 1024, summary);
                }
                assertEquals(200, client.get("/health").status());
            }
            BatchingEngine.Stats end = engine.stats();
            assertEquals(0, end.activeRows());
            assertEquals(0, end.queueLength());
        }
    }

    /** {@code requests} requests from {@link #CLIENTS} threads; what each client saw. */
    private static Map<Seen, LongAdder> run(TestClient client, int requests, long seed) throws Exception {
        Map<Seen, LongAdder> seen = new ConcurrentHashMap<>();
        for (Seen s : Seen.values()) {
            seen.put(s, new LongAdder());
        }
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                futures.add(pool.submit(() -> {
                    int i;
                    while ((i = next.getAndIncrement()) < requests) {
                        Seen s = one(client, new SplittableRandom(seed * 1_000_003L + i));
                        seen.get(s).increment();
                        if (s == Seen.REJECTED) {
                            Thread.sleep(REJECTED_BACKOFF_MILLIS); // as Retry-After asks, scaled down
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(150, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        return seen;
    }

    /** One random request, checked as the client sees it. */
    private static Seen one(TestClient client, SplittableRandom random) throws Exception {
        int kind = random.nextInt(100);
        if (kind < 2) {
            TestClient.Reply r = client.get(random.nextBoolean() ? "/metrics" : "/health");
            assertEquals(200, r.status());
            return Seen.OTHER_ENDPOINT;
        }
        if (kind < 10) {
            String[] bad = {"{\"prompt\":[1,2,3", "{\"prompt\":[1,2],\"max_tokens\":\"many\"}", "{\"prompt\":[1,2],\"n\":3}",
                "{\"prompt\":[1,300]}", "{\"prompt\":" + ids(random, 120) + ",\"max_tokens\":20}", "[]",
                "{\"prompt\":[1,2],\"stream\":1}", "{\"prompt\":[1,2],\"max_tokens\":0}"};
            TestClient.Reply r = client.complete(bad[random.nextInt(bad.length)]);
            assertEquals(400, r.status(), r.body());
            assertTrue(r.json().get("error").get("message").isTextual());
            return Seen.BAD_REQUEST;
        }
        int maxTokens = 1 + random.nextInt(40);
        StringBuilder body = new StringBuilder("{\"prompt\":").append(ids(random, 1 + random.nextInt(60)))
                .append(",\"max_tokens\":").append(maxTokens);
        if (random.nextBoolean()) {
            body.append(",\"temperature\":0");
        } else {
            body.append(",\"temperature\":0.8,\"seed\":").append(random.nextInt(1000));
        }
        int plan = random.nextInt(3);
        if (plan == 1) {
            body.append(",\"skip\":{\"speedup\":2}");
        } else if (plan == 2) {
            body.append(",\"skip\":{\"speedup\":2,\"strategy\":\"top\"}");
        }
        boolean stream = random.nextBoolean();
        if (!stream) {
            TestClient.Reply r = client.complete(body.append('}').toString());
            if (r.status() == 429) {
                assertEquals("1", r.header("Retry-After"));
                return Seen.REJECTED;
            }
            assertEquals(200, r.status(), r.body());
            JsonNode choice = r.json().get("choices").get(0);
            assertTrue(choice.get("token_ids").size() >= 1 && choice.get("token_ids").size() <= maxTokens, r.body());
            assertTrue(choice.get("finish_reason").asText().matches("stop|length"), r.body());
            return Seen.COMPLETE;
        }
        body.append(",\"stream\":true}");
        int leaveAfter = random.nextInt(4) == 0 ? random.nextInt(4) : -1;
        HttpResponse<InputStream> r = client.open(body.toString());
        if (r.statusCode() == 429) {
            r.body().close();
            return Seen.REJECTED;
        }
        assertEquals(200, r.statusCode());
        int events = 0;
        boolean done = false;
        String finish = null;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            if (leaveAfter == 0) {
                return Seen.CLIENT_CANCELLED;
            }
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.startsWith("data: ")) {
                    continue;
                }
                if (line.equals("data: [DONE]")) {
                    done = true;
                    break;
                }
                JsonNode event = TestClient.JSON.readTree(line.substring(6));
                assertTrue(!event.has("error"), line);
                JsonNode reason = event.get("choices").get(0).get("finish_reason");
                if (!reason.isNull()) {
                    finish = reason.asText();
                }
                if (++events == leaveAfter) {
                    return Seen.CLIENT_CANCELLED; // closing the reader drops the connection mid-stream
                }
            }
        } catch (IOException e) {
            throw new AssertionError("the stream broke: " + e, e);
        }
        assertTrue(done && finish != null && finish.matches("stop|length"), "complete stream");
        return Seen.STREAM_COMPLETE;
    }

    private static String ids(SplittableRandom random, int length) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < length; i++) {
            b.append(i == 0 ? "" : ",").append(3 + random.nextInt(297));
        }
        return b.append(']').toString();
    }

    private static long count(Map<Seen, LongAdder> seen, Seen s) {
        return seen.get(s).sum();
    }

    private static Map<Seen, Long> outcomes(CompletionServer server) {
        return Map.of(Seen.COMPLETE, server.metrics().count(ServerMetrics.Outcome.COMPLETED),
                Seen.CLIENT_CANCELLED, server.metrics().count(ServerMetrics.Outcome.CLIENT_DISCONNECTED));
    }

    /** Cancellations of dropped streams land asynchronously: wait until the engine and handlers are idle. */
    private static void awaitIdle(CompletionServer server) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            BatchingEngine.Stats s = server.engine().stats();
            if (s.activeRows() == 0 && s.queueLength() == 0 && server.metrics().inFlight().get() == 0
                    && s.accepted() == s.completed() + s.cancelled() + s.failed()) {
                return;
            }
            Thread.sleep(20);
        }
    }

    /** VmRSS in KiB after a full GC, or -1 where /proc is missing. */
    private static long settledRssKib() throws Exception {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return -1;
        }
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
