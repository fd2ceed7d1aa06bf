package io.skipllm.generation;

import static io.skipllm.generation.GenerationFixtures.EOS;
import static io.skipllm.generation.GenerationFixtures.assertResultsEqual;
import static io.skipllm.generation.GenerationFixtures.prompts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.model.CausalLm;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Greedy search against hand-written argmax loops, batching, stop conditions and result fields. */
class GeneratorGreedyTest {

    static Stream<CausalLm> models() {
        return Stream.of(GenerationFixtures.llama(), GenerationFixtures.bloom());
    }

    private static GenerationConfig.Builder unified2x(int maxNew) {
        return GenerationConfig.builder().skipPlan(SkipStrategy.UNIFIED, 2.0).maxNewTokens(maxNew).stopTokenIds(List.of());
    }

    @ParameterizedTest
    @MethodSource("models")
    void greedyIsTheArgmaxOfTheSessionLogits(CausalLm model) {
        SkipAwareDecoder decoder = new SkipAwareDecoder(model);
        RetainedLayers retained = LayerSkipPlanner.plan(SkipStrategy.UNIFIED, model.config().numLayers(), 2.0);
        int[] prompt = {5, 17, 33, 8, 61};
        GenerationResult result = new Generator(decoder).generate(prompt, unified2x(12).build());
        int[] expected = GenerationFixtures.manualGreedy(decoder, prompt, 12, retained);
        assertArrayEquals(expected, result.tokens());
        assertEquals(retained, result.retained());
        assertEquals(GenerationFixtures.manualLogprob(decoder, prompt, expected, retained), result.best().logprob(), 1e-4);
        assertEquals(result.best().logprob() / 12, result.best().score(), 1e-9);
        assertEquals(prompt.length, result.promptTokens());
        assertNull(result.text(), "no tokenizer, no text");
        int[] layers = result.layersPerToken();
        assertEquals(4, layers[0], "the first token comes from the full-depth prompt pass");
        for (int i = 1; i < layers.length; i++) {
            assertEquals(retained.size(), layers[i]);
        }
        assertTrue(result.timing().prefillMillis() > 0);
        assertEquals(11, result.timing().decodeTokens());
        assertTrue(result.timing().decodeTokensPerSecond() > 0);
    }

    @Test
    void numBeamsOneIsExactlyGreedy() {
        SkipAwareDecoder decoder = new SkipAwareDecoder(GenerationFixtures.llama());
        Generator generator = new Generator(decoder);
        List<int[]> prompts = prompts(new int[] {5, 17, 33}, new int[] {40, 2, 9, 11, 70, 1});
        List<GenerationResult> greedy = generator.generate(prompts, unified2x(10).build(), null);
        List<GenerationResult> beam1 = generator.generate(prompts, unified2x(10).numBeams(1).build(), null);
        for (int b = 0; b < prompts.size(); b++) {
            assertResultsEqual(greedy.get(b), beam1.get(b), 0, "prompt " + b);
        }
        // The beam machinery itself with one beam and no stop token keeps the top candidate: greedy too.
        GenerationConfig config = unified2x(10).build();
        Request request = Request.resolve(decoder.model().config(), prompts, config, null, null);
        List<GenerationResult> viaBeams = new BeamSearch(decoder, request).run();
        for (int b = 0; b < prompts.size(); b++) {
            assertArrayEquals(greedy.get(b).tokens(), viaBeams.get(b).tokens(), "prompt " + b);
            assertEquals(greedy.get(b).best().logprob(), viaBeams.get(b).best().logprob(), 1e-9);
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void aPromptGivesTheSameResultAloneAndInABatch(CausalLm model) {
        Generator generator = new Generator(new SkipAwareDecoder(model), new GenerationFixtures.WordCodec());
        List<int[]> prompts = prompts(new int[] {5, 17, 33}, new int[] {40, 2, 9, 11, 70, 1}, new int[] {30});
        GenerationConfig config = unified2x(9).stopTokenIds(EOS).build();
        List<GenerationResult> batched = generator.generate(prompts, config, null);
        for (int b = 0; b < prompts.size(); b++) {
            GenerationResult alone = generator.generate(prompts.get(b), config);
            assertResultsEqual(alone, batched.get(b), 1e-4, "prompt " + b);
            assertEquals(prompts.get(b).length, batched.get(b).promptTokens());
        }
    }

    @Test
    void aStopTokenEndsItsRowOnly() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()));
        List<int[]> prompts = prompts(new int[] {5, 17, 33}, new int[] {40, 2, 9, 11, 70, 1});
        List<GenerationResult> free = generator.generate(prompts, unified2x(10).build(), null);
        int[] first = free.get(0).tokens();
        int stop = first[3]; // make the 4th token of prompt 0 a stop token
        int firstAt = -1;
        for (int i = 0; i < first.length && firstAt < 0; i++) {
            firstAt = first[i] == stop ? i : -1;
        }
        List<GenerationResult> stopped = generator.generate(prompts, unified2x(10).stopTokenIds(stop).build(), null);
        assertArrayEquals(Arrays.copyOf(first, firstAt + 1), stopped.get(0).tokens(),
                "the row ends with (and includes) the stop token");
        int[] second = free.get(1).tokens();
        int end = 0;
        while (end < second.length && second[end] != stop) {
            end++;
        }
        assertArrayEquals(Arrays.copyOf(second, Math.min(second.length, end + 1)), stopped.get(1).tokens(),
                "the other row continues until its own stop or the limit");
    }

    @Test
    void maxNewTokensIsRespectedAndZeroIsRefused() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()));
        for (int n : new int[] {1, 2, 7}) {
            GenerationResult r = generator.generate(new int[] {5, 6, 7}, unified2x(n).build());
            assertEquals(n, r.tokens().length, "maxNewTokens " + n);
            assertEquals(1, r.hypotheses().size());
        }
        // as Hugging Face's GenerationConfig.validate: asking for nothing is a caller's error
        assertThrows(io.skipllm.BadInputException.class, () -> unified2x(0).build());
    }

    @Test
    void defaultStopTokensAreTheModelsEos() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()));
        // The model's EOS is 3: whatever is generated, a 3 can only be the last token.
        for (int[] prompt : List.of(new int[] {5}, new int[] {9, 9}, new int[] {1, 2, 3, 4}, new int[] {77, 12})) {
            int[] tokens = generator.generate(prompt, GenerationConfig.builder().maxNewTokens(30).build()).tokens();
            for (int i = 0; i + 1 < tokens.length; i++) {
                assertTrue(tokens[i] != EOS, Arrays.toString(tokens));
            }
        }
    }

    @Test
    void streamingReportsEveryTokenAndItsText() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()),
                new GenerationFixtures.WordCodec());
        List<int[]> prompts = prompts(new int[] {5, 17, 33}, new int[] {40, 2, 9, 11, 70, 1});
        List<List<Integer>> tokens = List.of(new ArrayList<>(), new ArrayList<>());
        StringBuilder[] texts = {new StringBuilder(), new StringBuilder()};
        List<GenerationResult> results = generator.generate(prompts, unified2x(8).build(), (p, seq, id, text) -> {
            assertEquals(0, seq);
            tokens.get(p).add(id);
            texts[p].append(text);
        });
        for (int b = 0; b < 2; b++) {
            assertArrayEquals(results.get(b).tokens(), tokens.get(b).stream().mapToInt(Integer::intValue).toArray());
            assertEquals(results.get(b).text(), texts[b].toString());
        }
    }

    @Test
    void aStopStringEndsTheSequence() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()),
                new GenerationFixtures.WordCodec());
        int[] prompt = {5, 17, 33};
        int[] free = generator.generate(prompt, unified2x(10).build()).tokens();
        String stop = "w" + free[2] + " ";
        int at = 0;
        while (free[at] != free[2]) {
            at++;
        }
        GenerationResult r = generator.generate(prompt, unified2x(10).stopStrings(List.of(stop)).build());
        assertArrayEquals(Arrays.copyOf(free, at + 1), r.tokens());
        assertTrue(r.text().endsWith(stop), r.text());
        GenerationFixtures.assertBadInput("stopStrings need a tokenizer", () -> new Generator(
                new SkipAwareDecoder(GenerationFixtures.llama())).generate(prompt, unified2x(10)
                .stopStrings(List.of("x")).build()));
    }

    @Test
    void textPromptsAreEncodedWithTheCodec() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()),
                new GenerationFixtures.WordCodec());
        GenerationResult fromText = generator.generateText("w5 w17 w33", unified2x(6).build());
        GenerationResult fromIds = generator.generate(new int[] {5, 17, 33}, unified2x(6).build());
        assertResultsEqual(fromIds, fromText, 0, "text prompt");
        assertEquals(new GenerationFixtures.WordCodec().decode(fromIds.tokens()), fromText.text());
        GenerationFixtures.assertBadInput("need a tokenizer", () -> new Generator(
                new SkipAwareDecoder(GenerationFixtures.llama())).generateText("w1", unified2x(2).build()));
    }

    @Test
    void badPromptsAreRejectedWithTheirIndex() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()));
        GenerationConfig config = unified2x(4).numBeams(3).build();
        GenerationFixtures.assertBadInput("prompt 1: token id 80 at index 2 is outside the model's vocabulary (0..79)",
                () -> generator.generate(prompts(new int[] {1}, new int[] {1, 2, 80}), config, null));
        GenerationFixtures.assertBadInput("prompt 0 has 126 tokens; with maxNewTokens 4 it needs 130 positions but the"
                + " model's context is 128", () -> generator.generate(new int[126], config));
        GenerationFixtures.assertBadInput("prompt 0 is empty", () -> generator.generate(new int[0], config));
        GenerationFixtures.assertBadInput("no prompts", () -> generator.generate(List.of(), config, null));
        GenerationFixtures.assertBadInput("stop token id 99 is outside",
                () -> generator.generate(new int[] {1}, unified2x(4).stopTokenIds(99).build()));
        GenerationFixtures.assertBadInput("layer 7 does not exist", () -> generator.generate(new int[] {1},
                unified2x(4).retainedLayers(RetainedLayers.of(0, 7)).build()));
    }
}
