package io.skipllm.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * This machine's memory read bandwidth as ND4J sees it: the best of a few full passes (a sum) over an
 * array much larger than any CPU cache, on all of ND4J's threads. Decoding one token reads every
 * retained weight once, so this is the ceiling for the weight-read rate {@code bench} reports.
 */
public final class MemoryBandwidth {

    private MemoryBandwidth() {
    }

    /** Bytes per second read by the fastest of {@code passes} sums over {@code bytes} of floats. */
    public static double measure(long bytes, int passes) {
        INDArray data = Nd4j.rand(DataType.FLOAT, bytes / Float.BYTES);
        try {
            data.sumNumber();  // fault the pages in and warm the op
            double best = 0;
            for (int i = 0; i < passes; i++) {
                long start = System.nanoTime();
                data.sumNumber();
                best = Math.max(best, bytes / ((System.nanoTime() - start) / 1e9));
            }
            return best;
        } finally {
            data.close();
        }
    }
}
