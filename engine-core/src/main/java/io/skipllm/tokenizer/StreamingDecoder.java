package io.skipllm.tokenizer;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.Function;

/**
 * Turns generated token ids, fed one at a time, into text fragments as soon as they are complete.
 *
 * <p>Tokens do not map to whole characters: with byte-level BPE (GPT-2, LLaMA-3) or byte-fallback
 * (LLaMA-2) tokenizers one character of UTF-8 (an accented letter, an emoji) can span several
 * tokens, and decoders may join tokens (Metaspace drops the space of the first word). So each
 * {@link #push} decodes the whole sequence so far and returns what is new beyond the text already
 * returned, holding back a trailing run of U+FFFD: the decoder writes U+FFFD for a UTF-8 sequence
 * that is still incomplete, and the next token usually completes it. {@link #flush()} returns
 * whatever was held back at the end (a genuine trailing U+FFFD, or bytes the model never
 * completed).
 *
 * <p>For tokenizers whose decoding of a prefix is a prefix of the decoding of the whole (byte-level,
 * byte-fallback, Metaspace, WordPiece, WordLevel decoders without clean-up), the concatenation of
 * all fragments plus {@link #flush()} equals {@code tokenizer.decode(allIds)}, and no fragment ends
 * in the middle of a character. If a decoder ever rewrites text already returned, the fragments
 * continue from the length already returned (text cannot be taken back).
 *
 * <p>Each push decodes the whole sequence (linear in its length), which is negligible next to a
 * forward pass for sequences of a few thousand tokens. Not thread safe: one instance per generated
 * sequence. Obtain one from {@link Tokenizer#streamingDecoder()}, or over any decoding function with
 * {@link #over(Function)}.
 */
public final class StreamingDecoder {

    private static final char REPLACEMENT = '\uFFFD';

    private final Function<int[], String> decoder;
    private int[] ids = new int[64];
    private int size;
    /** The latest decode of the whole sequence. */
    private String text = "";
    /** How many chars of {@link #text} were returned. */
    private int emitted;

    private StreamingDecoder(Function<int[], String> decoder) {
        this.decoder = decoder;
    }

    /** A streaming decoder over any function that decodes a whole id sequence to text. */
    public static StreamingDecoder over(Function<int[], String> decoder) {
        return new StreamingDecoder(Objects.requireNonNull(decoder, "decoder"));
    }

    /**
     * Adds one id and returns the text it completes, possibly empty (a special token being
     * skipped, or part of a multibyte character).
     *
     * @throws io.skipllm.BadInputException on a negative id
     */
    public String push(int id) {
        Tokenizer.checkId(id);
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
        }
        ids[size++] = id;
        text = decoder.apply(Arrays.copyOf(ids, size));
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

    /** Returns the text held back so far (trailing U+FFFD), e.g. once generation stops. */
    public String flush() {
        if (text.length() <= emitted) {
            return "";
        }
        String fragment = text.substring(emitted);
        emitted = text.length();
        return fragment;
    }

    /** The decoding of all ids pushed so far, held-back tail included. */
    public String text() {
        return text;
    }

    /** The ids pushed so far. */
    public int[] ids() {
        return Arrays.copyOf(ids, size);
    }

    /** Number of ids pushed so far. */
    public int size() {
        return size;
    }
}
