package io.skipllm;

/**
 * Base type of every error the engine raises on purpose. The CLI maps it to exit code 1 and prints
 * its message after {@code error: }; library users catch this one type.
 */
public class SkipLlmException extends RuntimeException {
    public SkipLlmException(String message) {
        super(message);
    }

    public SkipLlmException(String message, Throwable cause) {
        super(message, cause);
    }
}
