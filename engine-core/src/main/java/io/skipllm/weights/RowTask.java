package io.skipllm.weights;

import java.nio.ByteBuffer;

/**
 * One product {@code out[n, rows] (+)= x[n, cols] W^T}, computed a range of output rows at a time so
 * that threads can share it. Each output element is computed whole by one call, in an order that does
 * not depend on the range it falls in: the result does not depend on how rows are split.
 */
abstract class RowTask {

    final Weight weight;
    final float[] x;
    final int n;
    final int rows;
    final int cols;
    final float[] out;
    final boolean accumulate;

    RowTask(Weight weight, float[] x, int n, float[] out, boolean accumulate) {
        this.weight = weight;
        this.x = x;
        this.n = n;
        this.rows = weight.rows();
        this.cols = weight.cols();
        this.out = out;
        this.accumulate = accumulate;
    }

    /** Computes output rows {@code [firstRow, endRow)} for all {@code n} inputs, part by part. */
    final void compute(int firstRow, int endRow) {
        int row = firstRow;
        for (int p = weight.partOf(firstRow); row < endRow; p++) {
            int partStart = weight.partStart(p);
            Weight.Part part = weight.part(p);
            int stop = Math.min(endRow, partStart + part.rows());
            computeRows(part.data(), row - partStart, stop - row, row);
            row = stop;
        }
    }

    /**
     * Computes {@code count} output rows starting at {@code outRow}, whose weights are rows
     * {@code [partRow, partRow + count)} of one part's buffer.
     */
    abstract void computeRows(ByteBuffer data, int partRow, int count, int outRow);

    /** Byte offset of a part's row in its buffer (parts are under 2 GiB). */
    final int rowAt(int partRow) {
        return (int) (partRow * weight.rowBytes());
    }

    /** Writes (or adds) one finished dot product: input row {@code i}, output column {@code outRow}. */
    final void store(int i, int outRow, float sum) {
        int o = i * rows + outRow;
        out[o] = accumulate ? out[o] + sum : sum;
    }
}
