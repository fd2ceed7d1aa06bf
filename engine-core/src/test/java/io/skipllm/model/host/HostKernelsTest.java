package io.skipllm.model.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.kvcache.HostKvCache;
import io.skipllm.kvcache.Nd4jKvCache;
import io.skipllm.model.nd4j.Activations;
import io.skipllm.model.nd4j.CachedAttention;
import io.skipllm.model.nd4j.ForwardPass;
import io.skipllm.model.nd4j.Norms;
import io.skipllm.model.nd4j.RotaryEmbedding;
import io.skipllm.planner.RetainedLayers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Each building block of the host forward pass (Java loops over Java arrays and the host cache) against
 * the same block of the nd4j forward pass (ND4J ops): same results to float rounding, on random inputs.
 */
class HostKernelsTest {

    private static void assertClose(float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length);
        double diff = 0;
        for (int i = 0; i < expected.length; i++) {
            diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(diff <= tolerance, "max difference " + diff);
    }

    private static float[] floats(INDArray a) {
        return a.dup('c').data().asFloat();
    }

    @Test
    void rmsNormMatches() {
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 40).muli(3);
        INDArray weight = Nd4j.rand(DataType.FLOAT, 40);
        float[] host = new float[3 * 40];
        HostMath.rmsNorm(floats(x), host, floats(weight), 3, 40, 1e-6);
        assertClose(floats(Norms.rms(x, weight, 1e-6)), host, 1e-5);
        // against the formula, row 1
        double meanSquare = x.getRow(1).mul(x.getRow(1)).meanNumber().doubleValue();
        assertEquals(x.getDouble(1, 7) / Math.sqrt(meanSquare + 1e-6) * weight.getDouble(7), host[40 + 7], 1e-5);
    }

    @Test
    void layerNormMatches() {
        Nd4j.getRandom().setSeed(2);
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 24).addi(5);
        INDArray weight = Nd4j.rand(DataType.FLOAT, 24);
        INDArray bias = Nd4j.randn(DataType.FLOAT, 24);
        float[] host = new float[4 * 24];
        HostMath.layerNorm(floats(x), host, floats(weight), floats(bias), 4, 24, 1e-5);
        assertClose(floats(Norms.layer(x, weight, bias, 1e-5)), host, 1e-5);
    }

    @Test
    void siluGateTimesUpMatches() {
        Nd4j.getRandom().setSeed(6);
        INDArray gateUp = Nd4j.randn(DataType.FLOAT, 3, 2 * 20).muli(4);
        float[] host = new float[3 * 20];
        HostMath.siluGateTimesUp(floats(gateUp), host, 3, 20);
        assertClose(floats(Activations.siluGateTimesUp(gateUp, 20)), host, 1e-5);
        double gate = gateUp.getDouble(2, 5);
        assertEquals(gate / (1 + Math.exp(-gate)) * gateUp.getDouble(2, 25), host[2 * 20 + 5], 1e-5);
    }

    @Test
    void rotaryMatchesAndLeavesTheOtherHeadsAlone() {
        Nd4j.getRandom().setSeed(7);
        RotaryEmbedding rotary = new RotaryEmbedding(8, 10000);
        int[] positions = {0, 9, 300};
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 7, 8);
        INDArray ops = x.dup();
        rotary.applyInPlace(ops, rotary.tables(positions), 4);
        float[] host = floats(x);
        float[] cos = new float[4];
        float[] sin = new float[4];
        HostRotary hostRotary = new HostRotary(8, 10000);
        for (int t = 0; t < 3; t++) {
            hostRotary.angles(positions[t], cos, sin, 0);
            hostRotary.rotate(host, t * 7 * 8, 4, cos, sin, 0);
        }
        assertClose(floats(ops), host, 1e-5);
        assertClose(floats(x.get(NDArrayIndex.point(0))), java.util.Arrays.copyOf(host, 7 * 8), 1e-6);  // position 0
        float[] before = floats(x);
        for (int t = 0; t < 3; t++) {
            for (int i = 4 * 8; i < 7 * 8; i++) {
                assertEquals(before[t * 56 + i], host[t * 56 + i], 0f, "value heads are not rotated");
            }
        }
    }

    @ParameterizedTest(name = "batch {0}, heads {1}, kv heads {2}, head size {3}, {4} new tokens")
    @CsvSource({"1, 4, 4, 8, 4", "3, 4, 2, 8, 4", "2, 6, 1, 8, 4",
            // above HostAttention.PARALLEL_MIN_MACS: blocks split over threads
            "4, 8, 4, 64, 70", "3, 6, 6, 32, 300"})
    void decodeAttentionMatchesAndFillsTheCacheSlot(int batch, int heads, int kvHeads, int headDim, int newTokens) {
        Nd4j.getRandom().setSeed(5 + batch);
        int prompt = 5;
        int capacity = prompt + newTokens;
        int slot = prompt + 2;  // third response token
        INDArray qkv = Nd4j.randn(DataType.FLOAT, batch, heads + 2 * kvHeads, headDim);
        INDArray keysBefore = Nd4j.randn(DataType.FLOAT, batch, kvHeads, capacity, headDim);
        INDArray valuesBefore = Nd4j.randn(DataType.FLOAT, batch, kvHeads, capacity, headDim);
        // row 0 attends to everything filled so far; the others have one slot of left padding
        INDArray bias = Nd4j.zeros(DataType.FLOAT, batch, 1, 1, 1, capacity);
        bias.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.interval(slot + 1, capacity)).assign(CachedAttention.MASKED);
        int[] firstVisible = new int[batch];
        for (int row = 1; row < batch; row++) {
            bias.putScalar(new long[] {row, 0, 0, 0, 0}, CachedAttention.MASKED);
            firstVisible[row] = 1;
        }
        try (Nd4jKvCache arrays = new Nd4jKvCache(1, batch, kvHeads, headDim, prompt, newTokens, RetainedLayers.all(1));
             HostKvCache host = new HostKvCache(1, batch, kvHeads, headDim, prompt, newTokens, RetainedLayers.all(1))) {
            arrays.keys(0).assign(keysBefore);
            arrays.values(0).assign(valuesBefore);
            host.keys(0).put(0, floats(keysBefore));
            host.values(0).put(0, floats(valuesBefore));
            ForwardPass pass = new ForwardPass(batch, 1, new int[batch], arrays, slot, false, bias, null);
            float[] expected = floats(new CachedAttention(heads, kvHeads, headDim).attend(0, qkv.dup(), pass));

            int[] sequences = new int[batch];
            int[] slots = new int[batch];
            for (int b = 0; b < batch; b++) {
                sequences[b] = b;
                slots[b] = slot;
            }
            float[] out = new float[batch * heads * headDim];
            HostAttention.over(host, heads, kvHeads, headDim, null).attend(0, floats(qkv), batch, sequences, slots,
                    firstVisible, out);
            assertClose(expected, out, 1e-5);
            float[] hostKeys = new float[batch * kvHeads * capacity * headDim];
            host.keys(0).get(0, hostKeys);
            assertClose(floats(arrays.keys(0)), hostKeys, 0);
            // the new key of row 0, kv head 0 sits in the slot; the slot after it is untouched
            float[] q = floats(qkv);
            for (int i = 0; i < headDim; i++) {
                assertEquals(q[heads * headDim + i], host.key(0, 0, 0, slot, i), 0f);
                assertEquals(keysBefore.getFloat(0, 0, slot + 1, i), host.key(0, 0, 0, slot + 1, i), 0f);
            }
        }
    }
}
