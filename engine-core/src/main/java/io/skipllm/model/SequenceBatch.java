package io.skipllm.model;

import io.skipllm.BadInputException;
import io.skipllm.SkipLlmException;
import io.skipllm.backend.ForwardBackend;
import io.skipllm.kvcache.HostKvCache;
import io.skipllm.kvcache.KvCache;
import io.skipllm.model.host.HostPass;
import io.skipllm.model.host.StepRows;
import io.skipllm.planner.RetainedLayers;
import java.util.Arrays;

/**
 * Independent sequences on one static KV cache, each with its own length: the state under continuous
 * batching (requests join and leave rows at any step), self-speculative decoding (rows accept
 * different numbers of drafted tokens and roll back the rest) and conversations (a new turn is
 * appended to a finished generation instead of re-prefilling it).
 *
 * <p>Unlike {@link DecodeSession}, rows are not left-padded to a common slot: row {@code r}'s token
 * at position {@code p} lives in cache slot {@code p} of every layer that ran it, and the next token
 * goes to slot {@link #length(int) length(r)}. Every layer has room for {@link #capacity()} tokens,
 * because any token may run at full depth here (prompts, verification, appended turns), so the cache
 * is {@code layers x rows x capacity} slots whatever the skip plan.
 *
 * <p>Which layers hold a slot's key and value depends on how it was fed: {@link #fullDepthLength(int)}
 * is the prefix of the row that ran every layer; tokens fed through retained layers only leave the
 * skipped layers' slots stale, which is right for skip decoding (those layers never read response
 * slots) and is what {@link #truncate} and a later full-depth feed repair for verification and turns.
 *
 * <p>Runs on the host forward pass only (rows of different lengths in one call are what it is built
 * on; the nd4j pass takes left-padded rectangles): a model loaded with {@code --backend nd4j} is refused
 * when the batch opens, with an error saying so. One thread at a time. Close it to free the cache.
 */
public final class SequenceBatch implements AutoCloseable {

    /** Rows one host-pass call takes at most; longer feeds are split into calls in order. */
    public static final int MAX_ROWS_PER_CALL = 256;

    private final CausalLm model;
    private final int rows;
    private final int capacity;
    private final HostKvCache cache;
    private final HostPass host;
    private final int[] allLayers;
    private final int[] lengths;
    private final int[] fullDepth;
    /** Every row's first visible slot: 0, as rows are not padded. */
    private final int[] firstVisible;
    // per-call scratch, sized for MAX_ROWS_PER_CALL rows
    private final int[] positions;
    private final int[] slots;
    private final int[] callRows;
    private final int[] callTokens;
    private final int[] callLogits;
    private final Runnable onClose;
    private boolean closed;

    SequenceBatch(CausalLm model, int rows, int capacity, Runnable onClose) {
        ModelConfig config = model.config();
        this.model = model;
        this.rows = rows;
        this.capacity = capacity;
        this.onClose = onClose;
        if (model.backend() != ForwardBackend.HOST) {
            throw new SkipLlmException("independent sequences (serve's continuous batching, --lossless, "
                    + "conversations) run on the host forward pass; this model was loaded with --backend "
                    + model.backend().label() + " (load it with --backend host)");
        }
        this.cache = new HostKvCache(config.numLayers(), rows, config.numKvHeads(), config.headDim(), capacity, 0,
                RetainedLayers.all(config.numLayers()));
        HostPass pass;
        try {
            pass = model.openHostPass(cache, MAX_ROWS_PER_CALL);
        } catch (RuntimeException | Error e) {
            cache.close();
            throw e;
        }
        this.host = pass;
        this.allLayers = new int[config.numLayers()];
        Arrays.setAll(allLayers, l -> l);
        this.lengths = new int[rows];
        this.fullDepth = new int[rows];
        this.firstVisible = new int[rows];
        this.positions = new int[MAX_ROWS_PER_CALL];
        this.slots = new int[MAX_ROWS_PER_CALL];
        this.callRows = new int[MAX_ROWS_PER_CALL];
        this.callTokens = new int[MAX_ROWS_PER_CALL];
        this.callLogits = new int[MAX_ROWS_PER_CALL];
    }

    /** Bytes of the cache a batch of this shape allocates (for a check before opening one). */
    public static long cacheBytes(ModelConfig config, int rows, int capacity) {
        return KvCache.bytesFor(config.numLayers(), rows, config.numKvHeads(), config.headDim(), capacity, 0,
                RetainedLayers.all(config.numLayers()));
    }

    public int rows() {
        return rows;
    }

    /** Tokens each row can hold. */
    public int capacity() {
        return capacity;
    }

    /** Tokens of row {@code row} whose keys and values are in the cache (its next token's position). */
    public int length(int row) {
        return lengths[row];
    }

    /** The prefix of row {@code row} that ran every layer. */
    public int fullDepthLength(int row) {
        return fullDepth[row];
    }

    public int vocabSize() {
        return model.config().vocabSize();
    }

    public int numLayers() {
        return allLayers.length;
    }

    /**
     * Appends {@code n} tokens to their rows and runs them through {@code layers} (ascending; null: all
     * layers). Entry {@code i} puts {@code tokens[i]} at the next slot of row {@code batchRows[i]}; entries
     * of one row go in the order given, and see each other causally. Entry {@code i}'s logits are written
     * to {@code logits[logitsIndex[i] * vocab ...]} unless {@code logitsIndex[i] < 0}.
     *
     * @throws BadInputException when a row would exceed the capacity or a token is outside the vocabulary
     *     (checked before anything runs)
     */
    public void feed(int n, int[] batchRows, int[] tokens, int[] layers, int[] logitsIndex, float[] logits) {
        requireOpen();
        int[] runLayers = layers == null ? allLayers : layers;
        boolean fullDepthFeed = runLayers.length == allLayers.length;
        int vocab = model.config().vocabSize();
        int[] added = new int[rows];
        for (int i = 0; i < n; i++) {
            int row = batchRows[i];
            if (row < 0 || row >= rows) {
                throw new IllegalArgumentException("row " + row + " outside 0.." + (rows - 1));
            }
            if (tokens[i] < 0 || tokens[i] >= vocab) {
                throw new BadInputException("token id " + tokens[i] + " is outside the vocabulary (0.." + (vocab - 1)
                        + ")");
            }
            if (lengths[row] + ++added[row] > capacity) {
                throw new BadInputException("row " + row + " holds " + capacity + " tokens and would need "
                        + (lengths[row] + added[row]));
            }
        }
        for (int start = 0; start < n; start += MAX_ROWS_PER_CALL) {
            int count = Math.min(MAX_ROWS_PER_CALL, n - start);
            for (int j = 0; j < count; j++) {
                int row = batchRows[start + j];
                int slot = lengths[row]++;
                if (fullDepthFeed && fullDepth[row] == slot) {
                    fullDepth[row] = slot + 1;
                }
                callRows[j] = row;
                callTokens[j] = tokens[start + j];
                positions[j] = slot;
                slots[j] = slot;
                callLogits[j] = logitsIndex == null ? -1 : logitsIndex[start + j];
            }
            host.forward(new StepRows(count, callTokens, positions, callRows, slots, firstVisible, callLogits), runLayers,
                    logits);
        }
        if (logits != null && logitsIndex != null) {
            requireFinite(n, logitsIndex, logits, vocab);
        }
    }

    /**
     * Brings every row up to date with its whole sequence at full depth: forgets the row's tokens that
     * did not run every layer (a reply decoded through retained layers, rejected drafts), then feeds
     * the rest of {@code sequences[r][0, ends[r])} through every layer, in one pass for all rows. Row
     * {@code r}'s logits at its last token go to {@code logits[r * vocab ...]}. Each sequence must start
     * with what the row holds and add at least one token to it: a prompt for a new row, the next turn
     * after a reply.
     */
    public void feedAtFullDepth(int[][] sequences, int[] ends, float[] logits) {
        int n = 0;
        for (int r = 0; r < sequences.length; r++) {
            truncate(r, fullDepth[r]);
            n += ends[r] - lengths[r];
        }
        int[] batchRows = new int[n];
        int[] tokens = new int[n];
        int[] logitsIndex = new int[n];
        int at = 0;
        for (int r = 0; r < sequences.length; r++) {
            for (int i = lengths[r]; i < ends[r]; i++) {
                batchRows[at] = r;
                tokens[at] = sequences[r][i];
                logitsIndex[at] = i == ends[r] - 1 ? r : -1;
                at++;
            }
        }
        feed(n, batchRows, tokens, null, logitsIndex, logits);
    }

    private static void requireFinite(int n, int[] logitsIndex, float[] logits, int vocab) {
        for (int i = 0; i < n; i++) {
            if (logitsIndex[i] >= 0) {
                for (int v = logitsIndex[i] * vocab, end = v + vocab; v < end; v++) {
                    if (!Float.isFinite(logits[v])) {
                        throw DecodeSession.nonFiniteLogits();
                    }
                }
            }
        }
    }

    /**
     * Forgets row {@code row}'s tokens from {@code length} on (rejected drafts; a row handed to a new
     * request with {@code length = 0}); their slots are overwritten by the next tokens fed.
     */
    public void truncate(int row, int length) {
        requireOpen();
        if (length < 0 || length > lengths[row]) {
            throw new IllegalArgumentException("row " + row + " has " + lengths[row] + " tokens; cannot truncate to "
                    + length);
        }
        lengths[row] = length;
        fullDepth[row] = Math.min(fullDepth[row], length);
    }

    /** Bytes held by the cache. */
    public long cacheBytes() {
        return cache.bytes();
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the sequence batch is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                cache.close();
            } finally {
                onClose.run();
            }
        }
    }
}
