package io.skipllm.model.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * BLOOM's ALiBi attention bias: head h adds {@code slope_h * keyPosition} to its scores.
 *
 * <p>Hugging Face adds the slope times the key's position among real tokens. For a given row and
 * query that differs from {@code slope * slot} (the key's index in the padded cache) by a constant
 * (the row's left padding), and softmax ignores constants, so the bias here depends on the slot only
 * and is the same for every row of a batch. Padding and unfilled slots are masked separately.
 */
public final class Alibi {

    private Alibi() {
    }

    /**
     * The slopes of Press et al., as BLOOM computes them, including head counts that are not a power of
     * two: the slopes of the closest smaller power of two, then every other slope of the next one.
     */
    public static double[] slopes(int numHeads) {
        int closestPowerOfTwo = Integer.highestOneBit(numHeads);
        double base = Math.pow(2, -Math.pow(2, -(log2(closestPowerOfTwo) - 3)));
        double[] slopes = new double[numHeads];
        for (int i = 0; i < closestPowerOfTwo; i++) {
            slopes[i] = Math.pow(base, i + 1);
        }
        if (closestPowerOfTwo != numHeads) {
            double extraBase = Math.pow(2, -Math.pow(2, -(log2(2 * closestPowerOfTwo) - 3)));
            int remaining = Math.min(closestPowerOfTwo, numHeads - closestPowerOfTwo);
            for (int i = 0; i < remaining; i++) {
                slopes[closestPowerOfTwo + i] = Math.pow(extraBase, 2 * i + 1);
            }
        }
        return slopes;
    }

    /** The bias {@code [1, heads, 1, 1, keyLength]}, broadcastable over the attention scores. */
    public static INDArray bias(double[] slopes, int keyLength) {
        float[] values = new float[slopes.length * keyLength];
        for (int h = 0; h < slopes.length; h++) {
            for (int t = 0; t < keyLength; t++) {
                values[h * keyLength + t] = (float) (slopes[h] * t);
            }
        }
        return Nd4j.create(values, new long[] {1, slopes.length, 1, 1, keyLength}, 'c');
    }

    private static double log2(int x) {
        return Math.log(x) / Math.log(2);
    }
}
