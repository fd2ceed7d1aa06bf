package io.skipllm.checkpoint;

import io.skipllm.BadInputException;

/** A checkpoint file (config.json, safetensors, index, tokenizer.json) is missing or malformed. */
public class CheckpointException extends BadInputException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
