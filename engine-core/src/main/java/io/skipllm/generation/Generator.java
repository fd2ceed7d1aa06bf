package io.skipllm.generation;

import io.skipllm.BadInputException;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Generates text with layer skipping: greedy search, multinomial sampling or beam search over a
 * {@link SkipAwareDecoder}, every prompt of a call decoded together as one batch on one static KV
 * cache. The prompt runs at full depth; every generated token after the first runs the retained
 * layers of {@link GenerationConfig#resolveRetained}.
 *
 * <p>Thread safe: a generator holds only immutable collaborators; each {@link #generate} call owns
 * its decode session and all per-request state, so concurrent calls do not interact (and give the
 * same results as when run one after another).
 *
 * <pre>{@code
 * Generator generator = new Generator(model.decoder(), model.tokenizer().orElse(null));
 * GenerationConfig config = GenerationConfig.builder()
 *         .skipPlan(SkipStrategy.UNIFIED, 2.0).numBeams(4).maxNewTokens(32).build();
 * GenerationResult result = generator.generateText(List.of("The capital of France is"), config, null).get(0);
 * System.out.println(result.text());
 * }</pre>
 */
public final class Generator {

    private final SkipAwareDecoder decoder;
    private final TextCodec codec;

    /** A generator without a tokenizer: token ids in and out, no text. */
    public Generator(SkipAwareDecoder decoder) {
        this(decoder, (TextCodec) null);
    }

    /** A generator whose results carry text from {@code tokenizer} (null: none). */
    public Generator(SkipAwareDecoder decoder, Tokenizer tokenizer) {
        this(decoder, tokenizer == null ? null : TextCodec.of(tokenizer));
    }

    /** A generator with any text codec (null: none), e.g. a stand-in tokenizer in tests. */
    public Generator(SkipAwareDecoder decoder, TextCodec codec) {
        this.decoder = Objects.requireNonNull(decoder, "decoder");
        this.codec = codec;
    }

    public SkipAwareDecoder decoder() {
        return decoder;
    }

    /** True when results carry text and text prompts are accepted. */
    public boolean hasTokenizer() {
        return codec != null;
    }

    /**
     * Generates for token-id prompts, decoded together as one batch.
     *
     * @param prompts one or more prompts (ids used exactly as given: no BOS is added)
     * @param listener receives tokens (greedy, sampling) or hypotheses (beam search) as they are
     *     produced; may be null
     * @return one result per prompt, in input order
     * @throws BadInputException for an empty or out-of-vocabulary prompt, a prompt that does not fit in
     *     the model's context with {@code maxNewTokens}, a retained layer the model lacks, or a stop
     *     token outside the vocabulary; always before any forward pass
     */
    public List<GenerationResult> generate(List<int[]> prompts, GenerationConfig config, TokenStreamListener listener) {
        return generate(prompts, config, listener, Cancellation.NEVER);
    }

    /**
     * As {@link #generate(List, GenerationConfig, TokenStreamListener)}, stoppable from another thread:
     * the decode loop checks {@code cancellation} before every decode step.
     *
     * @throws GenerationCancelledException when {@code cancellation} is cancelled before the last step;
     *     the decode session is closed by then and no results are returned
     */
    public List<GenerationResult> generate(List<int[]> prompts, GenerationConfig config, TokenStreamListener listener,
            Cancellation cancellation) {
        Objects.requireNonNull(cancellation, "cancellation");
        Request request = Request.resolve(decoder.model().config(), prompts, config, codec, listener);
        if (config.isBeamSearch()) {
            return new BeamSearch(decoder, request).run(cancellation);
        }
        return config.lossless()
                ? new SelfSpeculativeSearch(decoder, request).run(cancellation)
                : new GreedyOrSamplingSearch(decoder, request).run(cancellation);
    }

    /**
     * Opens a conversation holding up to {@code capacity} tokens (turns and replies together) in its
     * own KV cache, so that each turn continues from the cache instead of re-reading the history.
     *
     * @throws BadInputException when {@code capacity} is outside 1..the model's context
     */
    public Conversation conversation(int capacity) {
        return new Conversation(decoder, codec, capacity);
    }

    /** One token-id prompt, no listener. */
    public GenerationResult generate(int[] prompt, GenerationConfig config) {
        List<int[]> prompts = new ArrayList<>();
        prompts.add(prompt);
        return generate(prompts, config, null).get(0);
    }

    /**
     * Generates for text prompts, encoded as the tokenizer specifies (special tokens such as BOS
     * included), decoded together as one batch.
     *
     * @throws BadInputException when this generator has no tokenizer
     */
    public List<GenerationResult> generateText(List<String> prompts, GenerationConfig config,
            TokenStreamListener listener) {
        if (codec == null) {
            throw new BadInputException("text prompts need a tokenizer and this model has none; give token ids");
        }
        if (prompts == null || prompts.isEmpty()) {
            throw new BadInputException("no prompts given");
        }
        List<int[]> ids = new ArrayList<>();
        for (String prompt : prompts) {
            if (prompt == null) {
                throw new BadInputException("prompt " + ids.size() + " is null");
            }
            ids.add(codec.encode(prompt));
        }
        return generate(ids, config, listener);
    }

    /** One text prompt, no listener. */
    public GenerationResult generateText(String prompt, GenerationConfig config) {
        return generateText(List.of(prompt), config, null).get(0);
    }
}
