package io.skipllm.weights;

/**
 * One implementation of the arithmetic behind {@link MatMul}: the Vector API kernels, or the scalar Java
 * fallback for a JVM started without {@code jdk.incubator.vector}.
 */
interface Kernels {

    /**
     * The product {@code out[n, rows] (+)= x[n, cols] W^T} as a task over output rows. Whatever depends
     * only on {@code x} (a rearranged copy, say) is prepared here, once, on the calling thread.
     */
    RowTask task(Weight w, float[] x, int n, float[] out, boolean accumulate);

    /** What runs, for people: "Vector API, 512-bit". */
    String description();
}
