package io.skipllm.model;

import io.skipllm.BadInputException;
import io.skipllm.SkipLlmException;
import io.skipllm.kvcache.KvCache;
import io.skipllm.model.layers.CachedAttention;
import io.skipllm.model.layers.HostArrays;
import io.skipllm.planner.RetainedLayers;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * One request batch in flight: its static KV cache, attention mask and the logits of the latest
 * forward call. Created by {@link SkipAwareDecoder#start}, which prefills; each {@link #decode} then
 * feeds one token per row through the retained layers.
 *
 * <p>Rows are left-padded to the longest prompt, so every row writes the same cache slot at each step
 * and the batch stays one rectangular matmul; the mask hides padding, and positions count each row's
 * real tokens only, so a prompt's logits do not depend on the batch it is in.
 *
 * <p>Two ways to run a step, the same numbers either way ({@code HostPassTest}): on the CPU backend the
 * model's {@link HostPass} runs prefill and decode steps on buffers allocated once when the session
 * opens, with no ND4J op and no activation buffer allocated per step (only a few batch-sized index
 * arrays are); otherwise (CUDA, or a plan that inspects hidden states between layers, such as early
 * exit) steps run through {@link CausalLm#layer} on ND4J arrays, whose temporaries live in a
 * per-session workspace that reuses its memory after the first step. A session is used by one thread
 * at a time; close it to release the cache and the workspace.
 */
public final class DecodeSession implements AutoCloseable {

    static final float MASKED = CachedAttention.MASKED;

    private static final AtomicLong IDS = new AtomicLong();
    private static final WorkspaceConfiguration WORKSPACE = WorkspaceConfiguration.builder()
            .initialSize(0)
            .policyAllocation(AllocationPolicy.OVERALLOCATE)
            .overallocationLimit(0.25)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    /**
     * Rows one host-pass call takes at most: a prompt longer than this (over the whole batch) is
     * prefilled in chunks of positions, which bounds the run state's memory; each chunk reads the
     * weights once for all its rows.
     */
    static final int HOST_MAX_ROWS = 256;

    private final CausalLm model;
    /** The CPU forward pass over this session's buffers, or null: then every step runs on ND4J arrays. */
    private final HostPass host;
    /** [B * vocab]: the host pass's logits, copied into {@link #logits} after each call. */
    private final float[] hostLogits;
    /** Whether {@link #hostLogits} holds the latest logits (false after a step on the ND4J path). */
    private boolean hostLogitsLatest;
    private final RetainedLayers retained;
    private final int[] retainedLayers;
    private final int batchSize;
    private final int promptLength;
    private final int maxNewTokens;
    private final int[] promptLengths;
    private final KvCache cache;
    /** [B, 1, 1, 1, promptLength + maxNewTokens]: 0 where a decode step may attend, MASKED elsewhere. */
    private final INDArray decodeMask;
    /** [B, vocab]: logits of the latest forward call, outside any workspace. */
    private final INDArray logits;
    private final String workspaceId = "skipllm-decode-" + IDS.incrementAndGet();
    private int step;
    private int lastStepLayers;
    private boolean closed;
    /** Tells the owning model this session no longer reads its weights. */
    private final Runnable onClose;

    DecodeSession(CausalLm model, int[][] prompts, int promptLength, int maxNewTokens, RetainedLayers retained,
            Runnable onClose) {
        ModelConfig config = model.config();
        this.model = model;
        this.onClose = onClose;
        this.retained = retained;
        this.retainedLayers = retained.indices();
        this.batchSize = prompts.length;
        this.promptLength = promptLength;
        this.maxNewTokens = maxNewTokens;
        this.promptLengths = Arrays.stream(prompts).mapToInt(p -> p.length).toArray();
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            this.cache = new KvCache(config.numLayers(), batchSize, config.numKvHeads(), config.headDim(),
                    promptLength, maxNewTokens, retained);
            this.decodeMask = Nd4j.create(decodeMaskValues(), new long[] {batchSize, 1, 1, 1, promptLength + maxNewTokens}, 'c');
            this.logits = Nd4j.create(DataType.FLOAT, batchSize, config.vocabSize());
            int maxRows = Math.max(batchSize, Math.min(batchSize * promptLength, HOST_MAX_ROWS));
            this.host = HostArrays.enabled() && HostArrays.view(logits) != null && HostArrays.view(decodeMask) != null
                    ? model.openHostPass(cache, maxRows) : null;
            this.hostLogits = host == null ? null : new float[batchSize * config.vocabSize()];
            if (host != null) {
                prefillOnHost(prompts);
            } else {
                prefill(prompts);
            }
        }
    }

    /**
     * The prompt pass on the host: positions in chunks of at most {@link HostPass#maxRows} rows over the
     * batch, in order (each chunk's rows see the cache the earlier chunks filled). Left padding is not
     * computed at all: its slots stay empty and outside every row's visible range.
     */
    private void prefillOnHost(int[][] prompts) {
        int[] allLayers = new int[model.config().numLayers()];
        Arrays.setAll(allLayers, l -> l);
        int[] firstVisible = firstVisibleSlots();
        int rows = host.maxRows();
        int[] tokens = new int[rows];
        int[] positions = new int[rows];
        int[] sequences = new int[rows];
        int[] slots = new int[rows];
        int[] logitsRows = new int[rows];
        int perChunk = Math.max(1, rows / batchSize);
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
                host.forward(n, tokens, positions, sequences, slots, firstVisible, allLayers, logitsRows, hostLogits);
            }
        }
        publishHostLogits();
    }

    /** Per row, the first cache slot holding a real token (the left padding before it). */
    private int[] firstVisibleSlots() {
        int[] first = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            first[b] = promptLength - promptLengths[b];
        }
        return first;
    }

    /** Copies the host pass's logits into the session's array, refusing non-finite values. */
    private void publishHostLogits() {
        for (float v : hostLogits) {
            if (!Float.isFinite(v)) {
                throw nonFiniteLogits();
            }
        }
        HostArrays.view(logits).put(0, hostLogits, 0, hostLogits.length);
        hostLogitsLatest = true;
    }

    private float[] decodeMaskValues() {
        int capacity = promptLength + maxNewTokens;
        float[] mask = new float[batchSize * capacity];
        Arrays.fill(mask, MASKED);
        for (int b = 0; b < batchSize; b++) {
            int pad = promptLength - promptLengths[b];
            Arrays.fill(mask, b * capacity + pad, b * capacity + promptLength, 0f);
        }
        return mask;
    }

    /** Runs all prompt tokens through every layer, filling every layer's cache (slots 0..P-1). */
    private void prefill(int[][] prompts) {
        int p = promptLength;
        int[] ids = new int[batchSize * p];      // padding uses token 0; the mask hides it
        int[] positions = new int[batchSize * p];
        float[] mask = new float[batchSize * p * p];
        Arrays.fill(mask, MASKED);
        for (int b = 0; b < batchSize; b++) {
            int pad = p - prompts[b].length;
            System.arraycopy(prompts[b], 0, ids, b * p + pad, prompts[b].length);
            for (int s = 0; s < p; s++) {
                positions[b * p + s] = Math.max(0, s - pad);
                for (int t = pad; t <= s; t++) {  // causal, and never a padding key
                    mask[(b * p + s) * p + t] = 0f;
                }
            }
        }
        INDArray maskArray = Nd4j.create(mask, new long[] {batchSize, 1, 1, p, p}, 'c');
        ForwardPass pass = new ForwardPass(batchSize, p, positions, cache, 0, true,
                model.attentionBias(maskArray, p), model.rotaryTables(positions));
        INDArray hidden = model.embed(ids);
        // Prefill temporaries scale with batch x prompt length: give them a workspace reset after every
        // layer (so peak memory is one layer's worth) and destroyed after the prompt pass.
        String prefillWorkspace = workspaceId + "-prefill";
        for (int layer = 0; layer < model.config().numLayers(); layer++) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WORKSPACE, prefillWorkspace)) {
                model.layer(layer, hidden, pass);
            }
        }
        Nd4j.getWorkspaceManager().getWorkspaceForCurrentThread(prefillWorkspace).destroyWorkspace();
        int[] lastRows = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            lastRows[b] = b * p + p - 1;
        }
        logits.assign(model.logits(Nd4j.pullRows(hidden, 1, lastRows)));
        requireFiniteLogits();
    }

    /**
     * Weights are checked to be finite at load, but finite weights can still overflow float32 (a
     * corrupted exponent, say). Reporting that here beats handing NaN to a sampler: one reduce op per step.
     */
    private void requireFiniteLogits() {
        if (Nd4j.getExecutioner().exec(new MatchCondition(logits, Conditions.notFinite())).getInt(0) > 0) {
            throw nonFiniteLogits();
        }
    }

    static SkipLlmException nonFiniteLogits() {
        return new SkipLlmException("the model produced non-finite logits (NaN or infinity): its weights overflow "
                + "float32 arithmetic");
    }

    /**
     * Feeds one token per row through the retained layers and returns the new logits {@code [B, vocab]}
     * (a buffer this session overwrites at the next call; copy what you keep).
     */
    public INDArray decode(int[] tokens) {
        return decode(tokens, () -> retainedLayers);
    }

    /**
     * Feeds one token per row through the layers a {@link StepPlan} chooses: the baselines' decode
     * step. The plan's layers must be retained layers of this session (only they have room in the
     * cache for response tokens).
     */
    public INDArray decode(int[] tokens, StepPlan plan) {
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
        int[] layers = plan.layers();
        for (int layer : layers) {
            if (!retained.contains(layer)) {
                throw new BadInputException("layer " + layer + " is not retained in this session " + retained
                        + ", so it has no cache room for response tokens");
            }
        }
        int slot = promptLength + step;
        int[] positions = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            positions[b] = promptLengths[b] + step;
        }
        if (host != null && !plan.inspectsHiddenStates()) {
            decodeOnHost(tokens, positions, slot, layers);
            step++;
            return logits;
        }
        decodeMask.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.point(slot)).assign(0f);
        hostLogitsLatest = false;

        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WORKSPACE, workspaceId)) {
            ForwardPass pass = new ForwardPass(batchSize, 1, positions, cache, slot, false,
                    model.attentionBias(decodeMask, promptLength + maxNewTokens), model.rotaryTables(positions));
            INDArray hidden = model.embed(tokens);
            int ran = 0;
            int last = -1;
            for (int layer : layers) {
                model.layer(layer, hidden, pass);
                ran++;
                last = layer;
                if (plan.exitAfter(layer, hidden, model)) {
                    break;
                }
            }
            if (plan.propagateSkippedKeysValues()) {
                for (int layer : retainedLayers) {
                    if (layer > last) {
                        model.storeKeysValues(layer, hidden, pass);
                    }
                }
            }
            lastStepLayers = ran;
            logits.assign(model.logits(hidden));
            requireFiniteLogits();
        }
        step++;
        return logits;
    }

    /** One decode step through the host pass: one row per sequence, each at the step's cache slot. */
    private void decodeOnHost(int[] tokens, int[] positions, int slot, int[] layers) {
        int[] sequences = new int[batchSize];
        int[] slots = new int[batchSize];
        Arrays.setAll(sequences, b -> b);
        Arrays.fill(slots, slot);
        // the ND4J path's mask learns the slot too, so that a later step on that path (an early-exit plan)
        // sees this token
        FloatBuffer mask = HostArrays.view(decodeMask);
        int capacity = promptLength + maxNewTokens;
        for (int b = 0; b < batchSize; b++) {
            mask.put(b * capacity + slot, 0f);
        }
        host.forward(batchSize, tokens, positions, sequences, slots, firstVisibleSlots(), layers, sequences,
                hostLogits);
        lastStepLayers = layers.length;
        publishHostLogits();
    }

    /** Whether steps run on the CPU host pass (else on ND4J arrays); plans that inspect hidden states never do. */
    public boolean usesHostPass() {
        return host != null;
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
        cache.reorderRows(sourceRows);
        System.arraycopy(lengths, 0, promptLengths, 0, batchSize);
        INDArray mask = decodeMask.reshape('c', true, batchSize, decodeMask.length() / batchSize);
        mask.assign(Nd4j.pullRows(mask, 1, sourceRows));
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
        if (hostLogitsLatest) {
            for (int b = 0; b < batchSize; b++) {
                System.arraycopy(hostLogits, b * vocab, rows[b], 0, vocab);
            }
            return rows;
        }
        float[][] matrix = logits.toFloatMatrix();
        for (int b = 0; b < batchSize; b++) {
            System.arraycopy(matrix[b], 0, rows[b], 0, vocab);
        }
        return rows;
    }

    /** Logits of the latest forward call, {@code [B, vocab]}: after prefill, those of each prompt's last token. */
    public INDArray logits() {
        return logits;
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

    public KvCache cache() {
        return cache;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cache.close();
            try {
                if (Nd4j.getWorkspaceManager().checkIfWorkspaceExists(workspaceId)) {
                    Nd4j.getWorkspaceManager().getWorkspaceForCurrentThread(workspaceId).destroyWorkspace();
                }
            } finally {
                onClose.run();
            }
        }
    }
}
