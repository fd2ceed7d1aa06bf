package io.skipllm.model.layers;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Row-wise normalisations over the hidden dimension of a {@code [rows, hidden]} matrix. ND4J 1.0.0-M2.1
 * has no RMSNorm op and its {@code layer_norm} takes no epsilon, so on the CPU backend both are Java
 * loops over host memory ({@link HostArrays}: one pass for the statistics, one for the output), and
 * elsewhere composed from primitive ops (5 and 7 op calls). Statistics are accumulated in double.
 * Results are new arrays (in the active workspace during a forward pass).
 */
public final class Norms {

    private Norms() {
    }

    /** LLaMA's RMSNorm: {@code x / sqrt(mean(x^2) + eps) * weight}. */
    public static INDArray rms(INDArray x, INDArray weight, double eps) {
        INDArray y = hostOutput(x, weight);
        if (y != null) {
            rmsOnHost(HostArrays.floats(x), HostArrays.floats(weight), HostArrays.floats(y), (int) x.rows(),
                    (int) x.columns(), eps);
            return y;
        }
        INDArray meanSquare = x.mul(x).mean(true, 1);          // [rows, 1]
        INDArray inverse = Transforms.pow(meanSquare.addi(eps), -0.5, false);
        return x.mulColumnVector(inverse).muliRowVector(weight);
    }

    /** BLOOM's LayerNorm with bias: {@code (x - mean) / sqrt(var + eps) * weight + bias}. */
    public static INDArray layer(INDArray x, INDArray weight, INDArray bias, double eps) {
        INDArray y = hostOutput(x, weight);
        FloatBuffer b = y == null ? null : HostArrays.floats(bias);
        if (b != null && b.capacity() == x.columns()) {
            layerOnHost(HostArrays.floats(x), HostArrays.floats(weight), b, HostArrays.floats(y), (int) x.rows(),
                    (int) x.columns(), eps);
            return y;
        }
        INDArray centred = x.subColumnVector(x.mean(true, 1));
        INDArray variance = centred.mul(centred).mean(true, 1);
        INDArray inverse = Transforms.pow(variance.addi(eps), -0.5, false);
        return centred.muliColumnVector(inverse).muliRowVector(weight).addiRowVector(bias);
    }

    /** The output array when both operands can be read on the host with matching shapes, else null. */
    private static INDArray hostOutput(INDArray x, INDArray weight) {
        if (x.rank() != 2 || HostArrays.floats(x) == null || HostArrays.floats(weight) == null
                || weight.length() != x.columns()) {
            return null;
        }
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, x.rows(), x.columns());
        return HostArrays.floats(y) == null ? null : y;
    }

    static void rmsOnHost(FloatBuffer x, FloatBuffer weight, FloatBuffer out, int rows, int hidden, double eps) {
        for (int r = 0; r < rows; r++) {
            int base = r * hidden;
            double sumSquares = 0;
            for (int i = 0; i < hidden; i++) {
                double v = x.get(base + i);
                sumSquares += v * v;
            }
            float inverse = (float) (1.0 / Math.sqrt(sumSquares / hidden + eps));
            for (int i = 0; i < hidden; i++) {
                out.put(base + i, x.get(base + i) * inverse * weight.get(i));
            }
        }
    }

    static void layerOnHost(FloatBuffer x, FloatBuffer weight, FloatBuffer bias, FloatBuffer out, int rows, int hidden,
            double eps) {
        for (int r = 0; r < rows; r++) {
            int base = r * hidden;
            double sum = 0;
            for (int i = 0; i < hidden; i++) {
                sum += x.get(base + i);
            }
            float mean = (float) (sum / hidden);
            double sumSquares = 0;
            for (int i = 0; i < hidden; i++) {
                double centred = x.get(base + i) - mean;
                sumSquares += centred * centred;
            }
            float inverse = (float) (1.0 / Math.sqrt(sumSquares / hidden + eps));
            for (int i = 0; i < hidden; i++) {
                out.put(base + i, (x.get(base + i) - mean) * inverse * weight.get(i) + bias.get(i));
            }
        }
    }
}
