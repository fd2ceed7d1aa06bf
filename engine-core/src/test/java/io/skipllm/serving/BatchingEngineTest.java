package io.skipllm.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import io.skipllm.generation.GenerationCancelledException;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.generation.Generator;
import io.skipllm.model.CausalLm;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.RandomModels;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.SkipStrategy;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Continuous batching: outputs independent of company, cancellation, the queue bound, bad input. */
class BatchingEngineTest {

    private static final LlamaConfig CONFIG = new LlamaConfig("LlamaForCausalLM", 48, 80, 6, 6, 2, 8, 97, 1024,
            1e-6, 10000.0, false, false, "silu", List.of(2), 1, null);

    private static int[] prompt(SplittableRandom random, int length) {
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = 3 + random.nextInt(94);
        }
        return ids;
    }

    private static GenerationConfig config(int speedupIndex, int maxNew, Long seed) {
        GenerationConfig.Builder b = GenerationConfig.builder().maxNewTokens(maxNew)
                .skipPlan(SkipStrategy.UNIFIED, new double[] {1, 2, 3}[speedupIndex]);
        if (seed != null) {
            b.doSample(true).temperature(0.9).topP(0.95).seed(seed);
        }
        return b.build();
    }

    @Test
    void outputsDoNotDependOnCompanyOrArrivalTime() throws Exception {
        CausalLm model = RandomModels.llama(CONFIG, 11);
        SkipAwareDecoder decoder = new SkipAwareDecoder(model);
        Generator generator = new Generator(decoder);
        SplittableRandom random = new SplittableRandom(5);
        int requests = 24;
        List<int[]> prompts = new ArrayList<>();
        List<GenerationConfig> configs = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            // some prompts longer than a prefill chunk, mixed plans, greedy and seeded sampling
            prompts.add(prompt(random, 1 + random.nextInt(i % 5 == 0 ? 70 : 20)));
            configs.add(config(i % 3, 1 + random.nextInt(24), i % 4 == 3 ? (long) i : null));
        }
        List<int[]> alone = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            alone.add(generator.generate(prompts.get(i), configs.get(i)).tokens());
        }
        // also a static batch of the greedy full-depth requests with the same config
        BatchingEngine.Options options = BatchingEngine.Options.defaults(CONFIG).withMaxBatch(4).withMaxQueue(requests)
                .withMaxSequenceLength(128).withPrefillChunk(16);
        try (BatchingEngine engine = BatchingEngine.start(decoder, null, options)) {
            List<RequestHandle> handles = new ArrayList<>();
            List<Thread> clients = new ArrayList<>();
            RequestHandle[] slots = new RequestHandle[requests];
            for (int i = 0; i < requests; i++) {
                int index = i;
                long delay = random.nextInt(40);
                Thread client = new Thread(() -> {
                    try {
                        Thread.sleep(delay);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    slots[index] = engine.submit(prompts.get(index), configs.get(index), null);
                });
                clients.add(client);
                client.start();
            }
            for (Thread client : clients) {
                client.join();
            }
            for (int i = 0; i < requests; i++) {
                GenerationResult result = slots[i].result().get(60, TimeUnit.SECONDS);
                assertArrayEquals(alone.get(i), result.tokens(), "request " + i + " " + configs.get(i));
                handles.add(slots[i]);
            }
            BatchingEngine.Stats stats = engine.stats();
            assertEquals(requests, stats.accepted());
            assertEquals(requests, stats.completed());
            assertEquals(0, stats.activeRows());
            assertEquals(0, stats.queueLength());
        }
    }

    @Test
    void cancellationFreesTheRowAndTheQueueIsBounded() throws Exception {
        CausalLm model = RandomModels.llama(CONFIG, 12);
        SkipAwareDecoder decoder = new SkipAwareDecoder(model);
        BatchingEngine.Options options = BatchingEngine.Options.defaults(CONFIG).withMaxBatch(1).withMaxQueue(2)
                .withMaxSequenceLength(600);
        GenerationConfig endless = GenerationConfig.builder().maxNewTokens(500).stopTokenIds(List.of()).build();
        CountDownLatch streaming = new CountDownLatch(3);
        try (BatchingEngine engine = BatchingEngine.start(decoder, null, options)) {
            RequestHandle running = engine.submit(new int[] {5, 6, 7}, endless, (p, s, t, x) -> streaming.countDown());
            assertTrue(streaming.await(30, TimeUnit.SECONDS));
            RequestHandle queued1 = engine.submit(new int[] {8}, endless, null);
            RequestHandle queued2 = engine.submit(new int[] {9}, endless, null);
            assertThrows(BatchingEngine.QueueFullException.class, () -> engine.submit(new int[] {10}, endless, null));
            queued1.cancel();
            ExecutionException e = assertThrows(ExecutionException.class, () -> queued1.result().get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof GenerationCancelledException);
            running.cancel();
            assertThrows(ExecutionException.class, () -> running.result().get(30, TimeUnit.SECONDS));
            // the freed row goes to the waiting request
            AtomicInteger tokens = new AtomicInteger();
            CountDownLatch started = new CountDownLatch(1);
            queued2.cancel();
            RequestHandle next = engine.submit(new int[] {11, 12}, GenerationConfig.builder().maxNewTokens(5)
                    .stopTokenIds(List.of()).build(), (p, s, t, x) -> {
                        tokens.incrementAndGet();
                        started.countDown();
                    });
            assertEquals(5, next.result().get(30, TimeUnit.SECONDS).tokens().length);
            assertEquals(5, tokens.get());
            BatchingEngine.Stats stats = engine.stats();
            assertEquals(3, stats.cancelled());
            assertEquals(1, stats.rejected());
            assertEquals(0, stats.activeRows());
        }
    }

    @Test
    void aLongPromptDelaysRunningRowsByOneChunkPerStep() throws Exception {
        CausalLm model = RandomModels.llama(CONFIG, 15);
        BatchingEngine.Options options = BatchingEngine.Options.defaults(CONFIG).withMaxBatch(2)
                .withMaxSequenceLength(400).withPrefillChunk(16);
        List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch submitted = new CountDownLatch(1);
        try (BatchingEngine engine = BatchingEngine.start(new SkipAwareDecoder(model), null, options)) {
            GenerationConfig endless = GenerationConfig.builder().maxNewTokens(200).stopTokenIds(List.of()).build();
            // the running row's first token holds the engine's thread (listeners run there) until the long
            // prompt is queued, so the prompt is admitted at the next step whatever the threads' speeds: the
            // row has 199 tokens of budget left for the 20 chunks
            RequestHandle first = engine.submit(new int[] {5, 6}, endless, (p, s, t, x) -> {
                events.add("running");
                if (running.getCount() > 0) {
                    running.countDown();
                    try {
                        submitted.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            assertTrue(running.await(30, TimeUnit.SECONDS));
            int[] longPrompt = prompt(new SplittableRandom(8), 320);  // 20 chunks of 16
            events.add("submitted");
            RequestHandle joining = engine.submit(longPrompt, GenerationConfig.builder().maxNewTokens(1).build(),
                    (p, s, t, x) -> events.add("joined"));
            submitted.countDown();
            joining.result().get(60, TimeUnit.SECONDS);
            first.cancel();
            List<String> seen = new ArrayList<>(events);
            int joinedAt = seen.indexOf("joined");
            int before = 0;
            for (int i = seen.indexOf("submitted"); i < joinedAt; i++) {
                before += seen.get(i).equals("running") ? 1 : 0;
            }
            // the running row kept getting a token every step while the prompt went in, chunk by chunk (all
            // at once, it would have got one or two)
            assertEquals(20, before, "running row's tokens while the long prompt went in: " + seen);
        }
    }

    @Test
    void refusesWhatItCannotRunBeforeQueueing() {
        CausalLm model = RandomModels.llama(CONFIG, 13);
        BatchingEngine.Options options = BatchingEngine.Options.defaults(CONFIG).withMaxSequenceLength(32);
        try (BatchingEngine engine = BatchingEngine.start(new SkipAwareDecoder(model), null, options)) {
            GenerationConfig beams = GenerationConfig.builder().numBeams(2).build();
            assertTrue(assertThrows(BadInputException.class, () -> engine.submit(new int[] {3}, beams, null))
                    .getMessage().contains("beam"));
            GenerationConfig longer = GenerationConfig.builder().maxNewTokens(30).build();
            assertTrue(assertThrows(BadInputException.class, () -> engine.submit(new int[] {3, 4, 5}, longer, null))
                    .getMessage().contains("32"));
            assertThrows(BadInputException.class, () -> engine.submit(new int[] {300}, GenerationConfig.defaults(), null));
            assertThrows(BadInputException.class, () -> engine.submitText("hello", GenerationConfig.defaults(), null));
            assertEquals(0, engine.stats().accepted());
        }
    }

    @Test
    void shutdownFinishesInFlightWorkAndRefusesNewWork() throws Exception {
        CausalLm model = RandomModels.llama(CONFIG, 14);
        BatchingEngine engine = BatchingEngine.start(new SkipAwareDecoder(model), null,
                BatchingEngine.Options.defaults(CONFIG).withMaxBatch(2).withMaxSequenceLength(64));
        List<RequestHandle> handles = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            handles.add(engine.submit(new int[] {3 + i, 4}, GenerationConfig.builder().maxNewTokens(8).build(), null));
        }
        assertTrue(engine.shutdown(60_000));
        for (RequestHandle handle : handles) {
            assertTrue(handle.result().isDone() && !handle.result().isCompletedExceptionally());
        }
        assertThrows(IllegalStateException.class, () -> engine.submit(new int[] {3},
                GenerationConfig.builder().maxNewTokens(8).build(), null));
        engine.close();
    }
}
