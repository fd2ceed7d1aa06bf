package io.skipllm.eval;

import io.skipllm.BadInputException;
import io.skipllm.baselines.EarlyExit;
import io.skipllm.baselines.SkipDecodeSchedule;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The strategy names of an evaluation (CONTRACTS.md's names plus {@code greedy}) and the
 * {@link SkipPolicy} each gives at a target speedup r on an N-layer model:
 *
 * <ul>
 *   <li>{@code full}: every layer (one row, speedup 1);
 *   <li>{@code unified}, {@code top}, {@code bottom}: the planner's sets ({@link LayerSkipPlanner});
 *   <li>{@code greedy}: the greedy-searched set with as many layers as unified keeps at r
 *       ({@link GreedyLayerSearch});
 *   <li>{@code skipdecode}: {@link SkipDecodeSchedule#forTarget} over the max new tokens, so a response
 *       that stops early ran deeper on average than N / r (the paper's Table 3 shows the same);
 *   <li>{@code early-exit}: {@link EarlyExit#calibrate calibrated} to a mean depth of N / r on one
 *       full-depth greedy generation from the calibration prompt (the first dev example when there is a
 *       dev set, else the first evaluated example); decodes one example at a time;
 *   <li>{@code self-speculative}: lossless decoding that drafts through unified's set at r and verifies
 *       at full depth ({@link SkipPolicy.SelfSpeculative}); one row per draft length; greedy only.
 * </ul>
 */
final class Strategies {

    static final String SELF_SPECULATIVE = "self-speculative";

    static final List<String> NAMES = List.of("full", "unified", "top", "bottom", "greedy", "skipdecode", "early-exit",
            SELF_SPECULATIVE);

    private final SkipAwareDecoder decoder;
    private final int numLayers;
    private final GreedyLayerSearch.Result greedy;
    private final int[] calibrationPrompt;
    private final int maxNewTokens;

    Strategies(SkipAwareDecoder decoder, GreedyLayerSearch.Result greedy, int[] calibrationPrompt, int maxNewTokens) {
        this.decoder = decoder;
        this.numLayers = decoder.model().config().numLayers();
        this.greedy = greedy;
        this.calibrationPrompt = calibrationPrompt;
        this.maxNewTokens = maxNewTokens;
    }

    /** Unknown or repeated names are usage errors. */
    static void requireValid(List<String> strategies) {
        if (strategies.isEmpty()) {
            throw new BadInputException("--strategies: the list is empty");
        }
        Set<String> seen = new HashSet<>();
        for (String s : strategies) {
            if (!NAMES.contains(s)) {
                throw new BadInputException("--strategies: unknown strategy '" + s + "'; expected some of "
                        + String.join(", ", NAMES));
            }
            if (!seen.add(s)) {
                throw new BadInputException("--strategies: '" + s + "' is listed twice");
            }
        }
    }

    /** Dynamic policies cannot run in the generator's beam search (its layers are one set for every step). */
    static boolean isDynamic(String strategy) {
        return strategy.equals("skipdecode") || strategy.equals("early-exit");
    }

    /** Strategies that generate with beam search too (fixed layer sets); the others are greedy only. */
    static boolean supportsBeams(String strategy) {
        return !isDynamic(strategy) && !strategy.equals(SELF_SPECULATIVE);
    }

    /** The number of layers the greedy search must reach for speedup r: what unified keeps. */
    static int greedyTargetSize(int numLayers, double speedup) {
        return LayerSkipPlanner.unified(numLayers, speedup).size();
    }

    /** The policy; {@code draftTokens} matters only to {@code self-speculative}. */
    SkipPolicy policy(String strategy, double speedup, int draftTokens) {
        return switch (strategy) {
            case "full" -> SkipPolicy.fixed(RetainedLayers.all(numLayers));
            case "unified", "top", "bottom" ->
                    SkipPolicy.fixed(LayerSkipPlanner.plan(SkipStrategy.fromName(strategy), numLayers, speedup));
            case "greedy" -> SkipPolicy.fixed(greedy.setOfSize(greedyTargetSize(numLayers, speedup)));
            case "skipdecode" -> new SkipPolicy.SkipDecode(SkipDecodeSchedule.forTarget(numLayers, speedup, maxNewTokens));
            case "early-exit" -> {
                int tokens = Math.max(1, Math.min(maxNewTokens,
                        decoder.model().config().maxPositions() - calibrationPrompt.length));
                yield new SkipPolicy.EarlyExiting(EarlyExit.calibrate(decoder, calibrationPrompt, tokens, speedup),
                        numLayers);
            }
            case SELF_SPECULATIVE -> new SkipPolicy.SelfSpeculative(
                    LayerSkipPlanner.plan(SkipStrategy.UNIFIED, numLayers, speedup), numLayers, draftTokens);
            default -> throw new BadInputException("unknown strategy '" + strategy + "'");
        };
    }
}
