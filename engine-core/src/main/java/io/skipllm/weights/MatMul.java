package io.skipllm.weights;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code x W^T} for every {@link WeightFormat}, on the CPU. The kernels are the Vector API ones when the
 * JVM has {@code jdk.incubator.vector} (an incubator module in JDK 17, added with
 * {@code --add-modules jdk.incubator.vector}), else scalar Java, several times slower; the output rows
 * are split over threads ({@code -Dskipllm.threads}, default one per core).
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

    private static Kernels chooseKernels() {
        // VectorKernels is only named here, behind the check: loading it without the module fails.
        if (vectorApiPresent()) {
            return new VectorKernels();
        }
        LOG.warn("the Vector API is missing: weights are multiplied by slower scalar code; run java with "
                + "--add-modules jdk.incubator.vector");
        return new ScalarKernels();
    }

    /** The threads every product shares, started on first use. */
    private static final class SharedThreads {
        static final ParallelRows ROWS = new ParallelRows(
                Integer.getInteger("skipllm.threads", Runtime.getRuntime().availableProcessors()),
                MIN_PARALLEL_WORK);
    }
}
