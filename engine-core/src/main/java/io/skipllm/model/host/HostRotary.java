package io.skipllm.model.host;

/**
 * Rotary position embedding of the host forward pass, as Hugging Face's LLaMA applies it ("rotate half":
 * the two halves of each head): {@code x' = x cos + rotate_half(x) sin}, angle
 * {@code pos / theta^(2i / headDim)} in double precision, the same angles as the nd4j pass's
 * {@code RotaryEmbedding} (which builds them into ND4J tables instead).
 */
public final class HostRotary {

    private final int headDim;
    private final double[] inverseFrequencies;

    public HostRotary(int headDim, double theta) {
        this.headDim = headDim;
        this.inverseFrequencies = new double[headDim / 2];
        for (int i = 0; i < headDim / 2; i++) {
            inverseFrequencies[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        }
    }

    /**
     * cos and sin of each frequency's angle at {@code position} into {@code cos/sin[at, at + headDim/2)}:
     * the host forward pass builds one such row per token.
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
}
