package io.skipllm.baselines;

import io.skipllm.BadInputException;
import io.skipllm.model.StepPlan;
import io.skipllm.planner.RetainedLayers;
import java.util.stream.IntStream;

/**
 * SkipDecode (Del Corro et al. 2023) as a fixed, position-dependent schedule: the number of layers a
 * generated token runs decreases linearly with its position, from {@code maxLayers} at the first
 * generated token to {@code minLayers} at the last, the same for every row of the batch. It skips
 * the <em>bottom</em> layers and always runs the top ones, plus {@code warmupLayers} layers at the very
 * bottom (the paper's small always-executed warm-up block). Because the depth only decreases and
 * layers are dropped from the bottom of the top block, every layer a token runs was run by all
 * earlier tokens: batching and the KV cache work without recomputation.
 *
 * <p>Bounds from a target speedup r (our choice; the paper sets them by hand): the mean depth over
 * the schedule is {@code N / r}, with a spread of {@code min(N - N/r, N/r - warmup - 1, N/(2r))} on
 * each side. When generation stops before the schedule ends, the mean activated depth is higher than
 * the target (the paper's Table 3 shows the same), which is why {@link #meanLayers(int)} exists.
 */
public final class SkipDecodeSchedule {

    private final int numLayers;
    private final int warmupLayers;
    private final int maxLayers;
    private final int minLayers;
    private final int length;

    public SkipDecodeSchedule(int numLayers, int maxLayers, int minLayers, int length, int warmupLayers) {
        if (numLayers < 1 || length < 1 || warmupLayers < 0) {
            throw new BadInputException("SkipDecode: layers, length must be >= 1 and warm-up >= 0");
        }
        if (minLayers < Math.min(numLayers, warmupLayers + 1) || maxLayers < minLayers || maxLayers > numLayers) {
            throw new BadInputException("SkipDecode: need warm-up + 1 <= min (" + minLayers + ") <= max ("
                    + maxLayers + ") <= " + numLayers + " layers");
        }
        this.numLayers = numLayers;
        this.warmupLayers = Math.min(warmupLayers, numLayers - 1);
        this.maxLayers = maxLayers;
        this.minLayers = minLayers;
        this.length = length;
    }

    /** A schedule over {@code length} generated tokens whose mean depth is {@code numLayers / speedup}. */
    public static SkipDecodeSchedule forTarget(int numLayers, double speedup, int length) {
        if (!(speedup >= 1) || Double.isInfinite(speedup)) {
            throw new BadInputException("SkipDecode: speedup must be a finite number >= 1, got " + speedup);
        }
        int warmup = numLayers > 2 ? 1 : 0;
        double target = Math.max(warmup + 1, numLayers / speedup);
        double spread = Math.max(0, Math.min(Math.min(numLayers - target, target - warmup - 1), target / 2));
        int max = (int) Math.min(numLayers, Math.round(target + spread));
        int min = (int) Math.max(Math.min(numLayers, warmup + 1), Math.round(target - spread));
        return new SkipDecodeSchedule(numLayers, max, Math.min(min, max), length, warmup);
    }

    /** Layers run by the generated token at position {@code t} (0-based), linear from max to min. */
    public int depthAt(int t) {
        if (length == 1) {
            return maxLayers;
        }
        double fraction = Math.min(1.0, (double) t / (length - 1));
        return (int) Math.max(minLayers, Math.round(maxLayers - (maxLayers - minLayers) * fraction));
    }

    /** The layers of position t: the warm-up block at the bottom and the top {@code depth - warmup}. */
    public int[] layersAt(int t) {
        int depth = depthAt(t);
        int top = depth - warmupLayers;
        return IntStream.concat(IntStream.range(0, warmupLayers), IntStream.range(numLayers - top, numLayers)).toArray();
    }

    /** Every layer any token runs: those of the first position (the depth only decreases). */
    public RetainedLayers cacheLayers() {
        return RetainedLayers.of(layersAt(0));
    }

    public StepPlan planAt(int t) {
        int[] layers = layersAt(t);
        return () -> layers;
    }

    /** Mean depth over the first {@code generated} tokens. */
    public double meanLayers(int generated) {
        return IntStream.range(0, generated).map(this::depthAt).average().orElse(0);
    }

    public int maxLayers() {
        return maxLayers;
    }

    public int minLayers() {
        return minLayers;
    }

    public int warmupLayers() {
        return warmupLayers;
    }
}
