package io.skipllm.weights;

/**
 * The Vector API kernels. Only {@link MatMul} refers to this class, and only after checking that the
 * JVM has {@code jdk.incubator.vector}: loading it (or any {@code Vector*Rows}) without the module
 * fails.
 */
final class VectorKernels implements Kernels {

    @Override
    public RowTask task(Weight w, float[] x, int n, float[] out, boolean accumulate) {
        return switch (w.format()) {
            case F32 -> new VectorF32Rows(w, x, n, out, accumulate);
            case BF16 -> new VectorBf16Rows(w, x, n, out, accumulate);
            case F16 -> new VectorF16Rows(w, x, n, out, accumulate);
            case Q8_0 -> new VectorQ8Rows(w, x, n, out, accumulate);
            case Q4_0 -> new VectorQ4Rows(w, x, n, out, accumulate);
        };
    }

    @Override
    public String description() {
        return "Vector API, " + VectorRows.FLOATS.vectorBitSize() + "-bit";
    }
}
