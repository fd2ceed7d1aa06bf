package io.skipllm.model.nd4j;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Activation functions of the nd4j forward pass, applied in place (the host pass's are {@link HostMath}'s). */
public final class Activations {

    /** sqrt(2 / pi), as Hugging Face's BLOOM writes it. */
    private static final double SQRT_2_OVER_PI = 0.79788456;

    private Activations() {
    }

    /** SiLU (swish): {@code x * sigmoid(x)}, LLaMA's MLP gate. */
    public static INDArray silu(INDArray x) {
        Nd4j.exec(new Swish(x, x));
        return x;
    }

    /**
     * LLaMA's MLP activation on the fused gate/up projection: {@code silu(gate) * up} for
     * {@code gateUp [rows, 2 * intermediate]} whose first half of each row is the gate and second half
     * the up projection. Returns a new {@code [rows, intermediate]} array; 3 op calls.
     */
    public static INDArray siluGateTimesUp(INDArray gateUp, long intermediate) {
        long rows = gateUp.rows();
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, rows, intermediate);
        out.assign(gateUp.get(NDArrayIndex.all(), NDArrayIndex.interval(0, intermediate)));
        return silu(out).muli(gateUp.get(NDArrayIndex.all(), NDArrayIndex.interval(intermediate, 2 * intermediate)));
    }

    /**
     * GELU, tanh approximation, as BLOOM computes it: {@code 0.5 x (1 + tanh(c x (1 + 0.044715 x^2)))}.
     * ND4J's GELU op is the sigmoid approximation and its PreciseGELU differs too (checked against the
     * formula), so it is composed here, using {@code 0.5 (1 + tanh z) = sigmoid(2z)}: 6 op calls.
     */
    public static INDArray geluTanh(INDArray x) {
        INDArray t = x.mul(x);
        t.muli(2 * SQRT_2_OVER_PI * 0.044715).addi(2 * SQRT_2_OVER_PI);
        t.muli(x);
        Transforms.sigmoid(t, false);
        return x.muli(t);
    }
}
