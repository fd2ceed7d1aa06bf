package io.skipllm.generation;

import static io.skipllm.generation.GenerationFixtures.assertBadInput;
import static io.skipllm.generation.GenerationFixtures.assertResultsEqual;
import static io.skipllm.generation.GenerationFixtures.prompts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.SkipStrategy;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Multinomial sampling: reproducibility, independence from batching, and the warpers' limits. */
class SamplingTest {

    private static final List<int[]> PROMPTS = prompts(new int[] {5, 17, 33}, new int[] {40, 2, 9, 11, 70, 1},
            new int[] {30});

    private static GenerationConfig.Builder sampling(long seed) {
        return GenerationConfig.builder().skipPlan(SkipStrategy.UNIFIED, 2.0).maxNewTokens(12).doSample(true)
                .stopTokenIds(List.of()).seed(seed);
    }

    private static Generator generator() {
        return new Generator(new SkipAwareDecoder(GenerationFixtures.llama()), new GenerationFixtures.WordCodec());
    }

    @Test
    void theSameSeedGivesTheSameSamplesAndOtherSeedsDiffer() {
        Generator g = generator();
        List<GenerationResult> a = g.generate(PROMPTS, sampling(42).build(), null);
        List<GenerationResult> b = g.generate(PROMPTS, sampling(42).build(), null);
        for (int i = 0; i < PROMPTS.size(); i++) {
            assertResultsEqual(a.get(i), b.get(i), 0, "prompt " + i);
        }
        Set<String> outputs = new HashSet<>();
        for (long seed = 1; seed <= 5; seed++) {
            outputs.add(Arrays.toString(g.generate(PROMPTS.get(0), sampling(seed).build()).tokens()));
        }
        assertTrue(outputs.size() > 1, "five seeds gave one output: " + outputs);
    }

    @Test
    void aPromptSamplesTheSameAloneAndInABatch() {
        Generator g = generator();
        List<GenerationResult> batched = g.generate(PROMPTS, sampling(7).temperature(0.8).topP(0.9).build(), null);
        for (int i = 0; i < PROMPTS.size(); i++) {
            assertResultsEqual(g.generate(PROMPTS.get(i), sampling(7).temperature(0.8).topP(0.9).build()),
                    batched.get(i), 1e-4, "prompt " + i);
        }
    }

    @Test
    void topKOneIsGreedy() {
        Generator g = generator();
        GenerationConfig greedy = sampling(0).doSample(false).build();
        for (long seed : new long[] {1, 2, 3}) {
            List<GenerationResult> sampled = g.generate(PROMPTS, sampling(seed).topK(1).temperature(0.7).build(), null);
            List<GenerationResult> argmax = g.generate(PROMPTS, greedy, null);
            for (int i = 0; i < PROMPTS.size(); i++) {
                assertResultsEqual(argmax.get(i), sampled.get(i), 0, "seed " + seed + " prompt " + i);
            }
        }
    }

    @Test
    void sampledLogprobsAreTheModelsNotTheWarpedOnes() {
        SkipAwareDecoder decoder = new SkipAwareDecoder(GenerationFixtures.llama());
        GenerationResult r = new Generator(decoder).generate(PROMPTS.get(1), sampling(3).temperature(0.5).topK(5)
                .build());
        assertEquals(GenerationFixtures.manualLogprob(decoder, PROMPTS.get(1), r.tokens(), r.retained()),
                r.best().logprob(), 1e-4);
        assertEquals(r.best().logprob() / r.tokens().length, r.best().score(), 1e-9);
    }

    @Test
    void numReturnSequencesDrawsIndependentSamplesSortedByScore() {
        Generator g = generator();
        GenerationResult r = g.generate(PROMPTS.get(0), sampling(11).numReturnSequences(4).build());
        assertEquals(4, r.hypotheses().size());
        for (int i = 1; i < 4; i++) {
            assertTrue(r.hypotheses().get(i - 1).score() >= r.hypotheses().get(i).score());
        }
        Set<String> distinct = new HashSet<>();
        r.hypotheses().forEach(h -> distinct.add(Arrays.toString(h.tokens())));
        assertTrue(distinct.size() > 1, "four samples were identical");
        // sequence 0 of a multi-sample request is the single sample of the same seed
        GenerationResult single = g.generate(PROMPTS.get(0), sampling(11).build());
        assertTrue(r.hypotheses().stream().anyMatch(h -> Arrays.equals(h.tokens(), single.tokens())));
    }

    @Test
    void streamingSampledTokensMatchTheResult() {
        Generator g = generator();
        int[][] seen = new int[PROMPTS.size()][12];
        int[] counts = new int[PROMPTS.size()];
        List<GenerationResult> results = g.generate(PROMPTS, sampling(5).build(),
                (p, seq, id, text) -> seen[p][counts[p]++] = id);
        for (int i = 0; i < PROMPTS.size(); i++) {
            assertArrayEquals(results.get(i).tokens(), Arrays.copyOf(seen[i], counts[i]));
        }
    }

    @Test
    void samplingSettingsAreValidatedNamingTheField() {
        assertBadInput("temperature", () -> sampling(1).temperature(0).build());
        assertBadInput("temperature", () -> sampling(1).temperature(-0.5).build());
        assertBadInput("temperature", () -> sampling(1).temperature(Double.NaN).build());
        assertBadInput("topP", () -> sampling(1).topP(0).build());
        assertBadInput("topP", () -> sampling(1).topP(1.5).build());
        assertBadInput("topP", () -> sampling(1).topP(Double.NaN).build());
        assertBadInput("topK", () -> sampling(1).topK(-1).build());
        assertBadInput("repetitionPenalty", () -> sampling(1).repetitionPenalty(0).build());
        assertBadInput("doSample", () -> sampling(1).numBeams(2).build());
    }

    @Test
    void processorsFollowHuggingFaceDefinitions() {
        double[] s = {2.0, -1.0, 0.5, 3.0};
        LogitsProcessors.penaliseRepetitions(s, new int[] {0, 1, 0}, 3, 2.0);
        assertArrayEquals(new double[] {1.0, -2.0, 0.5, 3.0}, s, 1e-12, "each seen token penalised once");

        double[] n = new double[6];
        LogitsProcessors.banRepeatedNgrams(n, new int[] {1, 2, 3, 1, 2, 1}, 6, 2);
        // prefix [1]: followed by 2 (twice) -> 2 banned; nothing else
        assertEquals(Double.NEGATIVE_INFINITY, n[2]);
        assertEquals(1, Arrays.stream(n).filter(v -> v == Double.NEGATIVE_INFINITY).count());
        double[] n3 = new double[6];
        LogitsProcessors.banRepeatedNgrams(n3, new int[] {1, 2, 3, 1, 2}, 5, 3);
        assertEquals(Double.NEGATIVE_INFINITY, n3[3], "trigram 1,2,3 may not repeat");

        double[] k = {1, 5, 3, 5, 0};
        LogitsProcessors.keepTopK(k, 2);
        assertArrayEquals(new double[] {Double.NEGATIVE_INFINITY, 5, Double.NEGATIVE_INFINITY, 5,
                Double.NEGATIVE_INFINITY}, k);

        double[] p = {Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)};
        LogitsProcessors.keepTopP(p, 0.75);
        assertTrue(Double.isFinite(p[0]) && Double.isFinite(p[1]));
        assertEquals(Double.NEGATIVE_INFINITY, p[2]);
        double[] p2 = {Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)};
        LogitsProcessors.keepTopP(p2, 0.85);
        assertTrue(Double.isFinite(p2[2]) && p2[3] == Double.NEGATIVE_INFINITY);
        double[] p3 = {0, -50, -60};
        LogitsProcessors.keepTopP(p3, 0.01);
        assertTrue(Double.isFinite(p3[0]) && p3[1] == Double.NEGATIVE_INFINITY, "at least one token stays");
    }

    @Test
    void theSamplerFollowsTheDistribution() {
        double[] scores = {Math.log(0.7), Math.log(0.2), Math.log(0.1), Double.NEGATIVE_INFINITY};
        int[] counts = new int[4];
        java.util.SplittableRandom random = Sampler.random(123, new int[] {1, 2}, 0);
        for (int i = 0; i < 20000; i++) {
            counts[Sampler.sample(scores, random)]++;
        }
        assertEquals(0, counts[3]);
        assertEquals(0.7, counts[0] / 20000.0, 0.02);
        assertEquals(0.2, counts[1] / 20000.0, 0.02);
    }
}
