package io.skipllm.generation;

/**
 * Receives generation output as it is produced, on the thread that called
 * {@link Generator#generate}. Greedy search and sampling report every generated token as it is
 * chosen; beam search cannot know a prompt's final sequences until the prompt is done, so it reports
 * the returned hypotheses of each prompt, best first, as soon as that prompt is done.
 */
@FunctionalInterface
public interface TokenStreamListener {

    /**
     * One generated token (greedy search and sampling).
     *
     * @param prompt index of the prompt in the request
     * @param sequence which of the prompt's sequences (0 unless sampling with numReturnSequences > 1)
     * @param tokenId the token
     * @param text the text this token completes (possibly empty: part of a multi-byte character, or a
     *     special token); when the sequence ends, any held-back text is added; null without a tokenizer
     */
    void onToken(int prompt, int sequence, int tokenId, String text);

    /** One returned hypothesis of a prompt whose beam search is done, best first (beam search only). */
    default void onHypothesis(int prompt, Hypothesis hypothesis) {
    }
}
