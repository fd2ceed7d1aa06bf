package io.skipllm.eval;

import io.skipllm.BadInputException;

/**
 * One example as token ids: the prompt (as the model's tokenizer encodes it, BOS included) and the
 * response the model was trained to emit after it (EOS included). The arrays are copied in and out.
 */
public record EncodedExample(int[] prompt, int[] response) {

    public EncodedExample {
        if (prompt == null || prompt.length == 0) {
            throw new BadInputException("an example's prompt needs at least one token");
        }
        if (response == null || response.length == 0) {
            throw new BadInputException("an example's response needs at least one token");
        }
        prompt = prompt.clone();
        response = response.clone();
    }

    @Override
    public int[] prompt() {
        return prompt.clone();
    }

    @Override
    public int[] response() {
        return response.clone();
    }

    int promptLength() {
        return prompt.length;
    }

    int responseLength() {
        return response.length;
    }

    int responseToken(int t) {
        return response[t];
    }
}
