package io.skipllm.model.nd4j;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Row-wise normalisations over the hidden dimension of a {@code [rows, hidden]} matrix. ND4J 1.0.0-M2.1
 * has no RMSNorm op and its {@code layer_norm} takes no epsilon, so both are composed from primitive
 * ops (5 and 7 op calls): the nd4j forward pass's norms (the host pass's are {@link HostMath}'s loops).
 * Results are new arrays (in the active workspace during a forward pass).
 */
public final class Norms {

    private Norms() {
    }

    /** LLaMA's RMSNorm: {@code x / sqrt(mean(x^2) + eps) * weight}. */
    public static INDArray rms(INDArray x, INDArray weight, double eps) {
        INDArray meanSquare = x.mul(x).mean(true, 1);          // [rows, 1]
        INDArray inverse = Transforms.pow(meanSquare.addi(eps), -0.5, false);
        return x.mulColumnVector(inverse).muliRowVector(weight);
    }

    /** BLOOM's LayerNorm with bias: {@code (x - mean) / sqrt(var + eps) * weight + bias}. */
    public static INDArray layer(INDArray x, INDArray weight, INDArray bias, double eps) {
        INDArray centred = x.subColumnVector(x.mean(true, 1));
        INDArray variance = centred.mul(centred).mean(true, 1);
        INDArray inverse = Transforms.pow(variance.addi(eps), -0.5, false);
        return centred.muliColumnVector(inverse).muliRowVector(weight).addiRowVector(bias);
    }
}
