package io.skipllm.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The loop shared by the Vector API kernels: weight rows are taken a tile at a time, and within a tile
 * input rows four at a time, so that each weight vector loaded feeds four inputs' sums (kept in
 * registers) and a tile, read from memory once, is re-read from cache for the next four inputs.
 *
 * <p>Subclasses keep two partial sums per input row (so that a single input, a decode step, is not
 * bound by the latency of one chain of fused multiply-adds) and add the lanes only at the end. The
 * one-input and four-input loops do the same arithmetic per element, so an output does not depend on
 * how many inputs were in the batch nor on the thread that computed it.
 */
abstract class VectorRows extends RowTask {

    /** The machine's widest float vector, at most 512 bits (16 lanes, so that 32-weight blocks hold whole vectors). */
    static final VectorSpecies<Float> FLOATS =
            FloatVector.SPECIES_PREFERRED.length() > 16 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_PREFERRED;
    static final int LANES = FLOATS.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Bytes of weights per tile: a tile stays in the core's L2 while every group of four inputs passes over it. */
    private static final int TILE_BYTES = 128 * 1024;

    VectorRows(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        super(w, x, n, out, accumulate);
    }

    @Override
    final void computeRows(ByteBuffer data, int partRow, int count, int outRow) {
        int tileRows = (int) Math.max(1, TILE_BYTES / weight.rowBytes());
        for (int tile = 0; tile < count; tile += tileRows) {
            int tileEnd = Math.min(count, tile + tileRows);
            int i = 0;
            for (; i + 4 <= n; i += 4) {
                for (int r = tile; r < tileEnd; r++) {
                    fourInputs(data, rowAt(partRow + r), i, outRow + r);
                }
            }
            for (; i < n; i++) {
                for (int r = tile; r < tileEnd; r++) {
                    oneInput(data, rowAt(partRow + r), i, outRow + r);
                }
            }
        }
    }

    /** Stores the dot products of the weight row at byte {@code rowAt} with inputs {@code i .. i + 3}. */
    abstract void fourInputs(ByteBuffer data, int rowAt, int i, int outRow);

    /** Stores the dot product of the weight row at byte {@code rowAt} with input {@code i}. */
    abstract void oneInput(ByteBuffer data, int rowAt, int i, int outRow);

    /** The final sum of an input row's two partial vectors and its scalar tail. */
    static float total(FloatVector a, FloatVector b, float tail) {
        return a.add(b).reduceLanes(VectorOperators.ADD) + tail;
    }
}
