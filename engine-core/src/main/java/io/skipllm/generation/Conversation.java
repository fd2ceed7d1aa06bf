package io.skipllm.generation;

import io.skipllm.BadInputException;
import io.skipllm.model.SequenceBatch;
import io.skipllm.model.SkipAwareDecoder;
import java.util.Arrays;
import java.util.List;

/**
 * A chat whose history stays in the KV cache between turns: each {@link #reply} appends the new turn's
 * tokens to everything said so far and generates, without prefilling the history again. Only what has
 * not run every layer is fed again at the next turn: the new tokens, and a reply that was decoded
 * through a skip plan's retained layers (its skipped layers hold nothing for it); a full-depth or
 * lossless reply is already complete in every layer. So a turn's logits and tokens are those of a
 * fresh prompt of the whole text ({@code ConversationTest}).
 *
 * <p>The cache holds {@link #capacity()} tokens in every layer, allocated when the conversation opens
 * (see {@link Generator#conversation}). Not thread-safe; close it to free the cache.
 */
public final class Conversation implements AutoCloseable {

    private final SkipAwareDecoder decoder;
    private final TextCodec codec;
    private final SequenceBatch batch;
    /** Everything said so far: turns and replies (the latest reply's last token may not be in the cache yet). */
    private int[] history = new int[0];

    Conversation(SkipAwareDecoder decoder, TextCodec codec, int capacity) {
        this.decoder = decoder;
        this.codec = codec;
        this.batch = decoder.openSequences(1, capacity);
    }

    /** Tokens the conversation can hold in all. */
    public int capacity() {
        return batch.capacity();
    }

    /** Every token so far (turns and replies), a copy. */
    public int[] tokens() {
        return history.clone();
    }

    /**
     * Appends {@code tokens} (the next turn, ids exactly as given) and generates a reply to the whole
     * conversation with {@code config} (greedy or sampling, plain or lossless; not beam search).
     *
     * @throws BadInputException for an empty turn, ids outside the vocabulary, or a conversation that
     *     would outgrow {@link #capacity()} with {@code config.maxNewTokens()}
     */
    public GenerationResult reply(int[] tokens, GenerationConfig config, TokenStreamListener listener) {
        Request request = request(tokens, config, listener);
        GenerationRow row = new GenerationRow(request, 0, 0, 0);
        SequenceDecoding decoding = new SequenceDecoding(batch, request, new GenerationRow[] {row});
        GenerationResult.Timing timing;
        try {
            timing = decoding.run(Cancellation.NEVER);
        } finally {
            history = Arrays.copyOf(row.tokens, row.length);
        }
        return GreedyOrSamplingSearch.results(request, new GenerationRow[] {row}, 1, timing, decoding.speculation())
                .get(0);
    }

    /** As {@link #reply(int[], GenerationConfig, TokenStreamListener)} for a text turn, encoded by the tokenizer. */
    public GenerationResult reply(String text, GenerationConfig config, TokenStreamListener listener) {
        if (codec == null) {
            throw new BadInputException("text turns need a tokenizer and this model has none; give token ids");
        }
        return reply(codec.encode(text), config, listener);
    }

    /**
     * Appends {@code tokens} without generating and returns the logits at the last of them (what a
     * fresh prompt of the whole conversation would give): for scoring, or to inspect the next token.
     */
    public float[] append(int[] tokens) {
        GenerationConfig config = GenerationConfig.builder().maxNewTokens(1).build();
        Request request = request(tokens, config, null);
        int[] all = request.prompts()[0];
        float[] logits = new float[batch.vocabSize()];
        batch.feedAtFullDepth(new int[][] {all}, new int[] {all.length}, logits);
        history = all;
        return logits;
    }

    private Request request(int[] tokens, GenerationConfig config, TokenStreamListener listener) {
        if (tokens == null || tokens.length == 0) {
            throw new BadInputException("a turn needs at least one token");
        }
        if (config != null && config.isBeamSearch()) {
            throw new BadInputException("a conversation runs greedy search or sampling, not beam search (numBeams "
                    + config.numBeams() + ")");
        }
        if (config != null && config.numReturnSequences() != 1) {
            throw new BadInputException("a conversation continues one sequence; numReturnSequences must be 1, got "
                    + config.numReturnSequences());
        }
        int[] all = Arrays.copyOf(history, history.length + tokens.length);
        System.arraycopy(tokens, 0, all, history.length, tokens.length);
        Request request = Request.resolve(decoder.model().config(), List.of(all), config, codec, listener);
        if (all.length + request.config().maxNewTokens() > batch.capacity()) {
            throw new BadInputException("the conversation has " + all.length + " tokens; with max new tokens "
                    + request.config().maxNewTokens() + " it would need " + (all.length + request.config().maxNewTokens())
                    + " but holds " + batch.capacity());
        }
        return request;
    }

    @Override
    public void close() {
        batch.close();
    }
}
