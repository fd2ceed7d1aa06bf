package io.skipllm.weights;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;

/** F32 weights: two vectors per step, one per partial sum. */
final class VectorF32Rows extends VectorRows {

    /** Columns the vector loop covers; the rest are summed one by one. */
    private final int vectorCols;

    VectorF32Rows(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        super(w, x, n, out, accumulate);
        this.vectorCols = cols - cols % (2 * LANES);
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
            FloatVector wa = FloatVector.fromByteBuffer(FLOATS, data, rowAt + 4 * c, LE);
            FloatVector wb = FloatVector.fromByteBuffer(FLOATS, data, rowAt + 4 * (c + LANES), LE);
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
            FloatVector wa = FloatVector.fromByteBuffer(FLOATS, data, rowAt + 4 * c, LE);
            FloatVector wb = FloatVector.fromByteBuffer(FLOATS, data, rowAt + 4 * (c + LANES), LE);
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
