package io.skipllm.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Which layers one decode step runs, for the input-dependent baselines the paper compares against
 * (SkipDecode's position-dependent depth, early exit's confidence-dependent depth). Unified Layer
 * Skipping itself needs none of this: its layers are the session's retained set on every step.
 */
public interface StepPlan {

    /** The layers this step may run, ascending; a subset of the session's retained layers. */
    int[] layers();

    /**
     * Called after each layer with the hidden state {@code [B, hidden]}; returning true ends the step
     * there (early exit). The default never exits.
     */
    default boolean exitAfter(int layer, INDArray hidden, CausalLm model) {
        return false;
    }

    /**
     * Whether retained layers the step did not run still receive this token's keys and values,
     * computed from the hidden state the step ended with (CALM's state propagation). Without it a
     * later token that runs such a layer would attend over an empty slot.
     */
    default boolean propagateSkippedKeysValues() {
        return false;
    }

    /**
     * Whether the step looks at the hidden state between layers ({@link #exitAfter}) or propagates keys
     * and values ({@link #propagateSkippedKeysValues}): such steps run on the ND4J-array path, whose
     * hidden state is an array a plan can read; plans that only choose layers run on the host pass.
     */
    default boolean inspectsHiddenStates() {
        return false;
    }
}
