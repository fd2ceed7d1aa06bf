package io.skipllm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.SkipLlmException;
import io.skipllm.backend.ForwardBackend;
import io.skipllm.baselines.EarlyExit;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The two forward passes against each other through the same session API, on twin random networks (the
 * same seed, loaded once for the host pass and once for the nd4j pass): LLaMA-family models (grouped and
 * multi-head, with and without q/k/v bias) and a BLOOM model (six heads: ALiBi slopes of a head count
 * that is not a power of two); prefill (one chunk and several), decode steps through a skip plan, a batch
 * of prompts of different lengths, beams reordering rows, and early exit.
 */
class ForwardBackendsTest {

    private static LlamaConfig config(boolean bias, int kvHeads) {
        return new LlamaConfig("LlamaForCausalLM", 48, 80, 6, 6, kvHeads, 8, 97, 1024, 1e-6, 10000.0, false, bias,
                "silu", List.of(2), 1, null);
    }

    private static final BloomConfig BLOOM = new BloomConfig("BloomForCausalLM", 48, 6, 6, 97, 1024, 1e-5, List.of(2), 1,
            null);

    /** The same three networks, built for {@code backend}. */
    private static List<CausalLm> networks(ForwardBackend backend) {
        return List.of(RandomModels.llama(config(false, 2), 3, backend), RandomModels.llama(config(true, 6), 4, backend),
                RandomModels.bloom(BLOOM, 5, backend));
    }

    @Test
    void eachNetworkRunsTheBackendItWasLoadedFor() {
        for (ForwardBackend backend : ForwardBackend.values()) {
            for (CausalLm network : networks(backend)) {
                assertEquals(backend, network.backend());
                try (DecodeSession s = new SkipAwareDecoder(network).start(new int[][] {{1, 2}}, 1,
                        RetainedLayers.all(6))) {
                    assertEquals(backend, s.backend());
                }
            }
        }
    }

    @Test
    void bothBackendsGiveTheSameLogits() {
        List<CausalLm> host = networks(ForwardBackend.HOST);
        List<CausalLm> nd4j = networks(ForwardBackend.ND4J);
        for (int m = 0; m < host.size(); m++) {
            SplittableRandom rng = new SplittableRandom(5);
            // lengths 1..300: the 300-token prompt takes two prefill chunks on the host, the batch of three several
            int[][][] batches = {{prompt(rng, 7)}, {prompt(rng, 300)}, {prompt(rng, 5), prompt(rng, 1), prompt(rng, 90)}};
            RetainedLayers retained = LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 6, 2);
            for (int[][] prompts : batches) {
                int steps = 4;
                int[][] decodeIds = new int[steps][prompts.length];
                for (int[] row : decodeIds) {
                    for (int b = 0; b < row.length; b++) {
                        row[b] = rng.nextInt(97);
                    }
                }
                assertClose(run(nd4j.get(m), prompts, decodeIds, retained), run(host.get(m), prompts, decodeIds, retained),
                        "model " + m);
            }
        }
    }

    @Test
    void beamReorderKeepsBothBackendsTogether() {
        RetainedLayers retained = LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 6, 3);
        int[][] prompts = {{5, 9, 13}, {5, 9, 13}, {5, 9, 13}};
        Function<CausalLm, float[][]> run = model -> {
            try (DecodeSession s = new SkipAwareDecoder(model).start(prompts, 3, retained)) {
                s.decode(new int[] {1, 2, 3});
                s.reorderRows(new int[] {2, 2, 0});
                s.decode(new int[] {4, 5, 6});
                return s.logitsRows(null);
            }
        };
        assertClose(run.apply(RandomModels.llama(config(false, 3), 9, ForwardBackend.ND4J)),
                run.apply(RandomModels.llama(config(false, 3), 9, ForwardBackend.HOST)), "beams");
    }

    @Test
    void earlyExitStopsAtTheSameLayerOnBothBackends() {
        List<CausalLm> host = networks(ForwardBackend.HOST);
        List<CausalLm> nd4j = networks(ForwardBackend.ND4J);
        int[] prompt = {3, 4, 5, 9};
        for (int m = 0; m < host.size(); m++) {
            // calibrated on the nd4j pass, run on both: the same exits and the same logits after each
            EarlyExit exit = EarlyExit.calibrate(new SkipAwareDecoder(nd4j.get(m)), prompt, 6, 2.0);
            int[][] depths = new int[2][6];
            float[][][] logits = new float[2][6][];
            for (int b = 0; b < 2; b++) {
                CausalLm model = (b == 0 ? host : nd4j).get(m);
                try (DecodeSession s = new SkipAwareDecoder(model).start(new int[][] {prompt}, 6, RetainedLayers.all(6))) {
                    for (int t = 0; t < 6; t++) {
                        s.step(new int[] {7 + t}, exit.plan(6));
                        depths[b][t] = s.lastStepLayers();
                        logits[b][t] = s.logitsRows(null)[0];
                    }
                }
            }
            assertEquals(java.util.Arrays.toString(depths[1]), java.util.Arrays.toString(depths[0]), "model " + m);
            assertTrue(java.util.Arrays.stream(depths[0]).anyMatch(d -> d < 6), "model " + m + " exits early somewhere: "
                    + java.util.Arrays.toString(depths[0]));
            assertClose(logits[1], logits[0], "model " + m);
        }
    }

    @Test
    void independentSequencesRefuseTheNd4jBackendClearly() {
        SkipAwareDecoder decoder = new SkipAwareDecoder(RandomModels.llama(config(false, 2), 3, ForwardBackend.ND4J));
        SkipLlmException e = assertThrows(SkipLlmException.class, () -> decoder.openSequences(2, 16));
        assertTrue(e.getMessage().contains("--backend host"), e.getMessage());
    }

    private static void assertClose(float[][] expected, float[][] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int k = 0; k < expected.length; k++) {
            assertEquals(expected[k].length, actual[k].length, what);
            for (int i = 0; i < expected[k].length; i++) {
                assertEquals(expected[k][i], actual[k][i], 1e-4, what + ": call " + k + " logit " + i);
            }
        }
    }

    private static int[] prompt(SplittableRandom rng, int length) {
        int[] p = new int[length];
        for (int i = 0; i < length; i++) {
            p[i] = rng.nextInt(97);
        }
        return p;
    }

    /** Logits after prefill and after each decode step, all rows side by side. */
    private static float[][] run(CausalLm model, int[][] prompts, int[][] decodeIds, RetainedLayers retained) {
        float[][] out = new float[1 + decodeIds.length][];
        try (DecodeSession s = new SkipAwareDecoder(model).start(prompts, decodeIds.length, retained)) {
            out[0] = flat(s.logitsRows(null));
            for (int k = 0; k < decodeIds.length; k++) {
                s.step(decodeIds[k], s::retainedIndices);
                out[k + 1] = flat(s.logitsRows(null));
            }
        }
        return out;
    }

    private static float[] flat(float[][] rows) {
        float[] all = new float[rows.length * rows[0].length];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, all, r * rows[0].length, rows[r].length);
        }
        return all;
    }
}
