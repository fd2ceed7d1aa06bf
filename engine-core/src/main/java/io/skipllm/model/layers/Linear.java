package io.skipllm.model.layers;

import io.skipllm.weights.Weight;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Matrix products against weights stored in Hugging Face's {@code [out, in]} layout: {@code y = x W^T}.
 *
 * <p>A host {@link Weight} (any format, on the CPU backend) is multiplied by the weights package's own
 * kernels, which read each weight once for all rows of {@code x}; the activations are copied between
 * ND4J's memory and Java arrays around the call (a few thousand floats at decode, far less than the
 * weights read). A weight held as an ND4J array (the CUDA backend) goes to ND4J's gemm, where the
 * transpose is a BLAS flag, never a copy.
 */
public final class Linear {

    /** Per-thread input and output arrays of the host path, grown on demand and reused. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {new float[0],
        new float[0]});

    private Linear() {
    }

    /** {@code x [rows, in] -> [rows, out]} (a new array), plus {@code bias} when it is not null. */
    public static INDArray apply(INDArray x, Weight weight, INDArray bias) {
        if (!weight.onHost()) {
            INDArray y = Nd4j.createUninitialized(x.dataType(), x.rows(), weight.rows());
            Nd4j.gemm(x, weight.array(), y, false, true, 1.0, 0.0);
            return bias == null ? y : y.addiRowVector(bias);
        }
        int n = rows(x, weight);
        float[] out = multiplyOnHost(x, weight, n);
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, n, weight.rows());
        FloatBuffer target = HostArrays.view(y);
        int width = weight.rows();
        if (bias == null) {
            target.put(0, out, 0, n * width);
        } else {
            FloatBuffer b = HostArrays.view(bias);
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < width; o++) {
                    target.put(i * width + o, out[i * width + o] + b.get(o));
                }
            }
        }
        return y;
    }

    /**
     * {@code residual += x W^T (+ bias)}: the residual connection folded into the matmul (BLAS beta = 1
     * on the ND4J path, one pass over the output on the host path), which saves an op call and a
     * temporary per sub-layer.
     */
    public static void accumulate(INDArray residual, INDArray x, Weight weight, INDArray bias) {
        if (!weight.onHost()) {
            Nd4j.gemm(x, weight.array(), residual, false, true, 1.0, 1.0);
            if (bias != null) {
                residual.addiRowVector(bias);
            }
            return;
        }
        int n = rows(x, weight);
        float[] out = multiplyOnHost(x, weight, n);
        FloatBuffer target = HostArrays.view(residual);
        FloatBuffer b = bias == null ? null : HostArrays.view(bias);
        int width = weight.rows();
        if (target == null || target.capacity() != (long) n * width) {
            throw new IllegalArgumentException("residual must be a packed float [" + n + ", " + width + "] array");
        }
        for (int i = 0; i < n; i++) {
            int at = i * width;
            for (int o = 0; o < width; o++) {
                target.put(at + o, target.get(at + o) + out[at + o] + (b == null ? 0f : b.get(o)));
            }
        }
    }

    private static int rows(INDArray x, Weight weight) {
        if (x.rank() != 2 || x.columns() != weight.cols() || x.rows() * Math.max(weight.rows(), weight.cols())
                > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("linear: input " + Arrays.toString(x.shape())
                    + " does not match weight " + weight);
        }
        return (int) x.rows();
    }

    /** {@code x W^T} into this thread's output scratch array. */
    private static float[] multiplyOnHost(INDArray x, Weight weight, int n) {
        float[][] scratch = SCRATCH.get();
        int in = n * weight.cols();
        int outLength = n * weight.rows();
        if (scratch[0].length < in) {
            scratch[0] = new float[in];
        }
        if (scratch[1].length < outLength) {
            scratch[1] = new float[outLength];
        }
        FloatBuffer source = HostArrays.view(x);
        if (source != null) {
            source.get(0, scratch[0], 0, in);
        } else {
            System.arraycopy(x.dup('c').data().asFloat(), 0, scratch[0], 0, in);
        }
        weight.matmul(scratch[0], n, scratch[1], false);
        return scratch[1];
    }
}
