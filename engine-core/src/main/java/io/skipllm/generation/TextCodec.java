package io.skipllm.generation;

import io.skipllm.tokenizer.Tokenizer;
import java.util.Objects;

/**
 * What generation needs from a tokenizer: text to ids for text prompts, ids to text for results,
 * streaming and stop strings. An interface rather than {@link Tokenizer} itself so the generation code
 * (and its tests) run without a {@code tokenizer.json}.
 */
public interface TextCodec {

    /** Encodes a prompt as the tokenizer specifies (special tokens such as BOS included). */
    int[] encode(String text);

    /** Decodes generated ids, leaving out special tokens (an EOS decodes to nothing). */
    String decode(int[] ids);

    /** The codec of a Hugging Face tokenizer: {@link Tokenizer#encode} and {@link Tokenizer#decode}. */
    static TextCodec of(Tokenizer tokenizer) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        return new TextCodec() {
            @Override
            public int[] encode(String text) {
                return tokenizer.encode(text);
            }

            @Override
            public String decode(int[] ids) {
                return tokenizer.decode(ids);
            }
        };
    }
}
