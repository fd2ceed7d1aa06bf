package io.skipllm.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * This machine's memory read bandwidth as ND4J sees it, over an array much larger than any CPU cache.
 * Decoding one token reads every retained weight once, so this is the ceiling for the weight-read rate
 * {@code bench} reports.
 *
 * <p>Two probes, the best pass of each: a plain sum over the array, and a matrix-vector product that
 * reads it as a {@code [rows, 1024]} matrix (the access pattern of a decode step's matmuls). The sum is
 * the obvious probe but under-reads badly here: ND4J's reduction runs at a third of what its BLAS
 * matrix-vector kernel pulls from the same memory, so the bandwidth is the faster of the two.
 */
public final class MemoryBandwidth {

    /** Read rates in bytes per second. */
    public record Result(double sumBytesPerS, double matrixVectorBytesPerS) {

        /** The memory read bandwidth: the faster probe. */
        public double bytesPerS() {
            return Math.max(sumBytesPerS, matrixVectorBytesPerS);
        }
    }

    private static final int COLUMNS = 1024;

    private MemoryBandwidth() {
    }

    /** The fastest of {@code passes} passes of each probe over {@code bytes} of floats. */
    public static Result measure(long bytes, int passes) {
        long rows = Math.max(1, bytes / Float.BYTES / COLUMNS);
        long actualBytes = rows * COLUMNS * Float.BYTES;
        INDArray matrix = Nd4j.rand(DataType.FLOAT, rows, COLUMNS);
        INDArray vector = Nd4j.rand(DataType.FLOAT, 1, COLUMNS);
        INDArray out = Nd4j.create(DataType.FLOAT, 1, rows);
        try {
            matrix.sumNumber();  // fault the pages in and warm both ops
            Nd4j.gemm(vector, matrix, out, false, true, 1.0, 0.0);
            double sum = 0;
            double matrixVector = 0;
            for (int i = 0; i < passes; i++) {
                long start = System.nanoTime();
                matrix.sumNumber();
                sum = Math.max(sum, actualBytes / ((System.nanoTime() - start) / 1e9));
                start = System.nanoTime();
                Nd4j.gemm(vector, matrix, out, false, true, 1.0, 0.0);
                matrixVector = Math.max(matrixVector, actualBytes / ((System.nanoTime() - start) / 1e9));
            }
            return new Result(sum, matrixVector);
        } finally {
            matrix.close();
            vector.close();
            out.close();
        }
    }
}
