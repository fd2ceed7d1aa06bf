package io.skipllm.generation;

import java.util.Arrays;

/**
 * The text of one generated sequence as it grows, for streaming and stop strings. Tokens are not
 * characters (one UTF-8 character may span several byte-level tokens), so each push decodes the whole
 * sequence and returns only what is new, holding back a trailing U+FFFD that the next token usually
 * completes: the same rule as {@link io.skipllm.tokenizer.StreamingDecoder}, but over any
 * {@link TextCodec}. Linear per push, which is nothing next to a forward pass. One per sequence.
 */
final class IncrementalText {

    private static final char REPLACEMENT = '\uFFFD';

    private final TextCodec codec;
    private int[] ids = new int[16];
    private int size;
    private String text = "";
    private int emitted;

    IncrementalText(TextCodec codec) {
        this.codec = codec;
    }

    /** Adds one token; returns the text it completes (possibly empty). */
    String push(int token) {
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
        }
        ids[size++] = token;
        text = codec.decode(Arrays.copyOf(ids, size));
        int end = text.length();
        while (end > emitted && text.charAt(end - 1) == REPLACEMENT) {
            end--;
        }
        if (end <= emitted) {
            return "";
        }
        String fragment = text.substring(emitted, end);
        emitted = end;
        return fragment;
    }

    /** What push held back, once the sequence has ended: fragments plus flush add up to the whole text. */
    String flush() {
        if (text.length() <= emitted) {
            return "";
        }
        String fragment = text.substring(emitted);
        emitted = text.length();
        return fragment;
    }

    /** The decoding of everything pushed so far. */
    String text() {
        return text;
    }
}
