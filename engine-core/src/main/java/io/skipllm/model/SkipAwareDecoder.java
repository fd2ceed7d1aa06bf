package io.skipllm.model;

import io.skipllm.BadInputException;
import io.skipllm.planner.RetainedLayers;

/**
 * The skip-aware forward pass over a batch of prompts (paper section 3.4 and "Skip semantics" in
 * CONTRACTS.md): the prompt runs through every layer and fills every layer's cache; each response
 * token then runs through the retained layers only, in ascending order, and a skipped layer is the
 * identity. Immutable and shareable; every {@link #start} returns a session with its own cache.
 */
public final class SkipAwareDecoder {

    private final CausalLm model;
    /** Memory a request may take; 0 means "what the process has left" ({@link RequestMemory#availableBytes}). */
    private final long memoryLimitBytes;
    /** Told of every session opened and closed, so that {@link Model#close} never frees weights in use. */
    private final SessionTracker sessions;

    public SkipAwareDecoder(CausalLm model) {
        this(model, 0, SessionTracker.NONE);
    }

    SkipAwareDecoder(CausalLm model, SessionTracker sessions) {
        this(model, 0, sessions);
    }

    private SkipAwareDecoder(CausalLm model, long memoryLimitBytes, SessionTracker sessions) {
        this.model = model;
        this.memoryLimitBytes = memoryLimitBytes;
        this.sessions = sessions;
    }

    /** Counts open sessions of a model that frees its memory when closed (see {@link Model#close}). */
    interface SessionTracker {
        SessionTracker NONE = new SessionTracker() {
            @Override
            public void opened() {
            }

            @Override
            public void closed() {
            }
        };

        /** Called before a session allocates anything; throws IllegalStateException when the model is closed. */
        void opened();

        /** Called once when a session opened after {@link #opened} closes (or fails to start). */
        void closed();
    }

    /**
     * A decoder that refuses any request whose cache and buffers exceed {@code bytes}, for services
     * that share the machine and want a budget per request.
     */
    public SkipAwareDecoder withMemoryLimit(long bytes) {
        if (bytes <= 0) {
            throw new BadInputException("memory limit must be positive, got " + bytes);
        }
        return new SkipAwareDecoder(model, bytes, sessions);
    }

    public CausalLm model() {
        return model;
    }

    /**
     * Validates the request, allocates its static cache and prefills the prompts at full depth. The
     * session's {@link DecodeSession#logits()} then holds the logits at each prompt's last position.
     *
     * @param prompts one or more prompts of any lengths (left-padded internally)
     * @param maxNewTokens how many decode steps the cache must hold
     * @param retained the layers response tokens run through
     * @throws BadInputException for an invalid request (checked before any allocation)
     * @throws RequestMemory.InsufficientMemoryException when the batch would not fit in memory
     * @throws IllegalStateException when the decoder belongs to a closed {@link Model}
     */
    public DecodeSession start(int[][] prompts, int maxNewTokens, RetainedLayers retained) {
        ModelConfig config = model.config();
        if (retained == null) {
            throw new BadInputException("retained layers must not be null");
        }
        retained.requireWithin(config.numLayers());
        if (prompts == null || prompts.length == 0) {
            throw new BadInputException("no prompts given");
        }
        if (maxNewTokens < 0) {
            throw new BadInputException("max new tokens must be >= 0, got " + maxNewTokens);
        }
        int longest = 0;
        for (int i = 0; i < prompts.length; i++) {
            if (prompts[i] == null || prompts[i].length == 0) {
                throw new BadInputException("prompt " + i + " is empty; a prompt needs at least one token");
            }
            requireTokenIds(prompts[i], config.vocabSize(), "prompt " + i);
            longest = Math.max(longest, prompts[i].length);
        }
        if ((long) longest + maxNewTokens > config.maxPositions()) {
            throw new BadInputException("prompt length " + longest + " + max new tokens " + maxNewTokens
                    + " exceeds the model's context of " + config.maxPositions() + " positions");
        }
        long available = memoryLimitBytes > 0 ? memoryLimitBytes : RequestMemory.availableBytes();
        RequestMemory.requireFits(config, prompts.length, longest, maxNewTokens, retained, available);
        sessions.opened();
        try {
            return new DecodeSession(model, prompts, longest, maxNewTokens, retained, sessions::closed);
        } catch (RuntimeException | Error e) {
            sessions.closed();
            throw e;
        }
    }

    /**
     * Opens {@code rows} independent sequences of up to {@code capacity} tokens each on one static cache
     * with room in every layer (see {@link SequenceBatch}): what continuous batching, self-speculative
     * decoding and appended turns run on. Refused before allocating when it would not fit in memory.
     *
     * @throws BadInputException for a non-positive size or a capacity beyond the model's context
     * @throws RequestMemory.InsufficientMemoryException when the cache would not fit
     */
    public SequenceBatch openSequences(int rows, int capacity) {
        ModelConfig config = model.config();
        if (rows < 1) {
            throw new BadInputException("a sequence batch needs at least one row, got " + rows);
        }
        if (capacity < 1 || capacity > config.maxPositions()) {
            throw new BadInputException("sequence capacity " + capacity + " must be within 1.." + config.maxPositions()
                    + " (the model's context)");
        }
        long available = memoryLimitBytes > 0 ? memoryLimitBytes : RequestMemory.availableBytes();
        RequestMemory.requireFits(n -> RequestMemory.sequencesBytes(config, n, capacity), rows, available);
        sessions.opened();
        try {
            return new SequenceBatch(model, rows, capacity, sessions::closed);
        } catch (RuntimeException | Error e) {
            sessions.closed();
            throw e;
        }
    }

    /** Token ids must index the embedding matrix: checked here because ND4J would read out of bounds. */
    static void requireTokenIds(int[] ids, int vocabSize, String what) {
        for (int j = 0; j < ids.length; j++) {
            if (ids[j] < 0 || ids[j] >= vocabSize) {
                throw new BadInputException(what + ": token id " + ids[j] + " at index " + j
                        + " is outside the vocabulary (0.." + (vocabSize - 1) + ")");
            }
        }
    }
}
