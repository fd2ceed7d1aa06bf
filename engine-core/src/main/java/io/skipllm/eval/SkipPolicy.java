package io.skipllm.eval;

import io.skipllm.baselines.EarlyExit;
import io.skipllm.baselines.SkipDecodeSchedule;
import io.skipllm.model.StepPlan;
import io.skipllm.planner.RetainedLayers;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which layers the response tokens of an evaluation run through: a fixed retained set (full,
 * unified, top, bottom, greedy-searched), SkipDecode's position-dependent schedule, early exit's
 * confidence-dependent depth, or lossless self-speculative decoding (drafts through a retained set,
 * every kept token the full network's). The prompt always runs every layer, whatever the policy.
 *
 * <p>Decode step {@code t} is the forward pass that feeds generated (or, teacher-forced, response)
 * token {@code t} and yields the logits of token {@code t + 1}; token 0 is predicted from the
 * full-depth prompt pass.
 */
public sealed interface SkipPolicy {

    /** The layers that get cache room for response tokens: the decode session's retained set. */
    RetainedLayers sessionLayers();

    /** The layers decode step {@code t} may run. */
    StepPlan stepPlan(int t);

    /** The set every response token runs, or null when the depth varies per token. */
    RetainedLayers fixedLayers();

    /** The largest batch the policy can decode (early exit decides per row, so 1). */
    int maxBatch();

    /** What the report shows about a dynamic policy (schedule bounds, threshold); empty for fixed sets. */
    Map<String, Object> details();

    static SkipPolicy fixed(RetainedLayers layers) {
        return new Fixed(layers);
    }

    /** A static retained set: every response token runs the same layers (Unified Layer Skipping and friends). */
    record Fixed(RetainedLayers layers) implements SkipPolicy {
        @Override
        public RetainedLayers sessionLayers() {
            return layers;
        }

        @Override
        public StepPlan stepPlan(int t) {
            int[] indices = layers.indices();
            return () -> indices;
        }

        @Override
        public RetainedLayers fixedLayers() {
            return layers;
        }

        @Override
        public int maxBatch() {
            return Integer.MAX_VALUE;
        }

        @Override
        public Map<String, Object> details() {
            return Map.of();
        }
    }

    /** SkipDecode: step t runs {@link SkipDecodeSchedule#layersAt(int)}; batches work (same depth for every row). */
    record SkipDecode(SkipDecodeSchedule schedule) implements SkipPolicy {
        @Override
        public RetainedLayers sessionLayers() {
            return schedule.cacheLayers();
        }

        @Override
        public StepPlan stepPlan(int t) {
            return schedule.planAt(t);
        }

        @Override
        public RetainedLayers fixedLayers() {
            return null;
        }

        @Override
        public int maxBatch() {
            return Integer.MAX_VALUE;
        }

        @Override
        public Map<String, Object> details() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("max_layers", schedule.maxLayers());
            m.put("min_layers", schedule.minLayers());
            m.put("warmup_layers", schedule.warmupLayers());
            return m;
        }
    }

    /**
     * Lossless self-speculative decoding: {@code draftLayers} draft {@code draftTokens} tokens per round,
     * every layer verifies them, so each generated token is the full network's (greedy: token-identical
     * to full depth). Its decode steps, as far as the teacher-forced loss and the cache are concerned,
     * run every layer; generation goes through the {@link io.skipllm.generation.Generator}'s lossless
     * mode (greedy only, no beam search).
     */
    record SelfSpeculative(RetainedLayers draftLayers, int numLayers, int draftTokens) implements SkipPolicy {
        /** What the cache and the teacher-forced loss see: full depth. */
        private Fixed verification() {
            return new Fixed(RetainedLayers.all(numLayers));
        }

        @Override
        public RetainedLayers sessionLayers() {
            return verification().sessionLayers();
        }

        @Override
        public StepPlan stepPlan(int t) {
            return verification().stepPlan(t);
        }

        /** Null: the layers differ between drafting and verification. */
        @Override
        public RetainedLayers fixedLayers() {
            return null;
        }

        @Override
        public int maxBatch() {
            return Integer.MAX_VALUE;
        }

        @Override
        public Map<String, Object> details() {
            return Map.of();
        }
    }

    /** Early exit (CALM/LITE style) over all layers, with state propagation; batch size 1. */
    record EarlyExiting(EarlyExit exit, int numLayers) implements SkipPolicy {
        @Override
        public RetainedLayers sessionLayers() {
            return RetainedLayers.all(numLayers);
        }

        @Override
        public StepPlan stepPlan(int t) {
            return exit.plan(numLayers);
        }

        @Override
        public RetainedLayers fixedLayers() {
            return null;
        }

        @Override
        public int maxBatch() {
            return 1;
        }

        @Override
        public Map<String, Object> details() {
            return Map.of("threshold", exit.threshold());
        }
    }
}
