package io.skipllm.baselines;

import io.skipllm.BadInputException;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.HiddenState;
import io.skipllm.model.Logits;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.model.StepPlan;
import io.skipllm.planner.RetainedLayers;
import java.util.Arrays;
import java.util.stream.DoubleStream;
import java.util.stream.IntStream;

/**
 * Confidence-based early exit (CALM / LITE style): a generated token leaves the network after the
 * first layer whose intermediate prediction (final norm + LM head on the hidden state there) gives
 * its top token a probability of at least {@code threshold}. The layers it skipped still receive its
 * keys and values, computed from the exit hidden state (CALM's state propagation), so later tokens
 * that go deeper find every slot filled.
 *
 * <p>Batch size 1 only, as in the paper: rows of a batch would exit at different layers. Each
 * intermediate prediction costs an LM-head matmul, the overhead that makes early exit slower than its
 * layer count suggests.
 */
public final class EarlyExit {

    private final double threshold;

    public EarlyExit(double threshold) {
        if (!(threshold > 0 && threshold <= 1)) {
            throw new BadInputException("early exit: threshold must be in (0, 1], got " + threshold);
        }
        this.threshold = threshold;
    }

    public double threshold() {
        return threshold;
    }

    /** The step plan over all {@code numLayers} layers, exiting when confident. */
    public StepPlan plan(int numLayers) {
        int[] all = IntStream.range(0, numLayers).toArray();
        int last = numLayers - 1;
        return new StepPlan() {
            @Override
            public int[] layers() {
                return all;
            }

            @Override
            public boolean exitAfter(int layer, HiddenState hidden) {
                if (hidden.rows() != 1) {
                    throw new BadInputException("early exit supports batch size 1 only, got " + hidden.rows());
                }
                return layer < last && topProbability(hidden.logits()) >= threshold;
            }

            @Override
            public boolean propagateSkippedKeysValues() {
                return true;
            }
        };
    }

    /** Probability of the most likely token, {@code exp(max - logsumexp)}, for one row of logits. */
    static double topProbability(float[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : row) {
            sum += Math.exp(v - max);
        }
        return 1.0 / sum;
    }

    /**
     * Chooses the threshold whose mean exit depth on a calibration run is closest to
     * {@code numLayers / speedup}: one full-depth greedy generation records every layer's confidence
     * for every token, and the threshold is picked among those values.
     */
    public static EarlyExit calibrate(SkipAwareDecoder decoder, int[] prompt, int tokens, double speedup) {
        int layers = decoder.model().config().numLayers();
        double[][] confidence = new double[tokens][layers];
        StepPlan recorder = new StepPlan() {
            int step;
            final int[] all = IntStream.range(0, layers).toArray();

            @Override
            public int[] layers() {
                return all;
            }

            @Override
            public boolean exitAfter(int layer, HiddenState hidden) {
                confidence[step][layer] = topProbability(hidden.logits());
                if (layer == layers - 1) {
                    step++;
                }
                return false;
            }
        };
        try (DecodeSession session = decoder.start(new int[][] {prompt}, tokens, RetainedLayers.all(layers))) {
            float[][] logits = session.logitsRows(null);
            for (int t = 0; t < tokens; t++) {
                session.step(new int[] {Logits.argmax(logits[0])}, recorder);
                logits = session.logitsRows(logits);
            }
        }
        double target = layers / speedup;
        // every recorded confidence is a threshold worth trying, and so is 1.0 (never exit early)
        double[] candidates = DoubleStream.concat(
                Arrays.stream(confidence).flatMapToDouble(Arrays::stream), DoubleStream.of(1.0))
                .distinct().sorted().toArray();
        double best = 1.0;
        double bestGap = Double.MAX_VALUE;
        for (double c : candidates) {
            if (c <= 0) {
                continue;
            }
            double gap = Math.abs(meanDepth(confidence, c) - target);
            if (gap < bestGap) {
                bestGap = gap;
                best = c;
            }
        }
        return new EarlyExit(Math.min(1.0, best));
    }

    private static double meanDepth(double[][] confidence, double threshold) {
        double total = 0;
        for (double[] token : confidence) {
            int depth = token.length;
            for (int l = 0; l < token.length - 1; l++) {
                if (token[l] >= threshold) {
                    depth = l + 1;
                    break;
                }
            }
            total += depth;
        }
        return total / confidence.length;
    }
}
