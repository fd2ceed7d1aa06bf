package io.skipllm.generation;

import io.skipllm.model.DecodeSession;
import io.skipllm.model.SkipAwareDecoder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Greedy search and multinomial sampling: one token per sequence per step, all sequences of the
 * request in one batch. Sampling with {@code numReturnSequences = R} decodes each prompt R times
 * (rows {@code b*R .. b*R+R-1}), each with its own random stream. A finished row keeps feeding a
 * filler token until every row is done (the batch stays rectangular); its outputs are ignored.
 */
final class GreedyOrSamplingSearch {

    private final SkipAwareDecoder decoder;
    private final Request request;

    GreedyOrSamplingSearch(SkipAwareDecoder decoder, Request request) {
        this.decoder = decoder;
        this.request = request;
    }

    List<GenerationResult> run() {
        return run(Cancellation.NEVER);
    }

    List<GenerationResult> run(Cancellation cancellation) {
        GenerationConfig config = request.config();
        int perPrompt = config.doSample() ? config.numReturnSequences() : 1;
        int[][] prompts = request.prompts();
        GenerationRow[] rows = new GenerationRow[prompts.length * perPrompt];
        int[][] rowPrompts = new int[rows.length][];
        for (int b = 0; b < prompts.length; b++) {
            for (int r = 0; r < perPrompt; r++) {
                int row = b * perPrompt + r;
                rowPrompts[row] = prompts[b];
                rows[row] = new GenerationRow(request, b, r, 0);
            }
        }

        int maxNew = config.maxNewTokens();
        long start = System.nanoTime();
        long decodeTokens = 0;
        long prefillEnd;
        try (DecodeSession session = decoder.start(rowPrompts, maxNew, request.retained())) {
            prefillEnd = System.nanoTime();
            float[][] matrix = null;
            for (int step = 0; step < maxNew; step++) {
                // Before anything of this step is chosen or streamed; try-with-resources closes the session.
                cancellation.throwIfCancelled(session.steps());
                matrix = session.logitsRows(matrix);
                int[] next = new int[rows.length];
                boolean anyRunning = false;
                for (int i = 0; i < rows.length; i++) {
                    GenerationRow row = rows[i];
                    if (row.done) {
                        next[i] = request.fillerToken();
                        continue;
                    }
                    if (step > 0) {
                        decodeTokens++;
                    }
                    int token = row.choose(matrix[i]);
                    next[i] = token;
                    row.append(token, step == maxNew - 1);
                    anyRunning |= !row.done;
                }
                if (!anyRunning) {
                    break;
                }
                session.step(next, session::retainedIndices);
            }
        }
        long end = System.nanoTime();
        GenerationResult.Timing timing = new GenerationResult.Timing((prefillEnd - start) / 1e6,
                (end - prefillEnd) / 1e6, decodeTokens);
        return results(request, rows, perPrompt, timing, null);
    }

    /** One result per prompt: its rows' hypotheses, best first. */
    static List<GenerationResult> results(Request request, GenerationRow[] rows, int perPrompt,
            GenerationResult.Timing timing, GenerationResult.Speculation speculation) {
        List<GenerationResult> results = new ArrayList<>();
        for (int b = 0; b < request.prompts().length; b++) {
            List<Hypothesis> hypotheses = new ArrayList<>();
            for (int r = 0; r < perPrompt; r++) {
                hypotheses.add(rows[b * perPrompt + r].hypothesis());
            }
            hypotheses.sort(Comparator.comparingDouble(Hypothesis::score).reversed()); // stable: ties keep order
            results.add(new GenerationResult(hypotheses, request.retained(), request.model().numLayers(),
                    request.prompts()[b].length, timing, speculation));
        }
        return results;
    }
}
