package io.skipllm.generation;

import static io.skipllm.generation.GenerationFixtures.assertResultsEqual;
import static io.skipllm.generation.GenerationFixtures.prompts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.model.CausalLm;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.SkipStrategy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Beam search: hypotheses checked against hand-run sessions, ordering, penalties and batching. */
class BeamSearchTest {

    static Stream<CausalLm> models() {
        return Stream.of(GenerationFixtures.llama(), GenerationFixtures.bloom());
    }

    private static GenerationConfig.Builder beams(int k, int maxNew) {
        return GenerationConfig.builder().skipPlan(SkipStrategy.UNIFIED, 2.0).numBeams(k).numReturnSequences(k)
                .maxNewTokens(maxNew);
    }

    @ParameterizedTest
    @MethodSource("models")
    void everyHypothesisLogprobIsWhatTheModelGivesItsTokens(CausalLm model) {
        SkipAwareDecoder decoder = new SkipAwareDecoder(model);
        Generator generator = new Generator(decoder);
        int[] prompt = {5, 17, 33, 8};
        for (double lp : new double[] {1.0, 0.5, 2.0, -1.0}) {
            GenerationResult r = generator.generate(prompt, beams(4, 8).lengthPenalty(lp).build());
            assertEquals(4, r.hypotheses().size());
            for (Hypothesis h : r.hypotheses()) {
                double manual = GenerationFixtures.manualLogprob(decoder, prompt, h.tokens(), r.retained());
                assertEquals(manual, h.logprob(), 1e-4, "lp " + lp + " " + h);
                assertEquals(h.logprob() / Math.pow(h.length(), lp), h.score(), 1e-9, "score with length penalty " + lp);
            }
        }
    }

    @Test
    void fourBeamsGiveDistinctHypothesesSortedByScore() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()));
        for (int[] prompt : List.of(new int[] {5, 17, 33}, new int[] {40, 2, 9, 11}, new int[] {30})) {
            GenerationResult r = generator.generate(prompt, beams(4, 10).build());
            assertEquals(4, r.hypotheses().size());
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < r.hypotheses().size(); i++) {
                Hypothesis h = r.hypotheses().get(i);
                assertTrue(seen.add(Arrays.toString(h.tokens())), "duplicate hypothesis " + h);
                if (i > 0) {
                    assertTrue(r.hypotheses().get(i - 1).score() >= h.score(), "not sorted: " + r.hypotheses());
                }
                assertTrue(h.length() >= 1 && h.length() <= 10, h.toString());
            }
            assertEquals(Arrays.toString(r.best().tokens()), Arrays.toString(r.tokens()));
        }
    }

    @Test
    void numReturnSequencesIsRespected() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()));
        int[] prompt = {5, 17, 33};
        GenerationResult all = generator.generate(prompt, beams(4, 6).build());
        for (int n = 1; n <= 4; n++) {
            GenerationResult r = generator.generate(prompt, beams(4, 6).numReturnSequences(n).build());
            assertEquals(n, r.hypotheses().size());
            assertResultsEqual(new GenerationResult(all.hypotheses().subList(0, n), all.retained(), all.numLayers(),
                    all.promptTokens(), all.timing()), r, 0, "the best " + n);
        }
    }

    @Test
    void beamSearchFindsAtLeastTheGreedyScoreWhenNothingStops() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()));
        int[] prompt = {40, 2, 9, 11};
        GenerationConfig.Builder common = GenerationConfig.builder().skipPlan(SkipStrategy.UNIFIED, 2.0)
                .maxNewTokens(8).stopTokenIds(List.of());
        GenerationResult greedy = generator.generate(prompt, common.build());
        GenerationResult beam = generator.generate(prompt, common.numBeams(4).build());
        assertEquals(8, beam.tokens().length);
        assertTrue(beam.best().logprob() >= greedy.best().logprob() - 1e-9,
                "beam " + beam.best() + " vs greedy " + greedy.best());
    }

    @ParameterizedTest
    @MethodSource("models")
    void aPromptGivesTheSameHypothesesAloneAndInABatch(CausalLm model) {
        Generator generator = new Generator(new SkipAwareDecoder(model), new GenerationFixtures.WordCodec());
        List<int[]> prompts = prompts(new int[] {5, 17, 33}, new int[] {40, 2, 9, 11, 70, 1}, new int[] {30});
        GenerationConfig config = beams(3, 7).build();
        List<GenerationResult> batched = generator.generate(prompts, config, null);
        for (int b = 0; b < prompts.size(); b++) {
            assertResultsEqual(generator.generate(prompts.get(b), config), batched.get(b), 1e-4, "prompt " + b);
        }
    }

    @Test
    void noRepeatNgramSizeTwoForbidsRepeatedBigrams() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()));
        int[] prompt = {5, 17, 5, 17};
        for (int k : new int[] {1, 3}) {
            GenerationResult r = generator.generate(prompt, beams(k, 40).stopTokenIds(List.of())
                    .noRepeatNgramSize(2).build());
            for (Hypothesis h : r.hypotheses()) {
                int[] all = concat(prompt, h.tokens());
                Set<String> bigrams = new HashSet<>();
                for (int i = 0; i + 1 < all.length; i++) {
                    String bigram = all[i] + "," + all[i + 1];
                    // the prompt's own repeat (5,17 twice) is given; nothing generated may repeat a bigram
                    assertTrue(bigrams.add(bigram) || i + 1 < prompt.length, "repeated bigram " + bigram + " in "
                            + Arrays.toString(all));
                }
                assertEquals(40, h.length());
            }
        }
        // without the ban a 40-token continuation from a random model does repeat some bigram
        GenerationResult free = generator.generate(prompt, beams(1, 40).stopTokenIds(List.of()).build());
        assertTrue(hasRepeatedBigram(concat(prompt, free.tokens())), Arrays.toString(free.tokens()));
    }

    @Test
    void aStopTokenFinishesHypothesesAndIsTheirLastToken() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()));
        int[] prompt = {5, 17, 33};
        GenerationResult free = generator.generate(prompt, beams(4, 10).stopTokenIds(List.of()).build());
        int stop = free.tokens()[2];
        GenerationResult stopped = generator.generate(prompt, beams(4, 10).stopTokenIds(stop).build());
        boolean anyStopped = false;
        for (Hypothesis h : stopped.hypotheses()) {
            int[] t = h.tokens();
            for (int i = 0; i + 1 < t.length; i++) {
                assertNotEquals(stop, t[i], "a stop token inside " + h);
            }
            anyStopped |= t[t.length - 1] == stop;
            assertTrue(t[t.length - 1] == stop || t.length == 10, "a hypothesis ends on a stop or at the limit: " + h);
        }
        assertTrue(anyStopped, "the stop token was among the best continuations: " + stopped.hypotheses());
    }

    @Test
    void earlyStoppingEndsAPromptOnceItHasKFinishedHypotheses() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()));
        int[] prompt = {5, 17, 33};
        GenerationResult free = generator.generate(prompt, beams(2, 12).stopTokenIds(List.of()).build());
        int stop = free.tokens()[1];
        for (boolean early : new boolean[] {true, false}) {
            GenerationResult r = generator.generate(prompt, beams(2, 12).stopTokenIds(stop).earlyStopping(early).build());
            assertEquals(2, r.hypotheses().size());
            for (Hypothesis h : r.hypotheses()) {
                assertTrue(h.length() <= 12);
            }
        }
    }

    @Test
    void lengthPenaltyChangesTheScoresAsDefined() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()));
        int[] prompt = {5, 17, 33};
        // Without stop tokens every hypothesis has the full length, so the penalty rescales scores uniformly.
        GenerationResult one = generator.generate(prompt, beams(3, 6).stopTokenIds(List.of()).build());
        GenerationResult two = generator.generate(prompt, beams(3, 6).stopTokenIds(List.of()).lengthPenalty(2.0).build());
        for (int i = 0; i < 3; i++) {
            Hypothesis a = one.hypotheses().get(i);
            Hypothesis b = two.hypotheses().get(i);
            assertEquals(Arrays.toString(a.tokens()), Arrays.toString(b.tokens()));
            assertEquals(a.logprob() / 6, a.score(), 1e-9);
            assertEquals(b.logprob() / 36, b.score(), 1e-9);
        }
    }

    @Test
    void beamSearchStreamsEachPromptsHypothesesWhenItIsDone() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()),
                new GenerationFixtures.WordCodec());
        List<int[]> prompts = prompts(new int[] {5, 17, 33}, new int[] {40, 2});
        List<List<Hypothesis>> streamed = List.of(new ArrayList<>(), new ArrayList<>());
        List<GenerationResult> results = generator.generate(prompts, beams(3, 6).numReturnSequences(2).build(),
                new TokenStreamListener() {
                    @Override
                    public void onToken(int prompt, int sequence, int tokenId, String text) {
                        throw new AssertionError("beam search streams hypotheses, not tokens");
                    }

                    @Override
                    public void onHypothesis(int prompt, Hypothesis hypothesis) {
                        streamed.get(prompt).add(hypothesis);
                    }
                });
        for (int b = 0; b < 2; b++) {
            assertEquals(results.get(b).hypotheses(), streamed.get(b));
            assertTrue(results.get(b).text() != null);
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static boolean hasRepeatedBigram(int[] s) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i + 1 < s.length; i++) {
            if (!seen.add(s[i] + "," + s[i + 1])) {
                return true;
            }
        }
        return false;
    }
}
