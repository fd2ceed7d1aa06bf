package io.skipllm.model;

/**
 * The hidden state of a forward call's rows between two layers, as a {@link StepPlan} sees it: early
 * exit decides from the prediction it would make here. Valid only during the call that hands it out.
 */
public interface HiddenState {

    /** Rows in the call. */
    int rows();

    /**
     * The intermediate prediction: final norm and LM head applied to every row's hidden state as it is
     * now, {@code [rows * vocab]} (a buffer the next call may overwrite).
     */
    float[] logits();
}
