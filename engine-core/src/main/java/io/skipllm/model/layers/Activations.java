package io.skipllm.model.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Activation functions, applied in place. */
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
