package io.skipllm.weights;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code x W^T} for every {@link WeightFormat}, on the CPU. The kernels are the native ones
 * ({@link NativeKernels}: AVX-512, VNNI int8 dot products for the quantized formats) where they load,
 * else the Vector API ones when the JVM has {@code jdk.incubator.vector} (an incubator module, added
 * with {@code --add-modules jdk.incubator.vector}), else scalar Java, several times slower; the output
 * rows are split over threads ({@code -Dskipllm.threads}, default one per core).
 */
public final class MatMul {

    private static final Logger LOG = LoggerFactory.getLogger(MatMul.class);

    /**
     * Products below this many multiply-adds run on the calling thread: handing off to the workers
     * costs a few microseconds, as much as a product this small takes alone.
     */
    static final long MIN_PARALLEL_WORK = 1 << 17;

    private static final Kernels KERNELS = chooseKernels();

    private MatMul() {
    }

    /** The CPU kernels and thread count in use, for people: "Vector API, 512-bit, 8 threads". */
    public static String kernelName() {
        int threads = SharedThreads.ROWS.threads();
        return KERNELS.description() + ", " + threads + (threads == 1 ? " thread" : " threads");
    }

    static void multiply(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        multiply(KERNELS, SharedThreads.ROWS, w, x, n, out, accumulate);
    }

    /** {@link #multiply(Weight, float[], int, float[], boolean)} with given kernels and threads. */
    static void multiply(Kernels kernels, ParallelRows threads, Weight w, float[] x, int n, float[] out,
            boolean accumulate) {
        if (n == 0) {
            return;
        }
        threads.run(kernels.task(w, x, n, out, accumulate), w.rows(), (long) n * w.rows() * w.cols());
    }

    static boolean vectorApiPresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /**
     * The native kernels where they load, else the Vector API ones, else scalar Java; chosen once.
     * {@code -Dskipllm.kernels=native|vector|scalar} asks for one (a missing one is an error, not a silent
     * fallback), for measurements and tests.
     */
    private static Kernels chooseKernels() {
        String asked = System.getProperty("skipllm.kernels", "auto").trim().toLowerCase(java.util.Locale.ROOT);
        switch (asked) {
            case "auto", "native" -> {
                String[] why = new String[1];
                Kernels kernels = NativeKernels.load(why);
                if (kernels != null) {
                    return kernels;
                }
                if (asked.equals("native")) {
                    throw new IllegalStateException("-Dskipllm.kernels=native: " + why[0]);
                }
                LOG.info("{}: using the Java kernels", why[0]);
                return javaKernels(false);
            }
            case "vector" -> {
                return javaKernels(true);
            }
            case "scalar" -> {
                return new ScalarKernels();
            }
            default -> throw new IllegalStateException("-Dskipllm.kernels=" + asked + ": expected native, vector or scalar");
        }
    }

    /** The Vector API kernels when the JVM has the module (required when {@code vectorRequired}), else scalar. */
    static Kernels javaKernels(boolean vectorRequired) {
        // VectorKernels is only named here, behind the check: loading it without the module fails.
        if (vectorApiPresent()) {
            return new VectorKernels();
        }
        if (vectorRequired) {
            throw new IllegalStateException("-Dskipllm.kernels=vector: run java with --add-modules jdk.incubator.vector");
        }
        LOG.warn("the Vector API is missing: weights are multiplied by slower scalar code; run java with "
                + "--add-modules jdk.incubator.vector");
        return new ScalarKernels();
    }

    /** The native kernels when they load here, else null (for tests that compare them with the Java ones). */
    static Kernels nativeKernelsOrNull() {
        return NativeKernels.load(new String[1]);
    }

    /** The threads every product shares, started on first use. */
    private static final class SharedThreads {
        static final ParallelRows ROWS = new ParallelRows(
                Integer.getInteger("skipllm.threads", Runtime.getRuntime().availableProcessors()),
                MIN_PARALLEL_WORK);
    }
}
