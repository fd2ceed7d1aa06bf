package io.skipllm.weights;

import java.nio.ByteBuffer;

/**
 * What the 16-bit formats (BF16, F16) share: their vector loops load weights as ints, each holding two
 * consecutive weights (the even-indexed one in the low half, little-endian), and widen the even and
 * the odd halves separately. That avoids a widening lane conversion; the inputs are de-interleaved
 * once per product to match ({@link #evens}, {@link #odds}, {@code cols / 2} per input row).
 */
abstract class VectorHalfRows extends VectorRows {

    /** Even-indexed columns of each input row. */
    final float[] evens;
    /** Odd-indexed columns of each input row. */
    final float[] odds;
    /** Column pairs per input row in {@link #evens} and {@link #odds}. */
    final int pairs;
    /** Pairs the vector loop covers (a whole number of int vectors); later columns are summed one by one. */
    final int vectorPairs;

    VectorHalfRows(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        super(w, x, n, out, accumulate);
        pairs = cols / 2;
        vectorPairs = pairs - pairs % LANES;
        evens = new float[n * pairs];
        odds = new float[n * pairs];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < pairs; k++) {
                evens[i * pairs + k] = x[i * cols + 2 * k];
                odds[i * pairs + k] = x[i * cols + 2 * k + 1];
            }
        }
    }

    /** The sum over the columns the vector loop leaves, for input row {@code i}. */
    final float tail(ByteBuffer data, int rowAt, int i) {
        float sum = 0;
        for (int c = 2 * vectorPairs; c < cols; c++) {
            sum += widen(data.getShort(rowAt + 2 * c)) * x[i * cols + c];
        }
        return sum;
    }

    /** One weight to float32. */
    abstract float widen(short bits);
}
