package io.skipllm.model;

/**
 * Which layers one decode step runs, for the input-dependent baselines the paper compares against
 * (SkipDecode's position-dependent depth, early exit's confidence-dependent depth). Unified Layer
 * Skipping itself needs none of this: its layers are the session's retained set on every step. Both
 * forward passes call the hooks the same way (after each layer, before the next), so a plan never
 * knows which one runs it.
 */
public interface StepPlan {

    /** The layers this step may run, ascending; a subset of the session's retained layers. */
    int[] layers();

    /**
     * Called after each layer with the step's hidden state; returning true ends the step there (early
     * exit). The default never exits.
     */
    default boolean exitAfter(int layer, HiddenState hidden) {
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
}
