package io.skipllm.model.nd4j;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Rotary position embedding as Hugging Face's LLaMA applies it ("rotate half": the two halves of each
 * head, not interleaved pairs): {@code x' = x cos + rotate_half(x) sin} with
 * {@code rotate_half(x) = [-x2, x1]} and angle {@code pos / theta^(2i / headDim)}.
 *
 * <p>The nd4j forward pass's rotation: 5 op calls for the queries and keys together (ND4J has no RoPE
 * op), with the cos/sin rows built once per forward call (in Java, in double precision) and shared by
 * every layer. The host pass has its own, {@code HostRotary}, with the same angles.
 */
public final class RotaryEmbedding {

    private final int headDim;
    private final double[] inverseFrequencies;

    public RotaryEmbedding(int headDim, double theta) {
        this.headDim = headDim;
        this.inverseFrequencies = new double[headDim / 2];
        for (int i = 0; i < headDim / 2; i++) {
            inverseFrequencies[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        }
    }

    /** cos and signed sin tables for the given positions, each {@code [positions, 1, headDim]}. */
    public Tables tables(int[] positions) {
        int half = headDim / 2;
        float[] cos = new float[positions.length * headDim];
        float[] sin = new float[positions.length * headDim];
        for (int p = 0; p < positions.length; p++) {
            for (int i = 0; i < half; i++) {
                double angle = positions[p] * inverseFrequencies[i];
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                int base = p * headDim;
                cos[base + i] = c;
                cos[base + half + i] = c;
                // rotate_half puts -x2 in the first half and x1 in the second, so the sine is signed here
                sin[base + i] = -s;
                sin[base + half + i] = s;
            }
        }
        long[] shape = {positions.length, 1, headDim};
        return new Tables(Nd4j.create(cos, shape, 'c'), Nd4j.create(sin, shape, 'c'));
    }

    /** cos and signed-sin tables for one forward pass. */
    public record Tables(INDArray cos, INDArray signedSin) {
    }

    /**
     * Rotates the first {@code rotatedHeads} heads of each token of {@code x [tokens, heads, headDim]}
     * in place and leaves the rest alone: with a fused q/k/v projection, the query and key heads come
     * first and the value heads, which carry no position, after them.
     */
    public void applyInPlace(INDArray x, Tables tables, int rotatedHeads) {
        if (x.rank() != 3 || x.size(2) != headDim || rotatedHeads < 0 || rotatedHeads > x.size(1)) {
            throw new IllegalArgumentException("rotary: expected [tokens, heads, " + headDim + "] with at most "
                    + "all heads rotated, got " + java.util.Arrays.toString(x.shape()) + ", " + rotatedHeads + " heads");
        }
        int half = headDim / 2;
        INDArray heads = rotatedHeads == x.size(1) ? x
                : x.get(NDArrayIndex.all(), NDArrayIndex.interval(0, rotatedHeads), NDArrayIndex.all());
        INDArray swapped = Nd4j.createUninitialized(DataType.FLOAT, heads.shape());
        swapped.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, half))
                .assign(heads.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(half, headDim)));
        swapped.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(half, headDim))
                .assign(heads.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, half)));
        swapped.muli(tables.signedSin());
        heads.muli(tables.cos()).addi(swapped);
    }
}
