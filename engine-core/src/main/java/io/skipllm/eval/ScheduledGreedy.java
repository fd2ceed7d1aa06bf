package io.skipllm.eval;

import io.skipllm.model.DecodeSession;
import io.skipllm.model.Logits;
import io.skipllm.model.SkipAwareDecoder;
import java.util.Arrays;

/**
 * Greedy decoding for the policies the {@link io.skipllm.generation.Generator} does not take: those
 * whose layers change from step to step (SkipDecode) or row to row (early exit). The loop is the
 * generator's greedy search (argmax of the raw logits, first index on ties; a row stops at a stop
 * token, which it keeps, or after {@code maxNewTokens}; finished rows feed a filler token whose
 * outputs are ignored) with {@link SkipPolicy#stepPlan} choosing the layers of each decode step.
 */
final class ScheduledGreedy {

    private ScheduledGreedy() {
    }

    /**
     * @param tokens generated ids per row (a stop token that ended a row included)
     * @param layerSum layers run by the decode steps that produced a kept token, summed over rows
     * @param decodeTokens tokens produced by decode steps (every generated token but each row's first)
     * @param prefillMillis the full-depth prompt pass
     * @param decodeMillis the decode loop
     */
    record Output(int[][] tokens, long layerSum, long decodeTokens, double prefillMillis, double decodeMillis) {
    }

    static Output run(SkipAwareDecoder decoder, int[][] prompts, SkipPolicy policy, int maxNewTokens, int[] stopIds) {
        int rows = prompts.length;
        int[][] out = new int[rows][maxNewTokens];
        int[] length = new int[rows];
        boolean[] done = new boolean[rows];
        int filler = stopIds.length > 0 ? stopIds[0] : 0;
        long layerSum = 0;
        long decodeTokens = 0;
        long start = System.nanoTime();
        long prefillEnd;
        try (DecodeSession session = decoder.start(prompts, maxNewTokens, policy.sessionLayers())) {
            prefillEnd = System.nanoTime();
            float[][] matrix = null;
            for (int step = 0; step < maxNewTokens; step++) {
                matrix = session.logitsRows(matrix);
                int[] next = new int[rows];
                boolean anyRunning = false;
                for (int r = 0; r < rows; r++) {
                    if (done[r]) {
                        next[r] = filler;
                        continue;
                    }
                    if (step > 0) {
                        decodeTokens++;
                    }
                    int token = Logits.argmax(matrix[r]);
                    out[r][length[r]++] = token;
                    next[r] = token;
                    done[r] = step == maxNewTokens - 1 || contains(stopIds, token);
                    anyRunning |= !done[r];
                }
                if (!anyRunning) {
                    break;
                }
                session.step(next, policy.stepPlan(step));
                int ran = session.lastStepLayers();
                for (int r = 0; r < rows; r++) {
                    if (!done[r]) {  // this step yields the row's next token
                        layerSum += ran;
                    }
                }
            }
        }
        long end = System.nanoTime();
        int[][] tokens = new int[rows][];
        for (int r = 0; r < rows; r++) {
            tokens[r] = Arrays.copyOf(out[r], length[r]);
        }
        return new Output(tokens, layerSum, decodeTokens, (prefillEnd - start) / 1e6, (end - prefillEnd) / 1e6);
    }

    private static boolean contains(int[] ids, int token) {
        for (int id : ids) {
            if (id == token) {
                return true;
            }
        }
        return false;
    }
}
