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

    private static final int[] PROMPT = {3, 4, 5};

    /** Logits of one decode step of token 7 after {@link #PROMPT}, through {@code layers} only. */
    private static float[] oneStep(SkipAwareDecoder decoder, int[] layers) {
        return oneStep(decoder, layers, 7);
    }

    private static float[] oneStep(SkipAwareDecoder decoder, int[] layers, int token) {
        try (DecodeSession s = decoder.start(new int[][] {PROMPT}, 1, RetainedLayers.of(layers))) {
            return s.decode(new int[] {token}).toFloatVector();
        }
    }

    /** The greedy first token after {@link #PROMPT}: what calibration feeds at its first decode step. */
    private static int firstToken(SkipAwareDecoder decoder) {
        try (DecodeSession s = decoder.start(new int[][] {PROMPT}, 1, RetainedLayers.all(6))) {
            float[] logits = s.logits().toFloatVector();
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                best = logits[i] > logits[best] ? i : best;
            }
            return best;
        }
    }

    @Test
    void skipDecodePlanRunsExactlyItsLayers() {
        SkipAwareDecoder decoder = decoder();
        SkipDecodeSchedule s = SkipDecodeSchedule.forTarget(6, 2, 4);
        float[] full = oneStep(decoder, new int[] {0, 1, 2, 3, 4, 5});
        for (int t = 0; t < 4; t++) {
            try (DecodeSession session = decoder.start(new int[][] {PROMPT}, 1, s.cacheLayers())) {
                float[] planned = session.decode(new int[] {7}, s.planAt(t)).toFloatVector();
                // the same numbers as a session that retains exactly the schedule's layers at step t
                assertArrayEquals(oneStep(decoder, s.layersAt(t)), planned, 1e-5f, "step " + t);
                if (s.depthAt(t) < 6) {
                    assertTrue(maxDifference(full, planned) > 1e-3, "step " + t + " skips layers");
                }
            }
        }
    }

    private static double maxDifference(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    /**
     * Layer l's intermediate confidence for the first decode step, computed by hand: the top token's
     * softmax probability of the logits a session retaining layers 0..l gives (final norm and LM head
     * on the hidden state after layer l; the prompt ran every layer either way).
     */
    private static double[] handConfidences(SkipAwareDecoder decoder, int token) {
        double[] confidence = new double[6];
        for (int l = 0; l < 6; l++) {
            float[] logits = oneStep(decoder, java.util.stream.IntStream.rangeClosed(0, l).toArray(), token);
            double max = Double.NEGATIVE_INFINITY;
            for (float v : logits) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (float v : logits) {
                sum += Math.exp(v - max);
            }
            confidence[l] = 1 / sum;
        }
        return confidence;
    }

    /** The depth early exit must stop at: after the first layer below the last whose confidence reaches the threshold. */
    private static int expectedDepth(double[] confidence, double threshold) {
        for (int l = 0; l < confidence.length - 1; l++) {
            if (confidence[l] >= threshold) {
                return l + 1;
            }
        }
        return confidence.length;
    }

    @Test
    void earlyExitStopsAtTheFirstConfidentLayer() {
        SkipAwareDecoder decoder = decoder();
        double[] confidence = handConfidences(decoder, 7);
        java.util.Set<Integer> depths = new java.util.TreeSet<>();
        for (int k = 0; k < 6; k++) {
            // just below layer k's confidence, unless another layer's is within float noise of it
            double threshold = confidence[k] * (1 - 1e-4);
            boolean ambiguous = false;
            for (double c : confidence) {
                ambiguous |= Math.abs(c - threshold) < 1e-5 * c;
            }
            if (ambiguous) {
                continue;
            }
            int depth = expectedDepth(confidence, threshold);
            depths.add(depth);
            try (DecodeSession s = decoder.start(new int[][] {PROMPT}, 1, RetainedLayers.all(6))) {
                float[] logits = s.decode(new int[] {7}, new EarlyExit(threshold).plan(6)).toFloatVector();
                assertEquals(depth, s.lastStepLayers(), "threshold " + threshold + ", confidences "
                        + java.util.Arrays.toString(confidence));
                // what it returns is the prediction at its exit layer
                assertArrayEquals(oneStep(decoder, java.util.stream.IntStream.range(0, depth).toArray()), logits, 1e-5f);
            }
        }
        assertTrue(depths.size() >= 2, "the fixture exits at different depths: " + depths);
    }

    @Test
    void calibrationPicksTheThresholdWhoseDepthIsClosestToTheTarget() {
        SkipAwareDecoder decoder = decoder();
        int token = firstToken(decoder);
        double[] confidence = handConfidences(decoder, token);
        for (double speedup : new double[] {1.5, 2, 3, 6}) {
            // one calibration token: its confidences are the hand-computed ones, and the depths a threshold
            // can give are those of each confidence (and 1.0, never exiting)
            EarlyExit calibrated = EarlyExit.calibrate(decoder, PROMPT, 1, speedup);
            double target = 6 / speedup;
            double bestGap = Math.abs(6 - target);
            for (double c : confidence) {
                bestGap = Math.min(bestGap, Math.abs(expectedDepth(confidence, c) - target));
            }
            try (DecodeSession s = decoder.start(new int[][] {PROMPT}, 1, RetainedLayers.all(6))) {
                s.decode(new int[] {token}, calibrated.plan(6));
                assertEquals(bestGap, Math.abs(s.lastStepLayers() - target), 1e-12, "speedup " + speedup
                        + ": threshold " + calibrated.threshold() + ", confidences " + java.util.Arrays.toString(confidence));
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
            assertTrue(s.cache().key(5, 0, 0, 3, 0) != 0f || s.cache().key(5, 0, 1, 3, 1) != 0f);
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
}
