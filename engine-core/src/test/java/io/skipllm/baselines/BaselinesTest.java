package io.skipllm.baselines;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.RandomModels;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.RetainedLayers;
import java.util.List;
import org.junit.jupiter.api.Test;

class BaselinesTest {

    @Test
    void skipDecodeDepthDecreasesLinearlyAndKeepsTopLayers() {
        SkipDecodeSchedule s = SkipDecodeSchedule.forTarget(32, 2, 64);
        assertEquals(24, s.maxLayers());
        assertEquals(8, s.minLayers());
        assertEquals(1, s.warmupLayers());
        assertEquals(24, s.depthAt(0));
        assertEquals(8, s.depthAt(63));
        assertEquals(16.0, s.meanLayers(64), 0.3);
        int previous = Integer.MAX_VALUE;
        for (int t = 0; t < 64; t++) {
            int[] layers = s.layersAt(t);
            assertEquals(s.depthAt(t), layers.length);
            assertEquals(0, layers[0], "warm-up layer always runs");
            assertEquals(31, layers[layers.length - 1], "top layer always runs");
            assertTrue(layers.length <= previous, "monotone");
            assertTrue(s.cacheLayers().contains(layers[layers.length - 1]));
            for (int l : layers) {
                assertTrue(s.cacheLayers().contains(l), "every layer was run by the first token");
            }
            previous = layers.length;
        }
    }

    @Test
    void skipDecodeMeanDepthExceedsTargetWhenGenerationStopsEarly() {
        SkipDecodeSchedule s = SkipDecodeSchedule.forTarget(32, 5, 64);
        assertEquals(32 / 5.0, s.meanLayers(64), 0.35);
        assertTrue(s.meanLayers(10) > 32 / 5.0 + 2);
    }

    @Test
    void skipDecodeAtOneIsFullDepth() {
        SkipDecodeSchedule s = SkipDecodeSchedule.forTarget(12, 1, 10);
        for (int t = 0; t < 10; t++) {
            assertEquals(12, s.layersAt(t).length);
        }
        assertThrows(BadInputException.class, () -> SkipDecodeSchedule.forTarget(12, 0.5, 10));
    }

    private static SkipAwareDecoder decoder() {
        LlamaConfig config = new LlamaConfig("LlamaForCausalLM", 32, 48, 6, 4, 2, 8, 40, 64, 1e-6, 10000.0, false, false,
                "silu", List.of(2), 1, null);
        return new SkipAwareDecoder(RandomModels.llama(config, 21));
    }

    @Test
    void skipDecodePlanRunsItsLayers() {
        SkipAwareDecoder decoder = decoder();
        SkipDecodeSchedule s = SkipDecodeSchedule.forTarget(6, 2, 4);
        try (DecodeSession session = decoder.start(new int[][] {{3, 4, 5}}, 4, s.cacheLayers())) {
            for (int t = 0; t < 4; t++) {
                session.decode(new int[] {7}, s.planAt(t));
                assertEquals(s.depthAt(t), session.lastStepLayers());
            }
        }
    }

    @Test
    void earlyExitNeverExitingEqualsFullDepth() {
        SkipAwareDecoder decoder = decoder();
        EarlyExit never = new EarlyExit(1.0);
        try (DecodeSession full = decoder.start(new int[][] {{3, 4, 5}}, 3, RetainedLayers.all(6));
             DecodeSession early = decoder.start(new int[][] {{3, 4, 5}}, 3, RetainedLayers.all(6))) {
            for (int t = 0; t < 3; t++) {
                float[] a = full.decode(new int[] {7 + t}).toFloatVector();
                float[] b = early.decode(new int[] {7 + t}, never.plan(6)).toFloatVector();
                assertArrayEquals(a, b, 1e-5f);
                assertEquals(6, early.lastStepLayers());
            }
        }
    }

    @Test
    void earlyExitAfterTheFirstLayerPropagatesKeysValues() {
        SkipAwareDecoder decoder = decoder();
        EarlyExit always = new EarlyExit(1e-9);
        try (DecodeSession s = decoder.start(new int[][] {{3, 4, 5}}, 2, RetainedLayers.all(6))) {
            s.decode(new int[] {7}, always.plan(6));
            assertEquals(1, s.lastStepLayers());
            // the skipped layers got this token's keys: slot 3 of the top layer is no longer zero
            assertTrue(s.cache().keys(5).getDouble(0, 0, 3, 0) != 0.0 || s.cache().keys(5).getDouble(0, 1, 3, 1) != 0.0);
            float[] logits = s.decode(new int[] {8}, new EarlyExit(1.0).plan(6)).toFloatVector();
            for (float v : logits) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void earlyExitIsBatchOneOnly() {
        SkipAwareDecoder decoder = decoder();
        try (DecodeSession s = decoder.start(new int[][] {{3, 4}, {5, 6}}, 1, RetainedLayers.all(6))) {
            assertThrows(BadInputException.class, () -> s.decode(new int[] {7, 7}, new EarlyExit(0.5).plan(6)));
        }
        assertThrows(BadInputException.class, () -> new EarlyExit(0));
        assertThrows(BadInputException.class, () -> new EarlyExit(Double.NaN));
    }

    @Test
    void calibrationPicksAThresholdNearTheTargetDepth() {
        SkipAwareDecoder decoder = decoder();
        EarlyExit calibrated = EarlyExit.calibrate(decoder, new int[] {3, 4, 5, 9}, 12, 2);
        assertTrue(calibrated.threshold() > 0 && calibrated.threshold() <= 1, "threshold " + calibrated.threshold());
    }
}
