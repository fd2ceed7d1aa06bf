package io.skipllm.model.host;

/**
 * The small element-wise steps of the host forward pass, over Java arrays of {@code rows} rows:
 * normalisations (statistics in double, as {@link Norms}' host loops), activations and bias adds.
 */
public final class HostMath {

    /** sqrt(2 / pi), as Hugging Face's BLOOM writes it. */
    private static final double SQRT_2_OVER_PI = 0.79788456;

    private HostMath() {
    }

    /** LLaMA's RMSNorm of each row of {@code x} into {@code out}: {@code x / sqrt(mean(x^2) + eps) * weight}. */
    public static void rmsNorm(float[] x, float[] out, float[] weight, int rows, int width, double eps) {
        for (int r = 0; r < rows; r++) {
            int base = r * width;
            double sumSquares = 0;
            for (int i = 0; i < width; i++) {
                double v = x[base + i];
                sumSquares += v * v;
            }
            float inverse = (float) (1.0 / Math.sqrt(sumSquares / width + eps));
            for (int i = 0; i < width; i++) {
                out[base + i] = x[base + i] * inverse * weight[i];
            }
        }
    }

    /** LayerNorm with bias of each row (BLOOM): {@code (x - mean) / sqrt(var + eps) * weight + bias}. */
    public static void layerNorm(float[] x, float[] out, float[] weight, float[] bias, int rows, int width,
            double eps) {
        for (int r = 0; r < rows; r++) {
            int base = r * width;
            double sum = 0;
            for (int i = 0; i < width; i++) {
                sum += x[base + i];
            }
            float mean = (float) (sum / width);
            double sumSquares = 0;
            for (int i = 0; i < width; i++) {
                double centred = x[base + i] - mean;
                sumSquares += centred * centred;
            }
            float inverse = (float) (1.0 / Math.sqrt(sumSquares / width + eps));
            for (int i = 0; i < width; i++) {
                out[base + i] = (x[base + i] - mean) * inverse * weight[i] + bias[i];
            }
        }
    }

    /** {@code x[r] += bias} for each row. */
    public static void addRowVector(float[] x, float[] bias, int rows, int width) {
        for (int r = 0; r < rows; r++) {
            int base = r * width;
            for (int i = 0; i < width; i++) {
                x[base + i] += bias[i];
            }
        }
    }

    /**
     * LLaMA's MLP activation: each row of {@code gateUp [rows, 2 * intermediate]} holds the gate, then
     * the up projection; {@code out [rows, intermediate] = silu(gate) * up}.
     */
    public static void siluGateTimesUp(float[] gateUp, float[] out, int rows, int intermediate) {
        for (int r = 0; r < rows; r++) {
            int gateAt = r * 2 * intermediate;
            int outAt = r * intermediate;
            for (int i = 0; i < intermediate; i++) {
                float gate = gateUp[gateAt + i];
                float sigmoid = (float) (1.0 / (1.0 + Math.exp(-gate)));
                out[outAt + i] = gate * sigmoid * gateUp[gateAt + intermediate + i];
            }
        }
    }

    /** BLOOM's GELU, tanh approximation, in place: {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}. */
    public static void geluTanh(float[] x, int count) {
        for (int i = 0; i < count; i++) {
            double v = x[i];
            x[i] = (float) (0.5 * v * (1.0 + Math.tanh(SQRT_2_OVER_PI * v * (1.0 + 0.044715 * v * v))));
        }
    }
}
