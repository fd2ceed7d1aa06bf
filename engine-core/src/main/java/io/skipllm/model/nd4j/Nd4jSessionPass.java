package io.skipllm.model.nd4j;

import io.skipllm.kvcache.KvCache;
import io.skipllm.kvcache.Nd4jKvCache;
import io.skipllm.model.CausalLm;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.HiddenState;
import io.skipllm.model.ModelConfig;
import io.skipllm.model.SessionPass;
import io.skipllm.model.StepPlan;
import io.skipllm.planner.RetainedLayers;
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
 * A decode session on the nd4j forward pass: {@link CausalLm#layer} on ND4J arrays over an
 * {@link Nd4jKvCache}, rows left-padded to one rectangle and padding hidden by a mask. Temporaries live
 * in a per-session workspace that reuses its memory after the first step.
 */
public final class Nd4jSessionPass implements SessionPass {

    private static final AtomicLong IDS = new AtomicLong();
    private static final WorkspaceConfiguration WORKSPACE = WorkspaceConfiguration.builder()
            .initialSize(0)
            .policyAllocation(AllocationPolicy.OVERALLOCATE)
            .overallocationLimit(0.25)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    private final CausalLm model;
    private final int batchSize;
    private final int promptLength;
    private final int capacity;
    private final Nd4jKvCache cache;
    /** [B, 1, 1, 1, promptLength + maxNewTokens]: 0 where a decode step may attend, MASKED elsewhere. */
    private final INDArray decodeMask;
    /** [B, vocab]: logits of the latest forward call, outside any workspace. */
    private final INDArray logits;
    private final String workspaceId = "skipllm-decode-" + IDS.incrementAndGet();

    public Nd4jSessionPass(CausalLm model, int[][] prompts, int promptLength, int maxNewTokens, RetainedLayers retained) {
        ModelConfig config = model.config();
        this.model = model;
        this.batchSize = prompts.length;
        this.promptLength = promptLength;
        this.capacity = promptLength + maxNewTokens;
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            this.cache = new Nd4jKvCache(config.numLayers(), batchSize, config.numKvHeads(), config.headDim(),
                    promptLength, maxNewTokens, retained);
            float[] mask = new float[batchSize * capacity];
            Arrays.fill(mask, CachedAttention.MASKED);
            for (int b = 0; b < batchSize; b++) {
                Arrays.fill(mask, b * capacity + promptLength - prompts[b].length, b * capacity + promptLength, 0f);
            }
            this.decodeMask = Nd4j.create(mask, new long[] {batchSize, 1, 1, 1, capacity}, 'c');
            this.logits = Nd4j.create(DataType.FLOAT, batchSize, config.vocabSize());
        }
    }

    /** Runs all prompt tokens through every layer, filling every layer's cache (slots 0..P-1). */
    @Override
    public void prefill(int[][] prompts) {
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            int p = promptLength;
            int[] ids = new int[batchSize * p];      // padding uses token 0; the mask hides it
            int[] positions = new int[batchSize * p];
            float[] mask = new float[batchSize * p * p];
            Arrays.fill(mask, CachedAttention.MASKED);
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
                try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WORKSPACE, prefillWorkspace)) {
                    model.layer(layer, hidden, pass);
                }
            }
            Nd4j.getWorkspaceManager().getWorkspaceForCurrentThread(prefillWorkspace).destroyWorkspace();
            int[] lastRows = new int[batchSize];
            for (int b = 0; b < batchSize; b++) {
                lastRows[b] = b * p + p - 1;
            }
            logits.assign(model.logits(Nd4j.pullRows(hidden, 1, lastRows)));
            requireFinite();
        }
    }

    @Override
    public int decode(int[] tokens, int[] positions, int[] firstVisible, int slot, StepPlan plan, int[] fillAfterExit) {
        decodeMask.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.point(slot)).assign(0f);
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WORKSPACE, workspaceId)) {
            ForwardPass pass = new ForwardPass(batchSize, 1, positions, cache, slot, false,
                    model.attentionBias(decodeMask, capacity), model.rotaryTables(positions));
            INDArray hidden = model.embed(tokens);
            HiddenState state = new HiddenState() {
                @Override
                public int rows() {
                    return batchSize;
                }

                @Override
                public float[] logits() {
                    return model.logits(hidden).data().asFloat();
                }
            };
            int ran = 0;
            int last = -1;
            for (int layer : plan.layers()) {
                model.layer(layer, hidden, pass);
                ran++;
                last = layer;
                if (plan.exitAfter(layer, state)) {
                    break;
                }
            }
            if (fillAfterExit != null) {
                for (int layer : fillAfterExit) {
                    if (layer > last) {
                        model.storeKeysValues(layer, hidden, pass);
                    }
                }
            }
            logits.assign(model.logits(hidden));
            requireFinite();
            return ran;
        }
    }

    /** As the host pass's check, as one reduce op (the logits live in ND4J memory, on the device under CUDA). */
    private void requireFinite() {
        if (Nd4j.getExecutioner().exec(new MatchCondition(logits, Conditions.notFinite())).getInt(0) > 0) {
            throw DecodeSession.nonFiniteLogits();
        }
    }

    @Override
    public float[] logits() {
        return logits.data().asFloat();
    }

    @Override
    public INDArray logitsArray() {
        return logits;
    }

    @Override
    public void reorderRows(int[] sourceRows) {
        cache.reorderRows(sourceRows);
        INDArray mask = decodeMask.reshape('c', true, batchSize, decodeMask.length() / batchSize);
        mask.assign(Nd4j.pullRows(mask, 1, sourceRows));
    }

    @Override
    public KvCache cache() {
        return cache;
    }

    @Override
    public void close() {
        try {
            cache.close();
        } finally {
            if (Nd4j.getWorkspaceManager().checkIfWorkspaceExists(workspaceId)) {
                Nd4j.getWorkspaceManager().getWorkspaceForCurrentThread(workspaceId).destroyWorkspace();
            }
        }
    }
}
