package io.skipllm.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import io.skipllm.model.BloomConfig;
import io.skipllm.model.CausalLm;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.Model;
import io.skipllm.model.RandomModels;
import io.skipllm.model.ReferenceLogits;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.SkipStrategy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Lossless mode: greedy output token-identical to full depth (random models, every reference fixture,
 * batches of mixed lengths, several plans and draft lengths); sampling distributed as full-depth
 * sampling (chi-square against the exact marginals of a tiny model).
 */
class SelfSpeculativeTest {

    private static final LlamaConfig LLAMA = new LlamaConfig("LlamaForCausalLM", 48, 80, 8, 6, 2, 8, 97, 1024, 1e-6,
            10000.0, false, false, "silu", List.of(2), 1, null);
    private static final BloomConfig BLOOM = new BloomConfig("BloomForCausalLM", 48, 6, 6, 97, 1024, 1e-5, List.of(2),
            1, null);

    private static List<int[]> prompts(SplittableRandom random, int count, int vocab, int context) {
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            // one prompt longer than a host-pass call where the context allows
            int[] p = new int[1 + random.nextInt(Math.min(i == 0 ? 300 : 30, context - 41))];
            for (int j = 0; j < p.length; j++) {
                p[j] = 3 + random.nextInt(vocab - 3);
            }
            prompts.add(p);
        }
        return prompts;
    }

    private static void assertGreedyMatchesFullDepth(SkipAwareDecoder decoder, List<int[]> prompts, String what) {
        assertGreedyMatchesFullDepth(decoder, prompts, what, List.of(SkipStrategy.UNIFIED, SkipStrategy.TOP,
                SkipStrategy.BOTTOM), new int[] {1, 4, 9});
    }

    private static void assertGreedyMatchesFullDepth(SkipAwareDecoder decoder, List<int[]> prompts, String what,
            List<SkipStrategy> strategies, int[] draftLengths) {
        Generator generator = new Generator(decoder);
        GenerationConfig full = GenerationConfig.builder().maxNewTokens(40).build();
        List<GenerationResult> expected = generator.generate(prompts, full, null);
        for (SkipStrategy strategy : strategies) {
            for (double speedup : new double[] {2, 3}) {
                for (int k : draftLengths) {
                    GenerationConfig lossless = full.toBuilder().skipPlan(strategy, speedup).lossless(true)
                            .draftTokens(k).build();
                    List<GenerationResult> actual = generator.generate(prompts, lossless, null);
                    for (int i = 0; i < prompts.size(); i++) {
                        assertArrayEquals(expected.get(i).tokens(), actual.get(i).tokens(),
                                what + " prompt " + i + " " + strategy + " " + speedup + "x k=" + k);
                        assertEquals(expected.get(i).best().logprob(), actual.get(i).best().logprob(), 1e-9);
                    }
                    GenerationResult.Speculation stats = actual.get(0).speculation();
                    assertNotNull(stats);
                    assertEquals(k, stats.drafted().length);
                    assertTrue(stats.acceptanceRate() >= 0 && stats.acceptanceRate() <= 1);
                }
            }
        }
    }

    @Test
    void greedyIsTokenIdenticalToFullDepthOnRandomModels() {
        SplittableRandom random = new SplittableRandom(3);
        for (CausalLm model : List.<CausalLm>of(RandomModels.llama(LLAMA, 21), RandomModels.bloom(BLOOM, 22))) {
            assertGreedyMatchesFullDepth(new SkipAwareDecoder(model), prompts(random, 4, 97, 1024), model.config().architecture());
        }
    }

    @Test
    void greedyIsTokenIdenticalToFullDepthOnEveryReferenceFixture() {
        SplittableRandom random = new SplittableRandom(4);
        for (Path dir : ReferenceLogits.fixtureDirs(Path.of("..", "models", "reference", "fixtures"))) {
            try (Model model = Model.load(dir)) {
                assertGreedyMatchesFullDepth(model.decoder(), prompts(random, 3, model.config().vocabSize(),
                        model.config().maxPositions()), dir.getFileName().toString(), List.of(SkipStrategy.UNIFIED),
                        new int[] {2, 5});
            }
        }
    }

    @Test
    void greedyWithLogitsProcessorsMatchesFullDepth() {
        SkipAwareDecoder decoder = new SkipAwareDecoder(RandomModels.llama(LLAMA, 23));
        Generator generator = new Generator(decoder);
        List<int[]> prompts = prompts(new SplittableRandom(5), 3, 97, 1024);
        GenerationConfig full = GenerationConfig.builder().maxNewTokens(30).repetitionPenalty(1.3)
                .noRepeatNgramSize(2).build();
        List<GenerationResult> expected = generator.generate(prompts, full, null);
        List<GenerationResult> actual = generator.generate(prompts,
                full.toBuilder().skipPlan(SkipStrategy.UNIFIED, 2).lossless(true).draftTokens(3).build(), null);
        for (int i = 0; i < prompts.size(); i++) {
            assertArrayEquals(expected.get(i).tokens(), actual.get(i).tokens());
        }
    }

    /** A tiny model whose skipped layers change the distribution a lot, so drafts are often rejected. */
    private static final LlamaConfig TINY = new LlamaConfig("LlamaForCausalLM", 16, 24, 6, 2, 2, 8, 12, 64, 1e-6,
            10000.0, false, false, "silu", List.of(), 1, null);

    @Test
    void samplingFollowsTheFullDepthDistribution() {
        CausalLm network = RandomModels.llama(TINY, 31);
        SkipAwareDecoder decoder = new SkipAwareDecoder(network);
        Generator generator = new Generator(decoder);
        int[] prompt = {4, 7, 1};
        double temperature = 0.6;
        int vocab = TINY.vocabSize();
        // exact full-depth marginals of the 2nd and 3rd tokens (the first comes from the prompt pass)
        double[] first = probabilities(decoder, prompt, temperature);
        double[] second = new double[vocab];
        double[] third = new double[vocab];
        for (int a = 0; a < vocab; a++) {
            double[] pb = probabilities(decoder, append(prompt, a), temperature);
            for (int b = 0; b < vocab; b++) {
                second[b] += first[a] * pb[b];
                double[] pc = probabilities(decoder, append(append(prompt, a), b), temperature);
                for (int c = 0; c < vocab; c++) {
                    third[c] += first[a] * pb[b] * pc[c];
                }
            }
        }
        int samples = 3000;
        GenerationConfig sampling = GenerationConfig.builder().maxNewTokens(3).doSample(true).temperature(temperature)
                .topK(0).stopTokenIds(List.of()).numReturnSequences(samples).seed(99L).build();
        GenerationConfig lossless = sampling.toBuilder().skipPlan(SkipStrategy.UNIFIED, 3).lossless(true).draftTokens(2)
                .build();
        GenerationResult result = generator.generate(List.of(prompt), lossless, null).get(0);
        double acceptance = result.speculation().acceptanceRate();
        assertTrue(acceptance > 0.05 && acceptance < 0.95, "drafts should be rejected sometimes: " + acceptance);
        // df = 11; the 0.1% critical value is 31.3
        assertTrue(chiSquare(counts(result, 1, vocab), second) < 31.3, "2nd token");
        assertTrue(chiSquare(counts(result, 2, vocab), third) < 31.3, "3rd token");
        // the test has power: the draft plan's own sampling is far from full depth
        GenerationResult drafts = generator.generate(List.of(prompt),
                sampling.toBuilder().skipPlan(SkipStrategy.UNIFIED, 3).build(), null).get(0);
        assertTrue(chiSquare(counts(drafts, 1, vocab), second) > 100, "the skip plan samples differently");
    }

    private static int[] append(int[] a, int t) {
        int[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = t;
        return out;
    }

    private static double[] probabilities(SkipAwareDecoder decoder, int[] prompt, double temperature) {
        try (Conversation c = new Generator(decoder).conversation(prompt.length + 1)) {
            float[] logits = c.append(prompt);
            double[] scores = new double[logits.length];
            for (int v = 0; v < logits.length; v++) {
                scores[v] = logits[v] / temperature;
            }
            return LogitsProcessors.softmax(scores);
        }
    }

    private static long[] counts(GenerationResult result, int position, int vocab) {
        long[] counts = new long[vocab];
        for (Hypothesis h : result.hypotheses()) {
            counts[h.tokens()[position]]++;
        }
        return counts;
    }

    private static double chiSquare(long[] observed, double[] expected) {
        long n = java.util.Arrays.stream(observed).sum();
        double chi = 0;
        for (int v = 0; v < observed.length; v++) {
            double e = expected[v] * n;
            chi += (observed[v] - e) * (observed[v] - e) / Math.max(e, 1e-9);
        }
        return chi;
    }

    @Test
    void refusesBeamsAndBadDraftLengths() {
        assertThrows(BadInputException.class, () -> GenerationConfig.builder().lossless(true).numBeams(2).build());
        assertThrows(BadInputException.class, () -> GenerationConfig.builder().draftTokens(0).build());
        assertThrows(BadInputException.class, () -> GenerationConfig.builder().draftTokens(17).build());
    }
}
