package io.skipllm.model.nd4j;

import io.skipllm.weights.Weight;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Matrix products of the nd4j forward pass against weights stored in Hugging Face's {@code [out, in]}
 * layout: {@code y = x W^T} by ND4J's gemm on the weight's float32 array, where the transpose is a BLAS
 * flag, never a copy. (The host pass multiplies with {@link Weight#matmul} directly.)
 */
public final class Linear {

    private Linear() {
    }

    /** {@code x [rows, in] -> [rows, out]} (a new array), plus {@code bias} when it is not null. */
    public static INDArray apply(INDArray x, Weight weight, INDArray bias) {
        INDArray y = Nd4j.createUninitialized(x.dataType(), x.rows(), weight.rows());
        Nd4j.gemm(x, array(weight), y, false, true, 1.0, 0.0);
        return bias == null ? y : y.addiRowVector(bias);
    }

    /**
     * {@code residual += x W^T (+ bias)}: the residual connection folded into the matmul (BLAS beta = 1),
     * which saves an op call and a temporary per sub-layer.
     */
    public static void accumulate(INDArray residual, INDArray x, Weight weight, INDArray bias) {
        Nd4j.gemm(x, array(weight), residual, false, true, 1.0, 1.0);
        if (bias != null) {
            residual.addiRowVector(bias);
        }
    }

    static INDArray array(Weight weight) {
        if (weight.onHost()) {
            throw new IllegalStateException("the nd4j forward pass got a host weight " + weight
                    + ": the model was loaded for the host pass");
        }
        return weight.array();
    }
}
