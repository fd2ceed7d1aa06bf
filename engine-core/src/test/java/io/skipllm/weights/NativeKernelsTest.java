package io.skipllm.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The native kernels against a float64 product over the decoded weights, on odd shapes (rows 1..40,
 * columns not a multiple of 16 or 32, 1..17 inputs) and every thread split; the quantized formats also
 * quantize their inputs to int8, so their bound adds what that rounding can move (half an input step
 * times the weights' magnitudes, per block).
 */
class NativeKernelsTest {

    private static final int[] COLS = {1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257, 1000};
    private static final int[] ROWS = {1, 2, 3, 4, 5, 7, 8, 17, 40};
    private static final ParallelRows ONE_THREAD = new ParallelRows(1, 0);
    private static final ParallelRows TWO_THREADS = new ParallelRows(2, 0);
    private static final ParallelRows FIVE_THREADS = new ParallelRows(5, 0);

    /** Where the CPU has AVX-512 VNNI (as this project's machines do), the library must load. */
    @Test
    void theLibraryLoadsOnACpuWithAvx512Vnni() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        assumeTrue(Files.exists(cpuinfo) && System.getProperty("os.arch").equals("amd64"));
        String flags = Files.readString(cpuinfo);
        assumeTrue(flags.contains(" avx512_vnni") && flags.contains(" avx512bw") && flags.contains(" avx512dq"));
        String[] why = new String[1];
        assertNotNull(NativeKernels.load(why), () -> "native kernels did not load: " + why[0]);
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void nativeKernelsMatchTheDecodedWeights(WeightFormat format) {
        Kernels kernels = nativeKernels();
        Random random = new Random(31 + format.ordinal());
        for (int trial = 0; trial < 200; trial++) {
            int rows = ROWS[random.nextInt(ROWS.length)];
            int cols = trial < COLS.length ? COLS[trial] : COLS[random.nextInt(COLS.length)] + random.nextInt(40);
            int n = 1 + random.nextInt(17);
            boolean accumulate = random.nextBoolean();
            String what = format + " " + n + "x" + cols + " times " + rows + "x" + cols + "^T, accumulate "
                    + accumulate;
            try (Weight w = MatMulTest.randomWeight(random, format, rows, cols)) {
                float[] x = MatMulTest.values(random, n * cols);
                float[] start = MatMulTest.values(random, n * rows);
                float[] single = start.clone();
                MatMul.multiply(kernels, ONE_THREAD, w, x, n, single, accumulate);
                assertWithinBound(w, x, n, start, accumulate, single, what);
                for (ParallelRows split : List.of(TWO_THREADS, FIVE_THREADS)) {
                    float[] out = start.clone();
                    MatMul.multiply(kernels, split, w, x, n, out, accumulate);
                    assertArrayEquals(single, out, what + " split over " + split.threads() + " threads");
                }
            }
        }
    }

    /** Several tiles of rows, an odd row count, 9 inputs: each input's outputs are those it gets alone. */
    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void anInputGetsTheSameOutputsInAnyBatch(WeightFormat format) {
        Kernels kernels = nativeKernels();
        Random random = new Random(41);
        int rows = 301;
        int cols = 1100;
        int n = 9;
        try (Weight w = MatMulTest.randomWeight(random, format, rows, cols)) {
            float[] x = MatMulTest.values(random, n * cols);
            float[] batch = new float[n * rows];
            MatMul.multiply(kernels, FIVE_THREADS, w, x, n, batch, false);
            assertWithinBound(w, x, n, new float[n * rows], false, batch, format + " in tiles");
            for (int i = 0; i < n; i++) {
                float[] one = new float[rows];
                float[] input = new float[cols];
                System.arraycopy(x, i * cols, input, 0, cols);
                MatMul.multiply(kernels, ONE_THREAD, w, input, 1, one, false);
                float[] inBatch = new float[rows];
                System.arraycopy(batch, i * rows, inBatch, 0, rows);
                assertArrayEquals(inBatch, one, "input " + i);
            }
        }
    }

    /** Native and Java kernels agree (within the inputs' int8 rounding for the quantized formats). */
    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void nativeAndJavaKernelsAgree(WeightFormat format) {
        Kernels kernels = nativeKernels();
        Kernels java = MatMul.javaKernels(false);
        Random random = new Random(51);
        int rows = 67;
        int cols = 4096 + 13;
        int n = 5;
        try (Weight w = MatMulTest.randomWeight(random, format, rows, cols)) {
            float[] x = MatMulTest.values(random, n * cols);
            float[] fromNative = new float[n * rows];
            float[] fromJava = new float[n * rows];
            MatMul.multiply(kernels, TWO_THREADS, w, x, n, fromNative, false);
            MatMul.multiply(java, TWO_THREADS, w, x, n, fromJava, false);
            double[][] bound = bound(w, x, n, new float[n * rows], false);
            for (int o = 0; o < fromJava.length; o++) {
                assertEquals(fromJava[o], fromNative[o], 2 * bound[1][o], format + " output " + o);
            }
        }
    }

    /** The native attention kernel against the Java loop, over direct buffers, head sizes not a multiple of 16. */
    @Test
    void nativeAttentionMatchesTheJavaLoop() {
        assumeTrue(NativeAttention.available(), "the native kernels are not in use");
        Random random = new Random(61);
        for (int headDim : new int[] {8, 16, 33, 64, 75, 128}) {
            for (int slots : new int[] {1, 2, 17, 300}) {
                for (boolean withBias : new boolean[] {false, true}) {
                    int offset = 3 * headDim;
                    java.nio.FloatBuffer keys = java.nio.ByteBuffer.allocateDirect(4 * (offset + slots * headDim))
                            .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
                    java.nio.FloatBuffer values = java.nio.ByteBuffer.allocateDirect(4 * (offset + slots * headDim))
                            .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
                    float[] keyBlock = MatMulTest.values(random, slots * headDim);
                    float[] valueBlock = new float[slots * headDim];
                    for (int i = 0; i < valueBlock.length; i++) {
                        valueBlock[i] = (float) random.nextGaussian();
                        keyBlock[i] = (float) random.nextGaussian();
                    }
                    keys.put(offset, keyBlock);
                    values.put(offset, valueBlock);
                    float[] query = new float[5 + headDim];
                    for (int d = 0; d < headDim; d++) {
                        query[5 + d] = (float) random.nextGaussian();
                    }
                    float[] bias = null;
                    if (withBias) {
                        bias = new float[slots];
                        for (int t = 0; t < slots; t++) {
                            bias[t] = -0.1f * t;
                        }
                    }
                    float scale = (float) (1 / Math.sqrt(headDim));
                    float[] expected = new float[headDim];
                    io.skipllm.model.host.HeadAttention.attend(query, 5, headDim, keyBlock, valueBlock, bias, 0,
                            new float[slots], expected, scale, slots);
                    float[] out = new float[7 + headDim];
                    NativeAttention.attend(keys, values, offset, slots, headDim, query, 5, bias, scale, new float[slots],
                            out, 7);
                    for (int d = 0; d < headDim; d++) {
                        assertEquals(expected[d], out[7 + d], 1e-5 * (1 + Math.abs(expected[d])),
                                headDim + " dims, " + slots + " slots, bias " + withBias + ", element " + d);
                    }
                }
            }
        }
    }

    private static Kernels nativeKernels() {
        Kernels kernels = MatMul.nativeKernelsOrNull();
        assumeTrue(kernels != null, "no native kernels on this machine");
        return kernels;
    }

    private static void assertWithinBound(Weight w, float[] x, int n, float[] start, boolean accumulate,
            float[] actual, String what) {
        double[][] bound = bound(w, x, n, start, accumulate);
        for (int o = 0; o < actual.length; o++) {
            assertEquals(bound[0][o], actual[o], bound[1][o], what + ", output " + o);
        }
    }

    /**
     * The float64 product over the decoded weights and, per output, its tolerance: 1e-5 of the sum of
     * |x w| (float32 sums), plus for quantized weights the int8 rounding of the inputs: half a step
     * ({@code max|x| / 127 / 2} over the block) times the block's |w|, summed over blocks.
     */
    private static double[][] bound(Weight w, float[] x, int n, float[] start, boolean accumulate) {
        int rows = w.rows();
        int cols = w.cols();
        double[] sum = new double[n * rows];
        double[] tolerance = new double[n * rows];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            w.row(r, row, 0);
            for (int i = 0; i < n; i++) {
                int o = i * rows + r;
                double s = accumulate ? start[o] : 0;
                double magnitude = accumulate ? Math.abs(start[o]) : 0;
                double rounding = 0;
                for (int b = 0; b < cols; b += 32) {
                    double amax = 0;
                    double weights = 0;
                    for (int c = b; c < Math.min(cols, b + 32); c++) {
                        amax = Math.max(amax, Math.abs(x[i * cols + c]));
                        weights += Math.abs(row[c]);
                    }
                    rounding += amax / 127 / 2 * weights;
                }
                for (int c = 0; c < cols; c++) {
                    s += (double) x[i * cols + c] * row[c];
                    magnitude += Math.abs((double) x[i * cols + c] * row[c]);
                }
                sum[o] = s;
                tolerance[o] = 1e-5 * magnitude + (w.format().quantized() ? rounding * 1.001 : 0) + 1e-30;
            }
        }
        return new double[][] {sum, tolerance};
    }
}
