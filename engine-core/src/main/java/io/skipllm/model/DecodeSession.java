package io.skipllm.model;

import io.skipllm.BadInputException;
import io.skipllm.SkipLlmException;
import io.skipllm.backend.ForwardBackend;
import io.skipllm.kvcache.KvCache;
import io.skipllm.model.host.HostSessionPass;
import io.skipllm.model.nd4j.Nd4jSessionPass;
import io.skipllm.planner.RetainedLayers;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One request batch in flight: its static KV cache and the logits of the latest forward call. Created
 * by {@link SkipAwareDecoder#start}, which prefills; each {@link #decode} then feeds one token per row
 * through the retained layers.
 *
 * <p>Rows are left-padded to the longest prompt, so every row writes the same cache slot at each step;
 * positions count each row's real tokens only, so a prompt's logits do not depend on the batch it is in.
 *
 * <p>The forward pass is the one the model was loaded for ({@link CausalLm#backend}), picked once here:
 * the host pass ({@link HostSessionPass}) or ND4J ops ({@link Nd4jSessionPass}); prefill, every decode step
 * and every plan (early exit included) run on it. A session is used by one thread at a time; close it to
 * release the cache.
 */
public final class DecodeSession implements AutoCloseable {

    private final CausalLm model;
    private final SessionPass pass;
    private final RetainedLayers retained;
    private final int[] retainedLayers;
    private final int batchSize;
    private final int promptLength;
    private final int maxNewTokens;
    private final int[] promptLengths;
    private int step;
    private int lastStepLayers;
    private boolean closed;
    /** Tells the owning model this session no longer reads its weights. */
    private final Runnable onClose;

    DecodeSession(CausalLm model, int[][] prompts, int promptLength, int maxNewTokens, RetainedLayers retained,
            Runnable onClose) {
        this.model = model;
        this.onClose = onClose;
        this.retained = retained;
        this.retainedLayers = retained.indices();
        this.batchSize = prompts.length;
        this.promptLength = promptLength;
        this.maxNewTokens = maxNewTokens;
        this.promptLengths = Arrays.stream(prompts).mapToInt(p -> p.length).toArray();
        this.pass = model.backend() == ForwardBackend.HOST
                ? new HostSessionPass(model, batchSize, promptLength, maxNewTokens, retained)
                : new Nd4jSessionPass(model, prompts, promptLength, maxNewTokens, retained);
        try {
            pass.prefill(prompts);
        } catch (RuntimeException | Error e) {
            pass.close();
            throw e;
        }
    }

    /** The error a forward pass raises when its logits are not all finite. */
    public static SkipLlmException nonFiniteLogits() {
        return new SkipLlmException("the model produced non-finite logits (NaN or infinity): its weights overflow "
                + "float32 arithmetic");
    }

    /**
     * Feeds one token per row through the retained layers and returns the new logits {@code [B, vocab]}
     * (a buffer this session may overwrite at the next call; copy what you keep).
     */
    public INDArray decode(int[] tokens) {
        step(tokens, this::retainedIndices);
        return logits();
    }

    /** The retained layers, ascending: the plan of a plain decode step. */
    public int[] retainedIndices() {
        return retainedLayers;
    }

    /**
     * Feeds one token per row through the layers a {@link StepPlan} chooses: the baselines' decode
     * step. The plan's layers must be retained layers of this session (only they have room in the
     * cache for response tokens).
     */
    public INDArray decode(int[] tokens, StepPlan plan) {
        step(tokens, plan);
        return logits();
    }

    /**
     * As {@link #decode(int[], StepPlan)} without building the ND4J array of the logits: for loops that
     * read them through {@link #logitsRows}.
     */
    public void step(int[] tokens, StepPlan plan) {
        if (closed) {
            throw new IllegalStateException("the decode session is closed");
        }
        if (tokens == null || tokens.length != batchSize) {
            throw new BadInputException("decode needs one token per row: expected " + batchSize + ", got "
                    + (tokens == null ? 0 : tokens.length));
        }
        if (step >= maxNewTokens) {
            throw new BadInputException("the cache holds " + maxNewTokens + " new tokens and all are used");
        }
        SkipAwareDecoder.requireTokenIds(tokens, model.config().vocabSize(), "decode tokens");
        for (int layer : plan.layers()) {
            if (!retained.contains(layer)) {
                throw new BadInputException("layer " + layer + " is not retained in this session " + retained
                        + ", so it has no cache room for response tokens");
            }
        }
        int[] positions = new int[batchSize];
        int[] firstVisible = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            positions[b] = promptLengths[b] + step;
            firstVisible[b] = promptLength - promptLengths[b];
        }
        lastStepLayers = pass.decode(tokens, positions, firstVisible, promptLength + step, plan,
                plan.propagateSkippedKeysValues() ? retainedLayers : null);
        step++;
    }

    /** The forward pass this session runs on (the model's). */
    public ForwardBackend backend() {
        return model.backend();
    }

    /** How many layers the latest decode step ran (the retained set's size unless a plan exited early). */
    public int lastStepLayers() {
        return lastStepLayers;
    }

    /**
     * Reorders the batch rows (cache and per-row state) in place: row {@code i} becomes the old row
     * {@code sourceRows[i]}. Beam search calls this after re-ranking; rows must share a prompt length
     * pattern, which beams of one prompt do.
     */
    public void reorderRows(int[] sourceRows) {
        int[] lengths = new int[batchSize];
        for (int i = 0; i < batchSize; i++) {
            lengths[i] = promptLengths[sourceRows[i]];
        }
        pass.reorderRows(sourceRows);
        System.arraycopy(lengths, 0, promptLengths, 0, batchSize);
    }

    /**
     * The latest logits as Java arrays, one per row, written into {@code rows} (reused when it has the
     * right shape, else allocated): what a search reads each step. On the host pass this is a plain
     * copy of the step's output, with no ND4J call.
     */
    public float[][] logitsRows(float[][] rows) {
        int vocab = model.config().vocabSize();
        if (rows == null || rows.length != batchSize || rows[0].length != vocab) {
            rows = new float[batchSize][vocab];
        }
        float[] all = pass.logits();
        for (int b = 0; b < batchSize; b++) {
            System.arraycopy(all, b * vocab, rows[b], 0, vocab);
        }
        return rows;
    }

    /** Logits of the latest forward call, {@code [B, vocab]}: after prefill, those of each prompt's last token. */
    public INDArray logits() {
        return pass.logitsArray();
    }

    public RetainedLayers retained() {
        return retained;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Decode steps taken so far. */
    public int steps() {
        return step;
    }

    /** The session's cache, in the memory of its forward pass. */
    public KvCache cache() {
        return pass.cache();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                pass.close();
            } finally {
                onClose.run();
            }
        }
    }
}
