package io.skipllm.planner;

import io.skipllm.BadInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Turns (number of layers N, target speedup r, strategy) into the set of layers that response tokens
 * run through. Input-independent by design: every token of every request at the same (N, r) uses the
 * same set, which is what lets batching, the KV cache and beam search work unchanged.
 *
 * <h2>Unified Layer Skipping (paper Algorithm 1)</h2>
 * The paper's pseudo-code adds layer i when {@code i mod r == 0}; that does not reproduce the paper's
 * own Table 2 at 5x (it would give {0,5,10,15,20,29}, not {0,6,12,18,24,29}). We follow the authors'
 * released code ({@code run_clm_llms.py}), which does:
 * <pre>
 *   S = {0, N-1}
 *   M = floor(N / r)                  number of layers to keep
 *   interval = floor(N / (M - 1))
 *   for i = 1 .. N-2: if i % interval == 0 and |S| &lt; M: add i
 * </pre>
 * This reproduces every unified row of Table 2 (N=30: 2x, 3x, 5x) and the layer counts of Table 6
 * (N=40: 2x-&gt;20, 3x-&gt;13, 4x-&gt;10, 5x-&gt;8, 10x-&gt;4). The first and the last layer are always kept,
 * so when {@code M < 2} the result is {0, N-1} (just {0} for a one-layer model). Non-integer speedups
 * work the same way (the released code only accepts integers).
 *
 * <h2>Top and bottom</h2>
 * {@code top} keeps layers 0..M-1 (the static form of early exit), {@code bottom} keeps N-M..N-1 (the
 * static form of SkipDecode's choice); both keep at least one layer.
 */
public final class LayerSkipPlanner {

    private LayerSkipPlanner() {
    }

    /**
     * The retained layers for a strategy.
     *
     * @param numLayers N, the model's number of layers (>= 1)
     * @param speedup r, the target speedup (finite, >= 1); ignored by {@link SkipStrategy#FULL}
     */
    public static RetainedLayers plan(SkipStrategy strategy, int numLayers, double speedup) {
        if (strategy == null) {
            throw new BadInputException("strategy must not be null");
        }
        requireValid(numLayers, speedup);
        return switch (strategy) {
            case FULL -> RetainedLayers.all(numLayers);
            case UNIFIED -> unified(numLayers, speedup);
            case TOP -> RetainedLayers.of(IntStream.range(0, Math.max(1, targetLayerCount(numLayers, speedup))).toArray());
            case BOTTOM -> {
                int keep = Math.max(1, targetLayerCount(numLayers, speedup));
                yield RetainedLayers.of(IntStream.range(numLayers - keep, numLayers).toArray());
            }
        };
    }

    /** Unified Layer Skipping as the authors' code computes it (see the class comment). */
    public static RetainedLayers unified(int numLayers, double speedup) {
        requireValid(numLayers, speedup);
        if (numLayers == 1) {
            return RetainedLayers.of(0);
        }
        int keep = targetLayerCount(numLayers, speedup);
        List<Integer> retained = new ArrayList<>(List.of(0, numLayers - 1));
        if (keep >= 3) { // with keep <= 2 only the first and last layer remain
            int interval = numLayers / (keep - 1);
            for (int i = 1; i <= numLayers - 2; i++) {
                if (i % interval == 0 && retained.size() < keep) {
                    retained.add(i);
                }
            }
        }
        return RetainedLayers.of(retained.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * An explicit, user-given list of layers, validated against the model's depth.
     *
     * @throws BadInputException for an empty list, duplicates, or a layer outside 0..N-1
     */
    public static RetainedLayers explicit(int numLayers, int... layers) {
        if (numLayers < 1) {
            throw new BadInputException("number of layers must be >= 1, got " + numLayers);
        }
        return RetainedLayers.of(layers).requireWithin(numLayers);
    }

    /** M = floor(N / r): how many layers a target speedup r leaves of N. */
    public static int targetLayerCount(int numLayers, double speedup) {
        requireValid(numLayers, speedup);
        return (int) Math.floor(numLayers / speedup);
    }

    private static void requireValid(int numLayers, double speedup) {
        if (numLayers < 1) {
            throw new BadInputException("number of layers must be >= 1, got " + numLayers);
        }
        if (Double.isNaN(speedup) || Double.isInfinite(speedup)) {
            throw new BadInputException("speedup must be a finite number >= 1, got " + speedup);
        }
        if (speedup < 1.0) {
            throw new BadInputException("speedup must be >= 1 (1 keeps every layer), got " + speedup);
        }
    }
}
