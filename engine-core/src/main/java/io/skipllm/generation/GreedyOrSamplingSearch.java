package io.skipllm.generation;

import io.skipllm.model.DecodeSession;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.tokenizer.StreamingDecoder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

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

    /** A row's state: its sequence (prompt, then generated tokens) and the log-probability so far. */
    private static final class Row {
        final int prompt;
        final int sequence;
        final int[] tokens;
        final int promptLength;
        int length;
        double logprob;
        boolean done;
        final SplittableRandom random;
        final StreamingDecoder text;

        Row(int prompt, int sequence, int[] tokens, int promptLength, SplittableRandom random, StreamingDecoder text) {
            this.prompt = prompt;
            this.sequence = sequence;
            this.tokens = tokens;
            this.promptLength = promptLength;
            this.length = promptLength;
            this.random = random;
            this.text = text;
        }

        int[] generated() {
            return Arrays.copyOfRange(tokens, promptLength, length);
        }
    }

    List<GenerationResult> run() {
        return run(Cancellation.NEVER);
    }

    List<GenerationResult> run(Cancellation cancellation) {
        GenerationConfig config = request.config();
        int perPrompt = config.doSample() ? config.numReturnSequences() : 1;
        int[][] prompts = request.prompts();
        Row[] rows = new Row[prompts.length * perPrompt];
        int[][] rowPrompts = new int[rows.length][];
        boolean needText = request.codec() != null && (request.listener() != null || request.hasStopStrings());
        for (int b = 0; b < prompts.length; b++) {
            for (int r = 0; r < perPrompt; r++) {
                int row = b * perPrompt + r;
                rowPrompts[row] = prompts[b];
                rows[row] = new Row(b, r, request.sequenceBuffer(b), prompts[b].length,
                        config.doSample() ? Sampler.random(request.seed(), prompts[b], r) : null,
                        needText ? StreamingDecoder.over(request.codec()::decode) : null);
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
                    Row row = rows[i];
                    if (row.done) {
                        next[i] = request.fillerToken();
                        continue;
                    }
                    if (step > 0) {
                        decodeTokens++;
                    }
                    int token = choose(row, matrix[i]);
                    next[i] = token;
                    append(row, token, step == maxNew - 1);
                    anyRunning |= !row.done;
                }
                if (!anyRunning) {
                    break;
                }
                session.decode(next);
            }
        }
        long end = System.nanoTime();
        GenerationResult.Timing timing = new GenerationResult.Timing((prefillEnd - start) / 1e6,
                (end - prefillEnd) / 1e6, decodeTokens);
        return results(rows, perPrompt, timing);
    }

    /** Picks the next token of a row from its raw logits and adds its log-probability. */
    private int choose(Row row, float[] logits) {
        double[] logprobs = LogitsProcessors.logSoftmax(logits);
        int token;
        if (request.processors().isIdentity() && !request.config().doSample()) {
            token = LogitsProcessors.argmax(logprobs);
        } else {
            double[] scores = new double[logits.length];
            for (int v = 0; v < logits.length; v++) {
                scores[v] = logits[v];
            }
            request.processors().process(scores, row.tokens, row.length);
            if (!LogitsProcessors.anyFinite(scores)) {
                scores = logprobs; // every token banned (only in tiny vocabularies): fall back to the model
            }
            token = request.config().doSample() ? Sampler.sample(scores, row.random) : LogitsProcessors.argmax(scores);
        }
        row.logprob += logprobs[token];
        return token;
    }

    /** Appends a token, decides whether the row is done and streams it. */
    private void append(Row row, int token, boolean lastStep) {
        row.tokens[row.length++] = token;
        String fragment = null;
        if (row.text != null) {
            fragment = row.text.push(token);
        }
        row.done = lastStep || request.isStopToken(token)
                || (row.text != null && request.hasStopStrings() && request.hitsStopString(row.text.text()));
        if (request.listener() != null) {
            if (row.text != null && row.done) {
                fragment += row.text.flush();
            }
            request.listener().onToken(row.prompt, row.sequence, token, fragment);
        }
    }

    private List<GenerationResult> results(Row[] rows, int perPrompt, GenerationResult.Timing timing) {
        double lengthPenalty = request.config().lengthPenalty();
        List<GenerationResult> results = new ArrayList<>();
        for (int b = 0; b < request.prompts().length; b++) {
            List<Hypothesis> hypotheses = new ArrayList<>();
            for (int r = 0; r < perPrompt; r++) {
                Row row = rows[b * perPrompt + r];
                int[] generated = row.generated();
                hypotheses.add(new Hypothesis(generated, request.decode(generated), row.logprob,
                        Hypothesis.lengthNormalised(row.logprob, generated.length, lengthPenalty)));
            }
            hypotheses.sort(Comparator.comparingDouble(Hypothesis::score).reversed()); // stable: ties keep order
            results.add(new GenerationResult(hypotheses, request.retained(), request.model().numLayers(),
                    request.prompts()[b].length, timing));
        }
        return results;
    }
}
