package io.skipllm;

/**
 * The caller gave something the engine cannot use: an invalid argument, a malformed checkpoint, an
 * out-of-range token id. Raised before any work starts; the CLI maps it to exit code 2.
 */
public class BadInputException extends SkipLlmException {
    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
