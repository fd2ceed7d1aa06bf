package io.skipllm.backend;

/**
 * A check that a backend module (for example {@code engine-cuda}) registers through
 * {@code META-INF/services/io.skipllm.backend.BackendPreflight}. {@link Backend} runs every registered
 * check once, before ND4J is first touched, so that a machine that cannot run the backend (no driver,
 * no device, missing runtime libraries, an unsupported GPU) gets one clear message instead of ND4J's
 * own failure, which is a stack trace printed to stderr followed by "no backend on the classpath".
 *
 * <p>This keeps backend-specific knowledge in the backend's module: {@code engine-core} only runs the
 * checks and reports the result.
 */
public interface BackendPreflight {

    /**
     * Throws {@link io.skipllm.SkipLlmException} naming what is missing when the backend cannot start on
     * this machine; returns normally when it can, or when this check does not apply (its backend is not
     * the one on the classpath).
     */
    void check();

    /**
     * Text appended to the error when ND4J itself fails to initialize after {@link #check} passed, for
     * example which other build to use. Empty by default.
     */
    default String hint() {
        return "";
    }
}
