package io.skipllm.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class MatMulTest {

    private static final int[] COLS = {1, 2, 7, 15, 31, 32, 33, 63, 64, 100, 257};
    private static final int[] ROWS = {1, 2, 3, 5, 17, 40};
    /** Every product is also run split this many ways (threshold 0), and must not change by a bit. */
    private static final ParallelRows ONE_THREAD = new ParallelRows(1, 0);
    private static final ParallelRows TWO_THREADS = new ParallelRows(2, 0);
    private static final ParallelRows FIVE_THREADS = new ParallelRows(5, 0);

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void vectorKernelsMatchTheDecodedWeights(WeightFormat format) {
        assumeTrue(MatMul.vectorApiPresent(), "the tests run with --add-modules jdk.incubator.vector");
        checkRandomProducts(new VectorKernels(), format, 11);
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void scalarKernelsMatchTheDecodedWeights(WeightFormat format) {
        checkRandomProducts(new ScalarKernels(), format, 12);
    }

    private static void checkRandomProducts(Kernels kernels, WeightFormat format, long seed) {
        Random random = new Random(seed);
        for (int trial = 0; trial < 150; trial++) {
            int rows = ROWS[random.nextInt(ROWS.length)];
            int cols = trial < COLS.length ? COLS[trial] : COLS[random.nextInt(COLS.length)] + random.nextInt(40);
            int n = 1 + random.nextInt(17);
            boolean accumulate = random.nextBoolean();
            String what = format + " " + n + "x" + cols + " times " + rows + "x" + cols + "^T, accumulate "
                    + accumulate;
            try (Weight w = randomWeight(random, format, rows, cols)) {
                float[] x = values(random, n * cols);
                float[] start = values(random, n * rows);
                float[] single = start.clone();
                MatMul.multiply(kernels, ONE_THREAD, w, x, n, single, accumulate);
                assertClose(reference(w, x, n, start, accumulate), single, what);
                for (ParallelRows split : List.of(TWO_THREADS, FIVE_THREADS)) {
                    float[] out = start.clone();
                    MatMul.multiply(kernels, split, w, x, n, out, accumulate);
                    assertArrayEquals(single, out, what + " split over " + split.threads() + " threads");
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void anInputGetsTheSameOutputsInAnyBatch(WeightFormat format) {
        assumeTrue(MatMul.vectorApiPresent());
        Random random = new Random(13);
        int rows = 9;
        int cols = 203;
        int n = 7;
        try (Weight w = randomWeight(random, format, rows, cols)) {
            float[] x = values(random, n * cols);
            float[] batch = new float[n * rows];
            MatMul.multiply(new VectorKernels(), ONE_THREAD, w, x, n, batch, false);
            for (int i = 0; i < n; i++) {
                float[] one = new float[rows];
                MatMul.multiply(new VectorKernels(), ONE_THREAD, w, slice(x, i * cols, cols), 1, one, false);
                assertArrayEquals(slice(batch, i * rows, rows), one, "input " + i);
            }
        }
    }

    /**
     * A weight of several cache tiles (and an odd row count, so that a row has no partner in the
     * two-row loops): each input's outputs are those it gets alone, on any thread split.
     */
    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void severalTilesGiveEachInputItsOwnOutputs(WeightFormat format) {
        assumeTrue(MatMul.vectorApiPresent());
        Random random = new Random(16);
        int rows = 301;
        int cols = 1100;
        int n = 9;
        try (Weight w = randomWeight(random, format, rows, cols)) {
            float[] x = values(random, n * cols);
            float[] batch = new float[n * rows];
            MatMul.multiply(new VectorKernels(), ONE_THREAD, w, x, n, batch, false);
            assertClose(reference(w, x, n, batch, false), batch, format + " in tiles");
            float[] split = new float[n * rows];
            MatMul.multiply(new VectorKernels(), FIVE_THREADS, w, x, n, split, false);
            assertArrayEquals(batch, split, "split over five threads");
            for (int i = 0; i < n; i++) {
                float[] one = new float[rows];
                MatMul.multiply(new VectorKernels(), ONE_THREAD, w, slice(x, i * cols, cols), 1, one, false);
                assertArrayEquals(slice(batch, i * rows, rows), one, "input " + i);
            }
        }
    }

    /** Every finite 16-bit value, read through the vector loop (no scalar tail) by one-hot inputs. */
    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = {"BF16", "F16"})
    void vectorWideningIsExactForEveryFiniteHalf(WeightFormat format) {
        assumeTrue(MatMul.vectorApiPresent());
        List<Float> finite = new ArrayList<>();
        for (int bits = 0; bits < 1 << 16; bits++) {
            float v = format == WeightFormat.BF16 ? HalfFloats.bf16ToFloat((short) bits)
                    : HalfFloats.f16ToFloat((short) bits);
            if (Float.isFinite(v)) {
                finite.add(v);
            }
        }
        int cols = 32;
        int rows = finite.size() / cols;
        try (Weight w = Weight.convert((r, into) -> {
            for (int c = 0; c < cols; c++) {
                into[c] = finite.get(r * cols + c);
            }
        }, rows, cols, format)) {
            float[] oneHot = new float[cols * cols];
            for (int i = 0; i < cols; i++) {
                oneHot[i * cols + i] = 1;
            }
            float[] out = new float[cols * rows];
            MatMul.multiply(new VectorKernels(), ONE_THREAD, w, oneHot, cols, out, false);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    assertEquals(finite.get(r * cols + c), out[c * rows + r], 0f, "row " + r + " col " + c);
                }
            }
        }
    }

    @Test
    void callersOnSeveralThreadsShareTheWorkers() throws Exception {
        ParallelRows shared = new ParallelRows(3, 0);
        Kernels kernels = MatMul.vectorApiPresent() ? new VectorKernels() : new ScalarKernels();
        Random random = new Random(14);
        try (Weight w = randomWeight(random, WeightFormat.Q8_0, 300, 96)) {
            int n = 3;
            float[] x = values(random, n * 96);
            float[] expected = new float[n * 300];
            MatMul.multiply(kernels, ONE_THREAD, w, x, n, expected, false);
            ExecutorService callers = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    done.add(callers.submit(() -> {
                        for (int k = 0; k < 300; k++) {
                            float[] out = new float[n * 300];
                            MatMul.multiply(kernels, shared, w, x, n, out, false);
                            assertArrayEquals(expected, out);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                callers.shutdown();
            }
        }
    }

    @Test
    void weightMatmulUsesTheNativeKernelsWhereTheyLoadElseTheVectorOnes() {
        assumeTrue(MatMul.vectorApiPresent());
        String expected = MatMul.nativeKernelsOrNull() != null ? "native AVX-512 VNNI, " : "Vector API, ";
        assertTrue(MatMul.kernelName().startsWith(expected), MatMul.kernelName());
        Random random = new Random(15);
        try (Weight w = randomWeight(random, WeightFormat.BF16, 700, 300)) {
            float[] x = values(random, 2 * 300);
            float[] out = new float[2 * 700];
            w.matmul(x, 2, out, false);
            assertClose(reference(w, x, 2, out, false), out, "default kernels");
        }
    }

    /** A weight of random values (of mixed magnitudes) in up to three parts. */
    static Weight randomWeight(Random random, WeightFormat format, int rows, int cols) {
        List<Weight> pieces = new ArrayList<>();
        for (int first = 0; first < rows; ) {
            int count = rows - first < 2 || random.nextInt(3) == 0 ? rows - first : 1 + random.nextInt(rows - first);
            float[] values = values(random, count * cols);
            pieces.add(Weight.convert((r, into) -> System.arraycopy(values, r * cols, into, 0, cols), count, cols,
                    format));
            first += count;
        }
        return Weight.stack(pieces.toArray(Weight[]::new));
    }

    /** Gaussian values scaled by 10^-6 .. 10^1, so that F16 sees subnormals too. */
    static float[] values(Random random, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (random.nextGaussian() * Math.pow(10, -6 + 7 * random.nextDouble()));
        }
        return v;
    }

    /** The product in float64 over the weights as {@link Weight#row} decodes them, and sum |x w| per output. */
    private static double[][] reference(Weight w, float[] x, int n, float[] start, boolean accumulate) {
        double[] sum = new double[n * w.rows()];
        double[] magnitude = new double[n * w.rows()];
        float[] row = new float[w.cols()];
        for (int r = 0; r < w.rows(); r++) {
            w.row(r, row, 0);
            for (int i = 0; i < n; i++) {
                int o = i * w.rows() + r;
                sum[o] = accumulate ? start[o] : 0;
                magnitude[o] = accumulate ? Math.abs(start[o]) : 0;
                for (int c = 0; c < w.cols(); c++) {
                    sum[o] += (double) x[i * w.cols() + c] * row[c];
                    magnitude[o] += Math.abs((double) x[i * w.cols() + c] * row[c]);
                }
            }
        }
        return new double[][] {sum, magnitude};
    }

    private static void assertClose(double[][] reference, float[] actual, String what) {
        for (int o = 0; o < reference[0].length; o++) {
            double tolerance = 1e-5 * reference[1][o] + 1e-30;
            assertEquals(reference[0][o], actual[o], tolerance, what + ", output " + o);
        }
    }

    private static float[] slice(float[] a, int from, int length) {
        float[] s = new float[length];
        System.arraycopy(a, from, s, 0, length);
        return s;
    }
}
