package io.skipllm.model.host;

import io.skipllm.kvcache.HostKvCache;
import io.skipllm.kvcache.KvCache;
import io.skipllm.model.CausalLm;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.ModelConfig;
import io.skipllm.model.SessionPass;
import io.skipllm.model.StepPlan;
import io.skipllm.planner.RetainedLayers;
import java.util.Arrays;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A decode session on the host forward pass: the model's {@link HostPass} over a {@link HostKvCache},
 * logits in a Java array. No ND4J op runs here; {@link #logitsArray} builds an ND4J array only for
 * callers of the session's ND4J-typed API.
 */
public final class HostSessionPass implements SessionPass {

    /**
     * Rows one host-pass call takes at most: a prompt longer than this (over the whole batch) is
     * prefilled in chunks of positions, which bounds the run state's memory; each chunk reads the
     * weights once for all its rows.
     */
    public static final int MAX_ROWS = 256;

    private final int batchSize;
    private final int promptLength;
    private final int vocab;
    private final int[] allLayers;
    private final HostKvCache cache;
    private final HostPass pass;
    /** [B * vocab]: logits of the latest call. */
    private final float[] logits;
    // one call's rows, sized for the largest call
    private final int[] tokens;
    private final int[] positions;
    private final int[] sequences;
    private final int[] slots;
    private final int[] logitsRows;

    public HostSessionPass(CausalLm model, int batchSize, int promptLength, int maxNewTokens, RetainedLayers retained) {
        ModelConfig config = model.config();
        this.batchSize = batchSize;
        this.promptLength = promptLength;
        this.vocab = config.vocabSize();
        this.allLayers = RetainedLayers.all(config.numLayers()).indices();
        this.cache = new HostKvCache(config.numLayers(), batchSize, config.numKvHeads(), config.headDim(),
                promptLength, maxNewTokens, retained);
        int maxRows = Math.max(batchSize, Math.min(batchSize * promptLength, MAX_ROWS));
        try {
            this.pass = model.openHostPass(cache, maxRows);
        } catch (RuntimeException | Error e) {
            cache.close();
            throw e;
        }
        this.logits = new float[batchSize * vocab];
        this.tokens = new int[maxRows];
        this.positions = new int[maxRows];
        this.sequences = new int[maxRows];
        this.slots = new int[maxRows];
        this.logitsRows = new int[maxRows];
    }

    /**
     * Positions in chunks of at most {@link HostPass#maxRows} rows over the batch, in order (each chunk's
     * rows see the cache the earlier chunks filled). Left padding is not computed at all: its slots stay
     * empty and outside every row's visible range.
     */
    @Override
    public void prefill(int[][] prompts) {
        int[] firstVisible = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            firstVisible[b] = promptLength - prompts[b].length;
        }
        int perChunk = Math.max(1, pass.maxRows() / batchSize);
        for (int start = 0; start < promptLength; start += perChunk) {
            int end = Math.min(promptLength, start + perChunk);
            int n = 0;
            for (int b = 0; b < batchSize; b++) {
                for (int slot = Math.max(start, firstVisible[b]); slot < end; slot++) {
                    tokens[n] = prompts[b][slot - firstVisible[b]];
                    positions[n] = slot - firstVisible[b];
                    sequences[n] = b;
                    slots[n] = slot;
                    logitsRows[n] = slot == promptLength - 1 ? b : -1;
                    n++;
                }
            }
            if (n > 0) {
                pass.forward(new StepRows(n, tokens, positions, sequences, slots, firstVisible, logitsRows), allLayers,
                        logits);
            }
        }
        requireFinite(logits);
    }

    @Override
    public int decode(int[] next, int[] rowPositions, int[] firstVisible, int slot, StepPlan plan, int[] fillAfterExit) {
        for (int b = 0; b < batchSize; b++) {
            tokens[b] = next[b];
            positions[b] = rowPositions[b];
            sequences[b] = b;
            slots[b] = slot;
            logitsRows[b] = b;
        }
        int ran = pass.forward(new StepRows(batchSize, tokens, positions, sequences, slots, firstVisible, logitsRows),
                plan.layers(), plan, fillAfterExit, logits);
        requireFinite(logits);
        return ran;
    }

    /**
     * Weights are checked to be finite at load, but finite weights can still overflow float32 (a
     * corrupted exponent, say): reporting that here beats handing NaN to a sampler.
     */
    static void requireFinite(float[] logits) {
        for (float v : logits) {
            if (!Float.isFinite(v)) {
                throw DecodeSession.nonFiniteLogits();
            }
        }
    }

    @Override
    public float[] logits() {
        return logits;
    }

    @Override
    public org.nd4j.linalg.api.ndarray.INDArray logitsArray() {
        return Nd4j.create(Arrays.copyOf(logits, logits.length), new long[] {batchSize, vocab}, 'c');
    }

    @Override
    public void reorderRows(int[] sourceRows) {
        cache.reorderRows(sourceRows);
    }

    @Override
    public KvCache cache() {
        return cache;
    }

    @Override
    public void close() {
        cache.close();
    }
}
