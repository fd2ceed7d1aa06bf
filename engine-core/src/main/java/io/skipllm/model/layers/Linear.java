package io.skipllm.model.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Matrix products against weights stored in Hugging Face's {@code [out, in]} layout: {@code y = x W^T}.
 * The transpose is a BLAS flag, never a copy.
 */
public final class Linear {

    private Linear() {
    }

    /** {@code x [rows, in] -> [rows, out]} (a new array), plus {@code bias} when it is not null. */
    public static INDArray apply(INDArray x, INDArray weight, INDArray bias) {
        INDArray y = Nd4j.createUninitialized(x.dataType(), x.rows(), weight.rows());
        Nd4j.gemm(x, weight, y, false, true, 1.0, 0.0);
        return bias == null ? y : y.addiRowVector(bias);
    }

    /**
     * {@code residual += x W^T (+ bias)}: the residual connection folded into the matmul (BLAS beta = 1),
     * which saves an op call and a temporary per sub-layer.
     */
    public static void accumulate(INDArray residual, INDArray x, INDArray weight, INDArray bias) {
        Nd4j.gemm(x, weight, residual, false, true, 1.0, 1.0);
        if (bias != null) {
            residual.addiRowVector(bias);
        }
    }
}
