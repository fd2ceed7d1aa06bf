package io.skipllm.generation;

import static io.skipllm.generation.GenerationFixtures.assertResultsEqual;
import static io.skipllm.generation.GenerationFixtures.prompts;

import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.SkipStrategy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** One generator shared by four threads gives exactly what it gives sequentially. */
class GeneratorConcurrencyTest {

    @Test
    void fourThreadsGiveTheSequentialResults() throws Exception {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()),
                new GenerationFixtures.WordCodec());
        List<int[]> prompts = prompts(new int[] {5, 17, 33}, new int[] {40, 2, 9, 11, 70, 1});
        GenerationConfig base = GenerationConfig.builder().skipPlan(SkipStrategy.UNIFIED, 2.0).maxNewTokens(10).build();
        List<GenerationConfig> configs = List.of(
                base,
                base.toBuilder().numBeams(3).numReturnSequences(2).build(),
                base.toBuilder().doSample(true).seed(17).temperature(0.9).topP(0.95).build(),
                base.toBuilder().noRepeatNgramSize(2).repetitionPenalty(1.3).build());
        List<List<GenerationResult>> sequential = new ArrayList<>();
        for (GenerationConfig c : configs) {
            sequential.add(generator.generate(prompts, c, null));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 2; round++) {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<List<GenerationResult>>> futures = new ArrayList<>();
                for (GenerationConfig c : configs) {
                    Callable<List<GenerationResult>> task = () -> {
                        go.await();
                        return generator.generate(prompts, c, null);
                    };
                    futures.add(pool.submit(task));
                }
                go.countDown();
                for (int i = 0; i < configs.size(); i++) {
                    List<GenerationResult> concurrent = futures.get(i).get();
                    for (int b = 0; b < prompts.size(); b++) {
                        assertResultsEqual(sequential.get(i).get(b), concurrent.get(b), 0,
                                "round " + round + " config " + i + " prompt " + b);
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
