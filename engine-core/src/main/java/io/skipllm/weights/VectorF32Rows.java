package io.skipllm.weights;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;

/**
 * F32 weights: two vectors per row and step, one per partial sum. The only format with a loop over two
 * rows: with the 16-bit formats' widening (or Q8_0's) in it, JDK 17's C2 compiled the same loop into
 * code 3-50x slower than one row at a time (by all signs with its vectors boxed: too much to inline).
 */
final class VectorF32Rows extends VectorRows {

    /** Columns the vector loop covers; the rest are summed one by one. */
    private final int vectorCols;

    VectorF32Rows(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        super(w, x, n, out, accumulate);
        this.vectorCols = cols - cols % (2 * LANES);
    }

    @Override
    boolean hasTwoRowLoop() {
        return true;
    }

    @Override
    void twoRowsFourInputs(ByteBuffer data, int rowAt, int nextRowAt, int i, int outRow) {
        int x0 = i * cols;
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        // aK, bK: the first row's two partial sums for input i + K; cK, dK: the second row's.
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector b0 = a0;
        FloatVector a1 = a0;
        FloatVector b1 = a0;
        FloatVector a2 = a0;
        FloatVector b2 = a0;
        FloatVector a3 = a0;
        FloatVector b3 = a0;
        FloatVector c0 = a0;
        FloatVector d0 = a0;
        FloatVector c1 = a0;
        FloatVector d1 = a0;
        FloatVector c2 = a0;
        FloatVector d2 = a0;
        FloatVector c3 = a0;
        FloatVector d3 = a0;
        for (int c = 0; c < vectorCols; c += 2 * LANES) {
            FloatVector wa = VectorAccess.floats(FLOATS, data, rowAt + 4 * c);
            FloatVector wb = VectorAccess.floats(FLOATS, data, rowAt + 4 * (c + LANES));
            FloatVector va = VectorAccess.floats(FLOATS, data, nextRowAt + 4 * c);
            FloatVector vb = VectorAccess.floats(FLOATS, data, nextRowAt + 4 * (c + LANES));
            FloatVector in = FloatVector.fromArray(FLOATS, x, x0 + c);
            a0 = wa.fma(in, a0);
            c0 = va.fma(in, c0);
            in = FloatVector.fromArray(FLOATS, x, x0 + c + LANES);
            b0 = wb.fma(in, b0);
            d0 = vb.fma(in, d0);
            in = FloatVector.fromArray(FLOATS, x, x1 + c);
            a1 = wa.fma(in, a1);
            c1 = va.fma(in, c1);
            in = FloatVector.fromArray(FLOATS, x, x1 + c + LANES);
            b1 = wb.fma(in, b1);
            d1 = vb.fma(in, d1);
            in = FloatVector.fromArray(FLOATS, x, x2 + c);
            a2 = wa.fma(in, a2);
            c2 = va.fma(in, c2);
            in = FloatVector.fromArray(FLOATS, x, x2 + c + LANES);
            b2 = wb.fma(in, b2);
            d2 = vb.fma(in, d2);
            in = FloatVector.fromArray(FLOATS, x, x3 + c);
            a3 = wa.fma(in, a3);
            c3 = va.fma(in, c3);
            in = FloatVector.fromArray(FLOATS, x, x3 + c + LANES);
            b3 = wb.fma(in, b3);
            d3 = vb.fma(in, d3);
        }
        store(i, outRow, total(a0, b0, tail(data, rowAt, x0)));
        store(i + 1, outRow, total(a1, b1, tail(data, rowAt, x1)));
        store(i + 2, outRow, total(a2, b2, tail(data, rowAt, x2)));
        store(i + 3, outRow, total(a3, b3, tail(data, rowAt, x3)));
        store(i, outRow + 1, total(c0, d0, tail(data, nextRowAt, x0)));
        store(i + 1, outRow + 1, total(c1, d1, tail(data, nextRowAt, x1)));
        store(i + 2, outRow + 1, total(c2, d2, tail(data, nextRowAt, x2)));
        store(i + 3, outRow + 1, total(c3, d3, tail(data, nextRowAt, x3)));
    }

    @Override
    void fourInputs(ByteBuffer data, int rowAt, int i, int outRow) {
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
            FloatVector wa = VectorAccess.floats(FLOATS, data, rowAt + 4 * c);
            FloatVector wb = VectorAccess.floats(FLOATS, data, rowAt + 4 * (c + LANES));
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
            FloatVector wa = VectorAccess.floats(FLOATS, data, rowAt + 4 * c);
            FloatVector wb = VectorAccess.floats(FLOATS, data, rowAt + 4 * (c + LANES));
            a0 = wa.fma(FloatVector.fromArray(FLOATS, x, x0 + c), a0);
            b0 = wb.fma(FloatVector.fromArray(FLOATS, x, x0 + c + LANES), b0);
        }
        store(i, outRow, total(a0, b0, tail(data, rowAt, x0)));
    }

    private float tail(ByteBuffer data, int rowAt, int xAt) {
        float sum = 0;
        for (int c = vectorCols; c < cols; c++) {
            sum += data.getFloat(rowAt + 4 * c) * x[xAt + c];
        }
        return sum;
    }
}
