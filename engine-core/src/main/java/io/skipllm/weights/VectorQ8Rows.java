package io.skipllm.weights;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 weights, dequantized in registers: two float vectors' worth of a block's signed bytes (a whole
 * block on a 512-bit machine) are loaded at once, widened to floats and multiplied by the block's scale,
 * then fed to every input row's sums in float32, the first vector to one partial sum, the second to the
 * other.
 *
 * <p>Quantizing the inputs to int8 as llama.cpp does (int16 products, pairs summed to int32, one
 * int-to-float conversion and fused multiply-add per block) measured no faster here on one input and
 * slower on four: without an int8 dot-product instruction, which JDK 17's Vector API does not expose,
 * it takes about as many vector operations per block as the float path, and changes the results.
 */
final class VectorQ8Rows extends VectorRows {

    private static final int BLOCK = WeightFormat.Q8_BLOCK;
    private static final int BLOCK_BYTES = 4 + BLOCK;
    /**
     * Bytes for two float vectors, loaded at once and widened a half at a time: on a 512-bit machine a
     * whole block in one 256-bit load (measured 10-15% faster than a 128-bit load per float vector).
     */
    private static final VectorSpecies<Byte> BYTES =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(2 * 8 * LANES));

    /** Columns in whole blocks, which the vector loop covers; the padded last block is summed one by one. */
    private final int vectorCols;

    VectorQ8Rows(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        super(w, x, n, out, accumulate);
        this.vectorCols = cols - cols % BLOCK;
    }

    /**
     * One row after the other: a loop over two rows (16 sums, four weight vectors to widen) compiled,
     * on JDK 17, with its vectors boxed (the method outgrows the JIT's inlining budget), 50x slower.
     */
    @Override
    void twoRowsFourInputs(ByteBuffer data, int rowAt, int nextRowAt, int i, int outRow) {
        fourInputs(data, rowAt, i, outRow);
        fourInputs(data, nextRowAt, i, outRow + 1);
    }

    private void fourInputs(ByteBuffer data, int rowAt, int i, int outRow) {
        int x0 = i * cols;
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector b0 = a0;
        FloatVector a1 = a0;
        FloatVector b1 = a0;
        FloatVector a2 = a0;
        FloatVector b2 = a0;
        FloatVector a3 = a0;
        FloatVector b3 = a0;
        for (int c = 0; c < vectorCols; c += 2 * LANES) {
            int blockAt = rowAt + (c / BLOCK) * BLOCK_BYTES;
            float scale = data.getFloat(blockAt);
            ByteVector q = ByteVector.fromByteBuffer(BYTES, data, blockAt + 4 + c % BLOCK, LE);
            FloatVector wa = widen(q, 0).mul(scale);
            FloatVector wb = widen(q, 1).mul(scale);
            a0 = wa.fma(FloatVector.fromArray(FLOATS, x, x0 + c), a0);
            b0 = wb.fma(FloatVector.fromArray(FLOATS, x, x0 + c + LANES), b0);
            a1 = wa.fma(FloatVector.fromArray(FLOATS, x, x1 + c), a1);
            b1 = wb.fma(FloatVector.fromArray(FLOATS, x, x1 + c + LANES), b1);
            a2 = wa.fma(FloatVector.fromArray(FLOATS, x, x2 + c), a2);
            b2 = wb.fma(FloatVector.fromArray(FLOATS, x, x2 + c + LANES), b2);
            a3 = wa.fma(FloatVector.fromArray(FLOATS, x, x3 + c), a3);
            b3 = wb.fma(FloatVector.fromArray(FLOATS, x, x3 + c + LANES), b3);
        }
        store(i, outRow, total(a0, b0, tail(data, rowAt, x0)));
        store(i + 1, outRow, total(a1, b1, tail(data, rowAt, x1)));
        store(i + 2, outRow, total(a2, b2, tail(data, rowAt, x2)));
        store(i + 3, outRow, total(a3, b3, tail(data, rowAt, x3)));
    }

    @Override
    void oneInput(ByteBuffer data, int rowAt, int i, int outRow) {
        int x0 = i * cols;
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector b0 = a0;
        for (int c = 0; c < vectorCols; c += 2 * LANES) {
            int blockAt = rowAt + (c / BLOCK) * BLOCK_BYTES;
            float scale = data.getFloat(blockAt);
            ByteVector q = ByteVector.fromByteBuffer(BYTES, data, blockAt + 4 + c % BLOCK, LE);
            a0 = widen(q, 0).mul(scale).fma(FloatVector.fromArray(FLOATS, x, x0 + c), a0);
            b0 = widen(q, 1).mul(scale).fma(FloatVector.fromArray(FLOATS, x, x0 + c + LANES), b0);
        }
        store(i, outRow, total(a0, b0, tail(data, rowAt, x0)));
    }

    /** The first ({@code part} 0) or second half of a byte vector's lanes, as floats. */
    private static FloatVector widen(ByteVector q, int part) {
        return (FloatVector) q.convertShape(VectorOperators.B2F, FLOATS, part);
    }

    /** The partial last block, weight by weight (its padding is never read). */
    private float tail(ByteBuffer data, int rowAt, int xAt) {
        float sum = 0;
        int blockAt = rowAt + (vectorCols / BLOCK) * BLOCK_BYTES;
        for (int c = vectorCols; c < cols; c++) {
            sum += data.getFloat(blockAt) * data.get(blockAt + 4 + c - vectorCols) * x[xAt + c];
        }
        return sum;
    }
}
