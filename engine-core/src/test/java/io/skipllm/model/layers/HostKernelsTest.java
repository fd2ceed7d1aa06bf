package io.skipllm.model.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.kvcache.KvCache;
import io.skipllm.model.ForwardPass;
import io.skipllm.planner.RetainedLayers;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The decode step's Java loops over host memory against the ND4J-op path they replace on the CPU
 * backend (the path the CUDA backend runs): same results to float rounding, on random inputs.
 */
class HostKernelsTest {

    @AfterEach
    void hostLoopsBackOn() {
        HostArrays.setEnabled(true);
    }

    /** {@code compute} with the host loops on, then off; both results, detached from each other. */
    private static INDArray[] bothPaths(Supplier<INDArray> compute) {
        HostArrays.setEnabled(true);
        assertTrue(HostArrays.enabled(), "the CPU backend runs the host loops");
        INDArray host = compute.get().dup();
        HostArrays.setEnabled(false);
        INDArray ops = compute.get().dup();
        HostArrays.setEnabled(true);
        return new INDArray[] {host, ops};
    }

    private static void assertClose(INDArray expected, INDArray actual, double tolerance) {
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()));
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= tolerance, "max difference " + diff);
    }

    @Test
    void rmsNormMatches() {
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 40).muli(3);
        INDArray weight = Nd4j.rand(DataType.FLOAT, 40);
        INDArray[] r = bothPaths(() -> Norms.rms(x, weight, 1e-6));
        assertClose(r[1], r[0], 1e-5);
        // against the formula, row 1
        double meanSquare = x.getRow(1).mul(x.getRow(1)).meanNumber().doubleValue();
        assertEquals(x.getDouble(1, 7) / Math.sqrt(meanSquare + 1e-6) * weight.getDouble(7), r[0].getDouble(1, 7), 1e-5);
    }

    @Test
    void layerNormMatches() {
        Nd4j.getRandom().setSeed(2);
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 24).addi(5);
        INDArray weight = Nd4j.rand(DataType.FLOAT, 24);
        INDArray bias = Nd4j.randn(DataType.FLOAT, 24);
        INDArray[] r = bothPaths(() -> Norms.layer(x, weight, bias, 1e-5));
        assertClose(r[1], r[0], 1e-5);
    }

    @Test
    void siluGateTimesUpMatches() {
        Nd4j.getRandom().setSeed(6);
        INDArray gateUp = Nd4j.randn(DataType.FLOAT, 3, 2 * 20).muli(4);
        INDArray[] r = bothPaths(() -> Activations.siluGateTimesUp(gateUp, 20));
        assertClose(r[1], r[0], 1e-5);
        double gate = gateUp.getDouble(2, 5);
        assertEquals(gate / (1 + Math.exp(-gate)) * gateUp.getDouble(2, 25), r[0].getDouble(2, 5), 1e-5);
    }

    @Test
    void stridedViewsFallBackToOpsWithTheSameResult() {
        Nd4j.getRandom().setSeed(3);
        INDArray wide = Nd4j.randn(DataType.FLOAT, 3, 50);
        INDArray columns = wide.get(NDArrayIndex.all(), NDArrayIndex.interval(5, 45));  // rows 50 apart
        assertNull(HostArrays.floats(columns), "a strided view is not handed out");
        INDArray rows = wide.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all());
        assertNotNull(HostArrays.floats(rows), "a block of whole rows is");
        assertEquals(wide.getFloat(1, 0), HostArrays.floats(rows).get(0));
        assertEquals(2 * 50, HostArrays.floats(rows).capacity(), "the buffer covers the view only");
        INDArray weight = Nd4j.rand(DataType.FLOAT, 40);
        assertClose(Norms.rms(columns.dup(), weight, 1e-6), Norms.rms(columns, weight, 1e-6), 1e-6);
        assertNull(HostArrays.floats(Nd4j.create(DataType.DOUBLE, 4)), "doubles are not floats");
    }

    @Test
    void rotaryMatches() {
        Nd4j.getRandom().setSeed(4);
        RotaryEmbedding rotary = new RotaryEmbedding(8, 10000);
        RotaryEmbedding.Tables tables = rotary.tables(new int[] {0, 3, 17, 250, 4});
        INDArray x = Nd4j.randn(DataType.FLOAT, 5, 6, 8);
        INDArray[] r = bothPaths(() -> {
            INDArray copy = x.dup();
            rotary.applyInPlace(copy, tables);
            return copy;
        });
        assertClose(r[1], r[0], 1e-5);
        assertClose(x.get(NDArrayIndex.point(0)), r[0].get(NDArrayIndex.point(0)), 1e-6);  // position 0: identity
    }

    @Test
    void rotaryOfTheLeadingHeadsLeavesTheOthersAlone() {
        Nd4j.getRandom().setSeed(7);
        RotaryEmbedding rotary = new RotaryEmbedding(8, 10000);
        RotaryEmbedding.Tables tables = rotary.tables(new int[] {5, 9, 300});
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 7, 8);
        INDArray[] r = bothPaths(() -> {
            INDArray copy = x.dup();
            rotary.applyInPlace(copy, tables, 4);
            return copy;
        });
        assertClose(r[1], r[0], 1e-5);
        INDArray leading = x.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 4), NDArrayIndex.all()).dup();
        rotary.applyInPlace(leading, tables);
        assertClose(leading, r[0].get(NDArrayIndex.all(), NDArrayIndex.interval(0, 4), NDArrayIndex.all()), 1e-6);
        assertClose(x.get(NDArrayIndex.all(), NDArrayIndex.interval(4, 7), NDArrayIndex.all()),
                r[0].get(NDArrayIndex.all(), NDArrayIndex.interval(4, 7), NDArrayIndex.all()), 0);
    }

    @ParameterizedTest(name = "batch {0}, heads {1}, kv heads {2}, per-head bias {3}, head size {4}, {5} new tokens")
    @CsvSource({"1, 4, 4, false, 8, 4", "3, 4, 2, false, 8, 4", "2, 6, 1, false, 8, 4", "2, 4, 4, true, 8, 4",
            // above CachedAttention.PARALLEL_MIN_MACS: (row, kv head) pairs split over threads
            "4, 8, 4, false, 64, 70", "3, 6, 6, true, 32, 300"})
    void decodeAttentionMatchesAndFillsTheCacheSlot(int batch, int heads, int kvHeads, boolean perHeadBias, int headDim,
            int newTokens) {
        Nd4j.getRandom().setSeed(5 + batch);
        int prompt = 5;
        int capacity = prompt + newTokens;
        assertTrue(newTokens == 4 || (long) batch * heads * capacity * headDim >= CachedAttention.PARALLEL_MIN_MACS);
        int slot = prompt + 2;  // third response token
        INDArray qkv = Nd4j.randn(DataType.FLOAT, batch, heads + 2 * kvHeads, headDim);
        INDArray keysBefore = Nd4j.randn(DataType.FLOAT, batch, kvHeads, capacity, headDim);
        INDArray valuesBefore = Nd4j.randn(DataType.FLOAT, batch, kvHeads, capacity, headDim);
        // row 0 attends to everything filled so far; the others have left padding and hide one more slot
        INDArray bias = Nd4j.zeros(DataType.FLOAT, batch, 1, 1, 1, capacity);
        bias.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.interval(slot + 1, capacity)).assign(CachedAttention.MASKED);
        for (int row = 1; row < batch; row++) {
            bias.putScalar(new long[] {row, 0, 0, 0, 0}, CachedAttention.MASKED);
        }
        if (perHeadBias) {  // ALiBi-like: a different bias per head, broadcast over rows
            bias = bias.add(Nd4j.rand(DataType.FLOAT, 1, heads, 1, 1, capacity).negi());
        }
        INDArray finalBias = bias;
        CachedAttention attention = new CachedAttention(heads, kvHeads, headDim);
        KvCache[] caches = new KvCache[2];
        INDArray[] r = bothPaths(() -> {
            KvCache cache = new KvCache(1, batch, kvHeads, headDim, prompt, newTokens, RetainedLayers.all(1));
            cache.keys(0).assign(keysBefore);
            cache.values(0).assign(valuesBefore);
            caches[HostArrays.enabled() ? 0 : 1] = cache;
            ForwardPass pass = new ForwardPass(batch, 1, new int[batch], cache, slot, false, finalBias, null);
            return attention.attend(0, qkv.dup(), pass);
        });
        assertClose(r[1], r[0], 1e-5);
        assertClose(caches[1].keys(0), caches[0].keys(0), 0);
        assertClose(caches[1].values(0), caches[0].values(0), 0);
        // the new key of row 0, kv head 0 sits in the slot; the slot after it is untouched
        assertClose(qkv.get(NDArrayIndex.point(0), NDArrayIndex.point(heads)),
                caches[0].keys(0).get(NDArrayIndex.point(0), NDArrayIndex.point(0), NDArrayIndex.point(slot)), 0);
        // and its value, the head after the key heads
        assertClose(qkv.get(NDArrayIndex.point(0), NDArrayIndex.point(heads + kvHeads)),
                caches[0].values(0).get(NDArrayIndex.point(0), NDArrayIndex.point(0), NDArrayIndex.point(slot)), 0);
        assertClose(keysBefore.get(NDArrayIndex.point(0), NDArrayIndex.point(0), NDArrayIndex.point(slot + 1)),
                caches[0].keys(0).get(NDArrayIndex.point(0), NDArrayIndex.point(0), NDArrayIndex.point(slot + 1)), 0);
        for (KvCache cache : caches) {
            cache.close();
        }
    }
}
