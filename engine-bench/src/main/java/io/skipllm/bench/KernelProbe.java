package io.skipllm.bench;

import io.skipllm.weights.MatMul;
import io.skipllm.weights.Weight;
import io.skipllm.weights.WeightFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.LongConsumer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A quick probe of the CPU weight kernels ({@link Weight#matmul}) at the matrix shapes of one layer of a
 * hidden-1024 LLaMA (q/k/v 3072x1024, o 1024x1024, gate/up 5632x1024, down 1024x2816), for a decode
 * step (n = 1), a batch (8) and a prompt chunk (128): per product, the time, the rate weights are read
 * at and the arithmetic rate. Each shape is held in enough copies to exceed the caches, as a model's
 * layers would, and the products cycle over them. F32 is compared with ND4J's gemm.
 *
 * <p>Not a unit test and not JMH: a few seconds of numbers, run with
 * {@code java --add-modules jdk.incubator.vector [-Dskipllm.threads=1] -cp ... io.skipllm.bench.KernelProbe}.
 * To probe less: {@code -Dprobe.formats=q8_0,f32}, {@code -Dprobe.batches=1,8}, {@code -Dprobe.nd4j=false}.
 */
public final class KernelProbe {

    private static final int[][] SHAPES = {{3072, 1024}, {1024, 1024}, {5632, 1024}, {1024, 2816}};
    private static final String[] SHAPE_NAMES = {"qkv", "o", "gate_up", "down"};
    private static final int[] BATCHES = Arrays.stream(System.getProperty("probe.batches", "1,8,128").split(","))
            .mapToInt(b -> Integer.parseInt(b.trim())).toArray();
    private static final List<String> FORMATS = Arrays.asList(
            System.getProperty("probe.formats", "f32,bf16,f16,q8_0").toLowerCase(java.util.Locale.ROOT).split(","));
    /** Weights per shape and format, in copies, so that products read memory rather than the L3 cache. */
    private static final long WORKING_SET_BYTES = 256L << 20;
    private static final long MEASURE_NANOS = 400_000_000L;
    /** Warm-up per measurement: the Vector API is very slow until the JIT has compiled the kernels. */
    private static final long WARM_UP_NANOS = 1_000_000_000L;

    private KernelProbe() {
    }

    public static void main(String[] args) {
        System.out.println("kernels: " + MatMul.kernelName());
        System.out.printf("%-6s %-8s %4s %10s %8s %9s%n", "format", "shape", "n", "us/product", "GB/s", "GFLOP/s");
        Random random = new Random(1);
        for (WeightFormat format : WeightFormat.values()) {
            if (!FORMATS.contains(format.label())) {
                continue;
            }
            for (int s = 0; s < SHAPES.length; s++) {
                List<Weight> copies = copies(random, format, SHAPES[s][0], SHAPES[s][1]);
                for (int n : BATCHES) {
                    report(format.label(), SHAPE_NAMES[s], n, copies.get(0).bytes(), SHAPES[s], time(copies, n));
                }
                copies.forEach(Weight::close);
            }
        }
        for (int s = 0; s < SHAPES.length && Boolean.parseBoolean(System.getProperty("probe.nd4j", "true")); s++) {
            for (int n : BATCHES) {
                report("nd4j", SHAPE_NAMES[s], n, 4L * SHAPES[s][0] * SHAPES[s][1], SHAPES[s],
                        timeNd4j(SHAPES[s][0], SHAPES[s][1], n));
            }
        }
    }

    private static List<Weight> copies(Random random, WeightFormat format, int rows, int cols) {
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian() * 0.02f;
        }
        long count = Math.max(1, WORKING_SET_BYTES / format.bytesFor(rows, cols));
        List<Weight> copies = new ArrayList<>();
        for (int c = 0; c < count; c++) {
            copies.add(Weight.convert((r, into) -> System.arraycopy(values, r * cols, into, 0, cols), rows, cols,
                    format));
        }
        return copies;
    }

    /** Nanoseconds per product, after a warm-up. */
    private static double time(List<Weight> copies, int n) {
        Weight first = copies.get(0);
        float[] x = new float[n * first.cols()];
        float[] out = new float[n * first.rows()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i);
        }
        return nanosPerRun(k -> copies.get((int) (k % copies.size())).matmul(x, n, out, false));
    }

    private static double timeNd4j(int rows, int cols, int n) {
        long count = Math.max(1, WORKING_SET_BYTES / (4L * rows * cols));
        List<INDArray> copies = new ArrayList<>();
        for (int c = 0; c < count; c++) {
            copies.add(Nd4j.rand(DataType.FLOAT, rows, cols));
        }
        INDArray x = Nd4j.rand(DataType.FLOAT, n, cols);
        INDArray out = Nd4j.create(DataType.FLOAT, n, rows);
        double nanos = nanosPerRun(k -> Nd4j.gemm(x, copies.get((int) (k % count)), out, false, true, 1.0, 0.0));
        copies.forEach(INDArray::close);
        return nanos;
    }

    /** Runs {@code product} (given a run counter) for the warm-up, then for the measurement: nanoseconds per run. */
    private static double nanosPerRun(LongConsumer product) {
        long runs = 0;
        for (long start = System.nanoTime(); System.nanoTime() - start < WARM_UP_NANOS; runs++) {
            product.accept(runs);
        }
        long start = System.nanoTime();
        long measured = 0;
        for (; System.nanoTime() - start < MEASURE_NANOS; measured++) {
            product.accept(runs + measured);
        }
        return (double) (System.nanoTime() - start) / measured;
    }

    private static void report(String format, String shape, int n, long weightBytes, int[] dims, double nanos) {
        double flops = 2.0 * n * dims[0] * dims[1];
        System.out.printf("%-6s %-8s %4d %10.1f %8.2f %9.2f%n", format, shape, n, nanos / 1e3, weightBytes / nanos,
                flops / nanos);
    }
}
