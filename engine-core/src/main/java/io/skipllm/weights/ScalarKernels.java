package io.skipllm.weights;

import java.nio.ByteBuffer;

/**
 * Plain Java kernels, for a JVM without the Vector API: each weight row is decoded once to float32 and
 * dotted with every input row. The dot product keeps four independent sums because the JIT does not
 * vectorise a float reduction (it would change the rounding), and one sum is bound by add latency.
 */
final class ScalarKernels implements Kernels {

    @Override
    public RowTask task(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        return new DecodedRows(w, x, n, out, accumulate);
    }

    @Override
    public String description() {
        return "scalar (add --add-modules jdk.incubator.vector)";
    }

    private static final class DecodedRows extends RowTask {

        DecodedRows(Weight w, float[] x, int n, float[] out, boolean accumulate) {
            super(w, x, n, out, accumulate);
        }

        @Override
        void computeRows(ByteBuffer data, int partRow, int count, int outRow) {
            float[] row = new float[cols];
            for (int r = 0; r < count; r++) {
                Encoding.decodeRow(weight.format(), data, rowAt(partRow + r), cols, row, 0);
                for (int i = 0; i < n; i++) {
                    store(i, outRow + r, dot(row, x, i * cols, cols));
                }
            }
        }

        private static float dot(float[] w, float[] x, int xAt, int cols) {
            float s0 = 0;
            float s1 = 0;
            float s2 = 0;
            float s3 = 0;
            int c = 0;
            for (; c + 4 <= cols; c += 4) {
                s0 += w[c] * x[xAt + c];
                s1 += w[c + 1] * x[xAt + c + 1];
                s2 += w[c + 2] * x[xAt + c + 2];
                s3 += w[c + 3] * x[xAt + c + 3];
            }
            for (; c < cols; c++) {
                s0 += w[c] * x[xAt + c];
            }
            return (s0 + s1) + (s2 + s3);
        }
    }
}
