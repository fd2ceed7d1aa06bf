package io.skipllm.generation;

import static io.skipllm.generation.GenerationFixtures.assertBadInput;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Defaults (Hugging Face's) and validation messages that name the field. */
class GenerationConfigTest {

    @Test
    void defaultsFollowHuggingFace() {
        GenerationConfig c = GenerationConfig.defaults();
        assertEquals(64, c.maxNewTokens());
        assertNull(c.stopTokenIds(), "null: the model's EOS ids");
        assertEquals(List.of(), c.stopStrings());
        assertEquals(1, c.numBeams());
        assertEquals(1.0, c.lengthPenalty());
        assertFalse(c.earlyStopping());
        assertEquals(0, c.noRepeatNgramSize());
        assertEquals(1, c.numReturnSequences());
        assertEquals(1.0, c.temperature());
        assertEquals(50, c.topK());
        assertEquals(1.0, c.topP());
        assertEquals(1.0, c.repetitionPenalty());
        assertFalse(c.doSample());
        assertTrue(c.seed().isEmpty());
        assertEquals(RetainedLayers.all(30), c.resolveRetained(30), "default: full depth");
    }

    @Test
    void skipPlansResolveAgainstTheModel() {
        GenerationConfig c = GenerationConfig.builder().skipPlan(SkipStrategy.UNIFIED, 5).build();
        assertEquals("[0, 6, 12, 18, 24, 29]", c.resolveRetained(30).toString());
        GenerationConfig explicit = c.toBuilder().retainedLayers(RetainedLayers.of(0, 3)).build();
        assertEquals(RetainedLayers.of(0, 3), explicit.resolveRetained(4));
        assertBadInput("layer 3 does not exist", () -> explicit.resolveRetained(3));
        assertEquals(RetainedLayers.all(8), c.toBuilder().fullDepth().build().resolveRetained(8));
    }

    @Test
    void invalidValuesNameTheirField() {
        assertBadInput("maxNewTokens must be >= 1", () -> GenerationConfig.builder().maxNewTokens(-1).build());
        assertBadInput("maxNewTokens must be >= 1", () -> GenerationConfig.builder().maxNewTokens(0).build());
        assertBadInput("numBeams must be >= 1", () -> GenerationConfig.builder().numBeams(0).build());
        assertBadInput("numReturnSequences must be <= numBeams (4)",
                () -> GenerationConfig.builder().numBeams(4).numReturnSequences(5).build());
        assertBadInput("numReturnSequences", () -> GenerationConfig.builder().numReturnSequences(2).build());
        assertBadInput("numReturnSequences must be >= 1",
                () -> GenerationConfig.builder().numReturnSequences(0).build());
        assertBadInput("lengthPenalty", () -> GenerationConfig.builder().lengthPenalty(Double.NaN).build());
        assertBadInput("noRepeatNgramSize", () -> GenerationConfig.builder().noRepeatNgramSize(-2).build());
        assertBadInput("temperature", () -> GenerationConfig.builder().temperature(-1).build());
        assertBadInput("temperature", () -> GenerationConfig.builder().doSample(true).temperature(0).build());
        assertBadInput("topK", () -> GenerationConfig.builder().topK(-3).build());
        assertBadInput("topP must be in (0, 1]", () -> GenerationConfig.builder().topP(1.01).build());
        assertBadInput("repetitionPenalty", () -> GenerationConfig.builder().repetitionPenalty(-1).build());
        assertBadInput("speedup", () -> GenerationConfig.builder().skipPlan(SkipStrategy.UNIFIED, 0.5).build());
        assertBadInput("speedup", () -> GenerationConfig.builder().skipPlan(SkipStrategy.TOP, Double.NaN).build());
        assertBadInput("stopTokenIds", () -> GenerationConfig.builder().stopTokenIds(-1).build());
        assertBadInput("stopStrings", () -> GenerationConfig.builder().stopStrings(List.of("")).build());
        assertBadInput("doSample", () -> GenerationConfig.builder().doSample(true).numBeams(3).build());
    }

    @Test
    void validValuesAreKept() {
        GenerationConfig c = GenerationConfig.builder().maxNewTokens(1).numBeams(4).numReturnSequences(4)
                .lengthPenalty(-0.5).earlyStopping(true).noRepeatNgramSize(3).stopTokenIds(7, 8)
                .stopStrings(List.of("\n")).repetitionPenalty(1.2).build();
        assertEquals(List.of(7, 8), c.stopTokenIds());
        assertTrue(c.isBeamSearch());
        assertEquals(-0.5, c.lengthPenalty(), "a negative length penalty favours short hypotheses, as in HF");
        GenerationConfig s = GenerationConfig.builder().doSample(true).temperature(0.3).topK(0).topP(0.5).seed(9)
                .numReturnSequences(3).build();
        assertEquals(9L, s.seed().getAsLong());
        assertEquals(3, s.numReturnSequences());
        assertEquals(Arrays.asList(7, 8), c.toBuilder().build().stopTokenIds());
    }
}
