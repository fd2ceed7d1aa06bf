package io.skipllm.generation;

import io.skipllm.model.SequenceBatch;
import io.skipllm.model.SkipAwareDecoder;
import java.util.List;

/**
 * Lossless mode ({@link GenerationConfig#lossless()}): greedy search or sampling whose tokens are the
 * full network's, drafted by the plan's retained layers and verified at full depth (see
 * {@link SequenceDecoding}). Rows are independent sequences ({@link SequenceBatch}), so each accepts
 * its own number of drafts per round. The cache gives every layer room for the response, not only the
 * retained ones: verification writes every layer's keys and values. CPU host pass only.
 */
final class SelfSpeculativeSearch {

    private final SkipAwareDecoder decoder;
    private final Request request;

    SelfSpeculativeSearch(SkipAwareDecoder decoder, Request request) {
        this.decoder = decoder;
        this.request = request;
    }

    List<GenerationResult> run(Cancellation cancellation) {
        GenerationConfig config = request.config();
        int perPrompt = config.doSample() ? config.numReturnSequences() : 1;
        int[][] prompts = request.prompts();
        GenerationRow[] rows = new GenerationRow[prompts.length * perPrompt];
        int longest = 0;
        for (int b = 0; b < prompts.length; b++) {
            longest = Math.max(longest, prompts[b].length);
            for (int r = 0; r < perPrompt; r++) {
                rows[b * perPrompt + r] = new GenerationRow(request, b, r, 0);
            }
        }
        // drafts never reach past the last new token (SequenceDecoding caps them), so this is enough
        try (SequenceBatch batch = decoder.openSequences(rows.length, longest + config.maxNewTokens())) {
            SequenceDecoding decoding = new SequenceDecoding(batch, request, rows);
            GenerationResult.Timing timing = decoding.run(cancellation);
            return GreedyOrSamplingSearch.results(request, rows, perPrompt, timing, decoding.speculation());
        }
    }
}
