package io.skipllm.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The loop shared by the Vector API kernels: weight rows are taken a tile at a time, and within a tile
 * two rows by four inputs at a time, so that each weight vector loaded feeds four inputs' sums (and,
 * where a format has a loop over both rows, each input vector loaded feeds two rows' sums: 16 sums in
 * registers), and a tile, read from memory once, is re-read from cache for the next four inputs.
 *
 * <p>Subclasses keep two partial sums per input row and weight row (so that a single input, a decode
 * step, is not bound by the latency of one chain of fused multiply-adds) and add the lanes only at the
 * end. The one-input and the two-rows-by-four-inputs loops do the same arithmetic per element, so an
 * output does not depend on how many inputs were in the batch nor on the thread that computed it.
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
        // An even number of rows per tile, so that only a chunk's last row can lack a partner.
        int tileRows = (int) Math.max(2, TILE_BYTES / weight.rowBytes() & ~1L);
        for (int tile = 0; tile < count; tile += tileRows) {
            int tileEnd = Math.min(count, tile + tileRows);
            int i = 0;
            if (n >= 4 && hasTwoRowLoop()) {
                prefetch(data, rowAt(partRow + tile), rowAt(partRow + tileEnd));
            }
            for (; i + 4 <= n; i += 4) {
                int r = tile;
                for (; r + 2 <= tileEnd; r += 2) {
                    twoRowsFourInputs(data, rowAt(partRow + r), rowAt(partRow + r + 1), i, outRow + r);
                }
                if (r < tileEnd) {
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

    /**
     * Reads one byte per cache line of {@code [from, to)}, pulling the tile into cache in one sequential
     * pass: the two-row loop reads two streams at once, which the hardware prefetcher serves from memory
     * markedly slower than one (measured: 8 inputs over F32 weights 20-30% faster with this pass).
     */
    private static void prefetch(ByteBuffer data, int from, int to) {
        int sum = 0;
        for (int at = from; at < to; at += 64) {
            sum += data.get(at);
        }
        prefetchSink = sum;
    }

    /** Where {@link #prefetch} leaves its sum, so that the JIT cannot drop the reads. */
    @SuppressWarnings("unused")
    private static int prefetchSink;

    /**
     * Whether {@link #twoRowsFourInputs} is a loop over both rows (which reads two streams at once and so
     * wants the tile prefetched); without one, the extra pass measured about 10% slower.
     */
    boolean hasTwoRowLoop() {
        return false;
    }

    /**
     * Stores the dot products of the weight rows at bytes {@code rowAt} and {@code nextRowAt} (output
     * rows {@code outRow} and {@code outRow + 1}) with inputs {@code i .. i + 3}: here one row after the
     * other; a format overrides this with a loop over both rows where the JIT compiles one well.
     */
    void twoRowsFourInputs(ByteBuffer data, int rowAt, int nextRowAt, int i, int outRow) {
        fourInputs(data, rowAt, i, outRow);
        fourInputs(data, nextRowAt, i, outRow + 1);
    }

    /** Stores the dot products of the weight row at byte {@code rowAt} with inputs {@code i .. i + 3}. */
    abstract void fourInputs(ByteBuffer data, int rowAt, int i, int outRow);

    /** Stores the dot product of the weight row at byte {@code rowAt} with input {@code i}. */
    abstract void oneInput(ByteBuffer data, int rowAt, int i, int outRow);

    /**
     * The final sum of an input row's two partial vectors and its scalar tail. The lanes are added as a
     * tree of lanewise adds rather than by {@code reduceLanes(ADD)}, whose order the Vector API leaves
     * open: on JDK 25 its interpreted and compiled forms round differently, so an output changed once the
     * JIT had compiled the kernel (and with it, results depended on which thread ran first).
     */
    static float total(FloatVector a, FloatVector b, float tail) {
        FloatVector v = a.add(b);
        for (VectorShuffle<Float> fold : FOLDS) {
            v = v.add(v.rearrange(fold));
        }
        return v.lane(0) + tail;
    }

    /** Shuffles bringing lane {@code i + LANES / 2}, then {@code i + LANES / 4}, ... to lane {@code i}. */
    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] FOLDS = folds();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] folds() {
        int steps = Integer.numberOfTrailingZeros(LANES);
        VectorShuffle<Float>[] folds = new VectorShuffle[steps];
        for (int k = 0, half = LANES / 2; half >= 1; k++, half /= 2) {
            int h = half;
            folds[k] = VectorShuffle.fromOp(FLOATS, i -> (i + h) % LANES);
        }
        return folds;
    }
}
