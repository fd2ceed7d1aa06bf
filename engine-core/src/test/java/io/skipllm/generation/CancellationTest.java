package io.skipllm.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.model.LlamaConfig;
import io.skipllm.model.Model;
import io.skipllm.model.RandomModels;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A generation cancelled from another thread stops within one decode step and closes its session. */
class CancellationTest {

    private static final int MAX_NEW = 200;

    /** Room for 200 new tokens (the shared fixture has 128 positions). */
    private static Model model() {
        LlamaConfig config = new LlamaConfig("LlamaForCausalLM", 32, 48, 4, 4, 2, 8, GenerationFixtures.VOCAB, 512,
                1e-6, 10000.0, false, false, "silu", List.of(GenerationFixtures.EOS), 1, null);
        return Model.of(RandomModels.llama(config, 31));
    }

    /** No stop tokens, so only the length limit or a cancellation ends the generation. */
    private static GenerationConfig.Builder endless() {
        return GenerationConfig.builder().fullDepth().maxNewTokens(MAX_NEW).stopTokenIds(List.of());
    }

    @Test
    void greedyCancelledFromAnotherThreadStopsWithinOneStep() throws Exception {
        Model model = model();
        Generator generator = model.generator();
        Cancellation cancellation = new Cancellation();
        AtomicInteger streamed = new AtomicInteger();
        CountDownLatch thirdToken = new CountDownLatch(1);
        CountDownLatch cancelled = new CountDownLatch(1);
        Thread canceller = new Thread(() -> {
            try {
                thirdToken.await();
                cancellation.cancel();
                cancelled.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        canceller.start();
        TokenStreamListener listener = (prompt, sequence, token, text) -> {
            if (streamed.incrementAndGet() == 3) {
                thirdToken.countDown();
                try { // wait until the other thread has cancelled, so the test does not depend on timing
                    assertTrue(cancelled.await(10, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                () -> generator.generate(GenerationFixtures.prompts(new int[] {5, 6, 7}), endless().build(), listener,
                        cancellation));
        canceller.join();
        assertTrue(streamed.get() <= 3 + 1, "tokens streamed after the cancel: " + streamed.get());
        assertEquals(3, e.steps());
        assertTrue(e.getMessage().contains("3 decode steps"), e.getMessage());
        model.close();
        assertTrue(model.isReleased(), "the cancelled generation's session must be closed");
    }

    @Test
    void beamSearchCancelledBeforeTheFirstStepRunsNone() {
        Model model = model();
        Cancellation cancellation = new Cancellation();
        cancellation.cancel();
        GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                () -> model.generator().generate(GenerationFixtures.prompts(new int[] {5, 6}),
                        endless().numBeams(3).build(), null, cancellation));
        assertEquals(0, e.steps());
        model.close();
        assertTrue(model.isReleased(), "the cancelled beam search's session must be closed");
    }

    @Test
    void beamSearchCancelledFromAnotherThreadStops() throws Exception {
        Model model = model();
        Generator generator = model.generator();
        // the search's check before step 2 waits until this thread has cancelled: a cancel from another
        // thread at a known step, without a sleep deciding when
        CountDownLatch atStep2 = new CountDownLatch(1);
        CountDownLatch cancelledNow = new CountDownLatch(1);
        Cancellation cancellation = new Cancellation(steps -> {
            if (steps == 2) {
                atStep2.countDown();
                try {
                    assertTrue(cancelledNow.await(30, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        CompletableFuture<List<GenerationResult>> running = CompletableFuture.supplyAsync(() -> generator.generate(
                GenerationFixtures.prompts(new int[] {5, 6}, new int[] {9}), endless().numBeams(4).build(), null,
                cancellation));
        assertTrue(atStep2.await(60, TimeUnit.SECONDS));
        cancellation.cancel();
        cancelledNow.countDown();
        ExecutionException e = assertThrows(ExecutionException.class, () -> running.get(60, TimeUnit.SECONDS));
        GenerationCancelledException cancelled = assertInstanceOf(e.getCause());
        assertEquals(2, cancelled.steps(), cancelled.getMessage());
        model.close();
        assertTrue(model.isReleased());
    }

    @Test
    void aTokenNobodyCancelsChangesNothing() {
        Model model = model();
        Generator generator = model.generator();
        GenerationConfig config = endless().maxNewTokens(12).build();
        List<int[]> prompts = GenerationFixtures.prompts(new int[] {5, 6, 7});
        GenerationResult plain = generator.generate(prompts, config, null).get(0);
        GenerationResult withToken = generator.generate(prompts, config, null, new Cancellation()).get(0);
        GenerationFixtures.assertResultsEqual(plain, withToken, 0.0, "uncancelled");
        assertFalse(new Cancellation().isCancelled());
        model.close();
    }

    private static GenerationCancelledException assertInstanceOf(Throwable t) {
        assertTrue(t instanceof GenerationCancelledException, "expected a cancellation, got " + t);
        return (GenerationCancelledException) t;
    }
}
