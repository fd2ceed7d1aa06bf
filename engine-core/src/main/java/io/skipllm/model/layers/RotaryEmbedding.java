package io.skipllm.model.layers;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Rotary position embedding as Hugging Face's LLaMA applies it ("rotate half": the two halves of each
 * head, not interleaved pairs): {@code x' = x cos + rotate_half(x) sin} with
 * {@code rotate_half(x) = [-x2, x1]} and angle {@code pos / theta^(2i / headDim)}.
 *
 * <p>ND4J has no RoPE op. Per forward pass the cos/sin rows for the positions are built once (in Java,
 * in double precision) and shared by every layer; applying them is one Java loop over host memory on
 * the CPU backend ({@link HostArrays}) and 5 op calls elsewhere, for the queries and keys together.
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

    /**
     * cos and sin of each frequency's angle at {@code position} into {@code cos/sin[at, at + headDim/2)}:
     * the host forward pass builds one such row per token (same double-precision angles as {@link #tables}).
     */
    public void angles(int position, float[] cos, float[] sin, int at) {
        for (int i = 0; i < headDim / 2; i++) {
            double angle = position * inverseFrequencies[i];
            cos[at + i] = (float) Math.cos(angle);
            sin[at + i] = (float) Math.sin(angle);
        }
    }

    /**
     * Rotates {@code heads} consecutive heads of {@code x} starting at {@code at} in place ("rotate
     * half"), with one token's {@link #angles} at {@code cos/sin[angleAt ..]}.
     */
    public void rotate(float[] x, int at, int heads, float[] cos, float[] sin, int angleAt) {
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int base = at + h * headDim;
            for (int i = 0; i < half; i++) {
                float first = x[base + i];
                float second = x[base + half + i];
                float c = cos[angleAt + i];
                float s = sin[angleAt + i];
                x[base + i] = first * c - second * s;
                x[base + half + i] = second * c + first * s;
            }
        }
    }

    /** cos and signed-sin tables for one forward pass. */
    public record Tables(INDArray cos, INDArray signedSin) {
    }

    /**
     * Rotates {@code x [tokens, heads, headDim]} in place (a contiguous array holding the query and
     * key heads of each token side by side).
     */
    public void applyInPlace(INDArray x, Tables tables) {
        applyInPlace(x, tables, x.rank() == 3 ? (int) x.size(1) : 0);
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
        FloatBuffer values = HostArrays.floats(x);
        FloatBuffer cos = HostArrays.floats(tables.cos());
        FloatBuffer sin = HostArrays.floats(tables.signedSin());
        if (values != null && cos != null && sin != null && tables.cos().size(0) == x.size(0)
                && tables.signedSin().size(0) == x.size(0)) {
            rotateOnHost(values, cos, sin, (int) x.size(0), (int) x.size(1), rotatedHeads);
            return;
        }
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

    /**
     * Heads {@code 0..rotatedHeads-1} of {@code x [tokens, heads, headDim]} rotated in place with the
     * tables' rows {@code [tokens, 1, headDim]}.
     */
    private void rotateOnHost(FloatBuffer x, FloatBuffer cos, FloatBuffer signedSin, int tokens, int heads,
            int rotatedHeads) {
        int half = headDim / 2;
        float[] c = new float[headDim];
        float[] s = new float[headDim];
        float[] head = new float[headDim];
        for (int t = 0; t < tokens; t++) {
            cos.get(t * headDim, c, 0, headDim);
            signedSin.get(t * headDim, s, 0, headDim);
            for (int h = 0; h < rotatedHeads; h++) {
                int base = (t * heads + h) * headDim;
                x.get(base, head, 0, headDim);
                for (int i = 0; i < half; i++) {
                    float first = head[i];
                    float second = head[half + i];
                    // x cos + rotate_half(x) sin, with rotate_half(x) = [-x2, x1] and the sign in the table
                    head[i] = first * c[i] + second * s[i];
                    head[half + i] = second * c[half + i] + first * s[half + i];
                }
                x.put(base, head, 0, headDim);
            }
        }
    }
}
