package io.skipllm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Properties of the skip-aware decoder that hold for any weights, checked on random models: at full
 * depth, prefilling a sequence gives the same logits as decoding it token by token (the cache and
 * positions are right); a prompt's logits are the same alone and in a left-padded batch; the skip
 * path only touches retained layers.
 */
class DecoderInvariantsTest {

    static LlamaConfig llamaConfig(boolean bias) {
        return new LlamaConfig("LlamaForCausalLM", 32, 48, 4, 4, 2, 8, 50, 64, 1e-6, 10000.0, false, bias, "silu",
                List.of(2), 1, null);
    }

    static BloomConfig bloomConfig() {
        return new BloomConfig("BloomForCausalLM", 24, 4, 3, 50, 64, 1e-5, List.of(2), 1, null);
    }

    static Stream<CausalLm> models() {
        return Stream.of(RandomModels.llama(llamaConfig(false), 7), RandomModels.llama(llamaConfig(true), 8),
                RandomModels.bloom(bloomConfig(), 9));
    }

    @ParameterizedTest
    @MethodSource("models")
    void fullDepthPrefillEqualsStepByStepDecoding(CausalLm model) {
        SkipAwareDecoder decoder = new SkipAwareDecoder(model);
        int[] sequence = {5, 17, 3, 44, 9, 28, 11};
        RetainedLayers all = RetainedLayers.all(model.config().numLayers());
        for (int prefix = 1; prefix < sequence.length; prefix++) {
            float[] prefilled;
            try (DecodeSession whole = decoder.start(new int[][] {Arrays.copyOf(sequence, prefix + 1)}, 0, all)) {
                prefilled = whole.logits().getRow(0).toFloatVector();
            }
            try (DecodeSession stepwise = decoder.start(new int[][] {Arrays.copyOf(sequence, prefix)}, 1, all)) {
                float[] decoded = stepwise.decode(new int[] {sequence[prefix]}).getRow(0).toFloatVector();
                assertClose(prefilled, decoded, 1e-4, "prefix " + prefix);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void promptGivesSameLogitsAloneAndInABatch(CausalLm model) {
        SkipAwareDecoder decoder = new SkipAwareDecoder(model);
        RetainedLayers retained = LayerSkipPlanner.plan(SkipStrategy.UNIFIED, model.config().numLayers(), 2);
        int[][] prompts = {{5, 17, 3}, {44, 9, 28, 11, 6, 7}, {30}};
        int[][] decodeIds = {{4, 8, 15}, {16, 23, 42}, {1, 2, 3}};
        float[][][] alone = new float[prompts.length][][];
        for (int b = 0; b < prompts.length; b++) {
            alone[b] = run(decoder, new int[][] {prompts[b]}, new int[][] {decodeIds[b]}, retained)[0];
        }
        float[][][] batched = run(decoder, prompts, decodeIds, retained);
        for (int b = 0; b < prompts.length; b++) {
            for (int row = 0; row < alone[b].length; row++) {
                assertClose(alone[b][row], batched[b][row], 1e-4, "prompt " + b + " row " + row);
            }
        }
    }

    @Test
    void skippingChangesTheLogitsAndFullDepthDoesNot() {
        CausalLm model = RandomModels.llama(llamaConfig(false), 11);
        SkipAwareDecoder decoder = new SkipAwareDecoder(model);
        int[][] prompt = {{5, 17, 3, 8}};
        int[][] ids = {{9, 10}};
        float[][][] full = run(decoder, prompt, ids, RetainedLayers.all(4));
        float[][][] skipped = run(decoder, prompt, ids, RetainedLayers.of(0, 3));
        assertClose(full[0][0], skipped[0][0], 0, "the prompt pass is always full depth");
        double diff = 0;
        for (int i = 0; i < full[0][1].length; i++) {
            diff = Math.max(diff, Math.abs(full[0][1][i] - skipped[0][1][i]));
        }
        assertTrue(diff > 1e-3, "skipping layers must change the decode logits");
    }

    @Test
    void skippedLayersGetPromptOnlyCapacity() {
        CausalLm model = RandomModels.llama(llamaConfig(false), 12);
        SkipAwareDecoder decoder = new SkipAwareDecoder(model);
        try (DecodeSession s = decoder.start(new int[][] {{1, 2, 3}, {4, 5}}, 10, RetainedLayers.of(0, 3))) {
            assertEquals(13, s.cache().capacity(0));
            assertEquals(3, s.cache().capacity(1));
            assertEquals(3, s.cache().capacity(2));
            assertEquals(13, s.cache().capacity(3));
            // 2 (k,v) x batch 2 x kvHeads 2 x headDim 8 x 4 bytes x (13 + 3 + 3 + 13) slots
            assertEquals(2L * 2 * 2 * 8 * 4 * 32, s.cache().bytes());
            assertEquals(s.cache().bytes(), io.skipllm.kvcache.KvCache.bytesFor(4, 2, 2, 8, 3, 10, RetainedLayers.of(0, 3)));
        }
    }

    @Test
    void reorderingRowsMovesTheirCacheAndState() {
        SkipAwareDecoder decoder = new SkipAwareDecoder(RandomModels.llama(llamaConfig(false), 14));
        RetainedLayers retained = RetainedLayers.of(0, 2, 3);
        int[][] prompts = {{5, 17, 3}, {44, 9, 28, 11}, {30, 4}};
        float[][][] reference = run(decoder, new int[][] {prompts[2], prompts[0], prompts[0]},
                new int[][] {{7, 8}, {9, 8}, {9, 8}}, retained);
        try (DecodeSession s = decoder.start(prompts, 2, retained)) {
            s.decode(new int[] {9, 1, 7});
            s.reorderRows(new int[] {2, 0, 0});
            INDArray logits = s.decode(new int[] {8, 8, 8});
            for (int b = 0; b < 3; b++) {
                assertClose(reference[b][2], logits.getRow(b).toFloatVector(), 1e-4, "row " + b);
            }
        }
    }

    @Test
    void aBatchThatDoesNotFitIsRefusedWithTheNumbers() {
        SkipAwareDecoder decoder = new SkipAwareDecoder(RandomModels.llama(llamaConfig(false), 15));
        RetainedLayers all = RetainedLayers.all(4);
        long oneRow = RequestMemory.bytesFor(decoder.model().config(), 1, 8, 8, all);
        long threeRows = RequestMemory.bytesFor(decoder.model().config(), 3, 8, 8, all);
        assertTrue(threeRows > 2 * oneRow && oneRow > 0);
        SkipAwareDecoder limited = decoder.withMemoryLimit(threeRows + 1);
        int[][] eight = new int[8][8];
        RequestMemory.InsufficientMemoryException e = assertThrows(RequestMemory.InsufficientMemoryException.class,
                () -> limited.start(eight, 8, all));
        assertEquals(3, e.largestBatchThatFits(), e.getMessage());
        assertEquals(threeRows + 1, e.availableBytes());
        assertTrue(e.getMessage().contains("largest batch that fits is 3"), e.getMessage());
        try (DecodeSession s = limited.start(new int[3][8], 8, all)) {
            assertEquals(3, s.batchSize());
        }
        assertThrows(BadInputException.class, () -> decoder.withMemoryLimit(0));
    }

    @Test
    void sequencesThatDoNotFitAreRefusedByTheSameCheck() {
        SkipAwareDecoder decoder = new SkipAwareDecoder(RandomModels.llama(llamaConfig(false), 15));
        ModelConfig config = decoder.model().config();
        // by hand: every layer holds 2 x kvHeads x 16 slots x headDim floats per row, plus a row of logits
        long perRow = (long) config.numLayers() * 2 * config.numKvHeads() * 16 * config.headDim() * Float.BYTES
                + (long) config.vocabSize() * Float.BYTES;
        assertEquals(3 * perRow, RequestMemory.sequencesBytes(config, 3, 16));
        SkipAwareDecoder limited = decoder.withMemoryLimit(3 * perRow + 1);
        RequestMemory.InsufficientMemoryException e = assertThrows(RequestMemory.InsufficientMemoryException.class,
                () -> limited.openSequences(5, 16));
        assertEquals(3, e.largestBatchThatFits(), e.getMessage());
        assertEquals(5 * perRow, e.neededBytes());
        try (SequenceBatch batch = limited.openSequences(3, 16)) {
            assertEquals(3, batch.rows());
        }
    }

    @Test
    void badRequestsAreRejectedBeforeAnyWork() {
        SkipAwareDecoder decoder = new SkipAwareDecoder(RandomModels.llama(llamaConfig(false), 13));
        RetainedLayers all = RetainedLayers.all(4);
        assertMessage("outside the vocabulary", () -> decoder.start(new int[][] {{1, 50}}, 1, all));
        assertMessage("outside the vocabulary", () -> decoder.start(new int[][] {{-1}}, 1, all));
        assertMessage("empty", () -> decoder.start(new int[][] {{}}, 1, all));
        assertMessage("exceeds the model's context", () -> decoder.start(new int[][] {new int[60]}, 5, all));
        assertMessage("layer 4 does not exist", () -> decoder.start(new int[][] {{1}}, 1, RetainedLayers.of(0, 4)));
        assertMessage("max new tokens", () -> decoder.start(new int[][] {{1}}, -1, all));
        try (DecodeSession s = decoder.start(new int[][] {{1, 2}}, 1, all)) {
            assertMessage("one token per row", () -> s.decode(new int[] {1, 2}));
            assertMessage("outside the vocabulary", () -> s.decode(new int[] {99}));
            s.decode(new int[] {3});
            assertMessage("all are used", () -> s.decode(new int[] {3}));
        }
    }

    private static void assertMessage(String fragment, Runnable action) {
        BadInputException e = assertThrows(BadInputException.class, action::run);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    static float[][][] run(SkipAwareDecoder decoder, int[][] prompts, int[][] decodeIds, RetainedLayers retained) {
        int steps = decodeIds[0].length;
        float[][][] out = new float[prompts.length][steps + 1][];
        try (DecodeSession s = decoder.start(prompts, steps, retained)) {
            record(out, 0, s.logits());
            for (int k = 0; k < steps; k++) {
                int[] tokens = new int[prompts.length];
                for (int b = 0; b < prompts.length; b++) {
                    tokens[b] = decodeIds[b][k];
                }
                record(out, k + 1, s.decode(tokens));
            }
        }
        return out;
    }

    private static void record(float[][][] out, int row, INDArray logits) {
        for (int b = 0; b < out.length; b++) {
            out[b][row] = logits.getRow(b).toFloatVector();
        }
    }

    static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Float.isFinite(actual[i]), what + ": non-finite logit at " + i);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance,
                    what + ": logit " + i + " expected " + expected[i] + " got " + actual[i]);
        }
    }
}
