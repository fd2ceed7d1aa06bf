package io.skipllm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.model.layers.HostArrays;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The CPU host pass ({@link HostPass}: run-state buffers, no ND4J ops) against the ND4J-array path of
 * the same session API, on random LLaMA-family models (grouped and multi-head, with and without q/k/v
 * bias) and a BLOOM model (six heads: ALiBi slopes of a head count that is not a power of two): prefill (one chunk and several), decode steps
 * through a skip plan, a batch of prompts of different lengths, and beams reordering rows.
 */
class HostPassTest {

    @AfterEach
    void restoreHostLoops() {
        HostArrays.setEnabled(true);
    }

    private static LlamaConfig config(boolean bias, int kvHeads) {
        return new LlamaConfig("LlamaForCausalLM", 48, 80, 6, 6, kvHeads, 8, 97, 1024, 1e-6, 10000.0, false, bias,
                "silu", List.of(2), 1, null);
    }

    @Test
    void hostPassMatchesTheArrayPath() {
        BloomConfig bloom = new BloomConfig("BloomForCausalLM", 48, 6, 6, 97, 1024, 1e-5, List.of(2), 1, null);
        for (CausalLm model : List.of(RandomModels.llama(config(false, 2), 3), RandomModels.llama(config(true, 6), 4),
                RandomModels.bloom(bloom, 5))) {
            SplittableRandom rng = new SplittableRandom(5);
            // lengths 1..300: the 300-token prompt takes two prefill chunks, the batch of three several
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
                float[][] host = run(model, prompts, decodeIds, retained, true);
                float[][] arrays = run(model, prompts, decodeIds, retained, false);
                for (int k = 0; k < host.length; k++) {
                    assertEquals(arrays[k].length, host[k].length);
                    for (int i = 0; i < host[k].length; i++) {
                        assertEquals(arrays[k][i], host[k][i], 1e-4, "call " + k + " logit " + i);
                    }
                }
            }
        }
    }

    @Test
    void beamReorderKeepsBothPathsTogether() {
        CausalLm model = RandomModels.llama(config(false, 3), 9);
        RetainedLayers retained = LayerSkipPlanner.plan(SkipStrategy.UNIFIED, 6, 3);
        int[][] prompts = {{5, 9, 13}, {5, 9, 13}, {5, 9, 13}};
        float[][] out = new float[2][];
        for (int pass = 0; pass < 2; pass++) {
            HostArrays.setEnabled(pass == 0);
            try (DecodeSession s = new SkipAwareDecoder(model).start(prompts, 3, retained)) {
                s.decode(new int[] {1, 2, 3});
                s.reorderRows(new int[] {2, 2, 0});
                out[pass] = s.decode(new int[] {4, 5, 6}).dup().data().asFloat();
            }
        }
        for (int i = 0; i < out[0].length; i++) {
            assertEquals(out[1][i], out[0][i], 1e-4, "logit " + i);
        }
    }

    private static int[] prompt(SplittableRandom rng, int length) {
        int[] p = new int[length];
        for (int i = 0; i < length; i++) {
            p[i] = rng.nextInt(97);
        }
        return p;
    }

    /** Logits after prefill and after each decode step, with the host pass on or off. */
    private static float[][] run(CausalLm model, int[][] prompts, int[][] decodeIds, RetainedLayers retained,
            boolean hostPass) {
        HostArrays.setEnabled(hostPass);
        float[][] out = new float[1 + decodeIds.length][];
        try (DecodeSession s = new SkipAwareDecoder(model).start(prompts, decodeIds.length, retained)) {
            assertTrue(hostPass == s.usesHostPass(), "host pass " + hostPass);
            out[0] = s.logits().dup().data().asFloat();
            for (int k = 0; k < decodeIds.length; k++) {
                out[k + 1] = s.decode(decodeIds[k]).dup().data().asFloat();
            }
        }
        return out;
    }
}
