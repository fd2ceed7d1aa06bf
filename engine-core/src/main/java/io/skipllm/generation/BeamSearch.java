package io.skipllm.generation;

import io.skipllm.model.DecodeSession;
import io.skipllm.model.SkipAwareDecoder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Beam search on the static KV cache, following Hugging Face's {@code _beam_search}. B prompts with K
 * beams decode as one batch of B*K rows (prompt b owns rows {@code b*K .. b*K+K-1}); after each step
 * the surviving beams' cache rows are gathered in place with {@link DecodeSession#reorderRows}, so
 * the cache is allocated once. Layer skipping needs nothing special here: every beam runs the same
 * retained layers, which is what makes Unified Layer Skipping compatible with beam search.
 *
 * <p>Each step, per prompt: log-softmax of every beam's logits (in double), the processors, plus the
 * beam's running sum; the best {@code max(2, 1 + #stopTokens) * K} of the K*V candidates in order.
 * A stop-token candidate ranked within the first K becomes a finished hypothesis (its tokens include
 * the stop token, and so does its length); the first K other candidates are the new beams. At the
 * first step only beam 0 is live (the others start at -1e9), so the K beams are distinct.
 */
final class BeamSearch {

    /** Initial running sum of beams 1..K-1: far below any real sum, so step 0 expands beam 0 only. */
    private static final double DORMANT = -1e9;

    private final SkipAwareDecoder decoder;
    private final Request request;
    private final int beams;

    BeamSearch(SkipAwareDecoder decoder, Request request) {
        this.decoder = decoder;
        this.request = request;
        this.beams = request.config().numBeams();
    }

    List<GenerationResult> run() {
        return run(Cancellation.NEVER);
    }

    List<GenerationResult> run(Cancellation cancellation) {
        GenerationConfig config = request.config();
        int[][] prompts = request.prompts();
        int rows = prompts.length * beams;
        int[][] rowPrompts = new int[rows][];
        int[][] sequences = new int[rows][];
        double[] rankingSums = new double[rows];
        double[] logprobs = new double[rows];
        for (int row = 0; row < rows; row++) {
            rowPrompts[row] = prompts[row / beams];
            sequences[row] = request.sequenceBuffer(row / beams);
            rankingSums[row] = row % beams == 0 ? 0.0 : DORMANT;
        }
        BeamHypotheses[] finished = new BeamHypotheses[prompts.length];
        boolean[] done = new boolean[prompts.length];
        boolean[] reported = new boolean[prompts.length];
        for (int b = 0; b < prompts.length; b++) {
            finished[b] = new BeamHypotheses(beams, config.lengthPenalty(), config.earlyStopping());
        }
        int candidates = Math.max(2, 1 + request.stopTokenIds().length) * beams;

        int maxNew = config.maxNewTokens();
        long start = System.nanoTime();
        long prefillEnd;
        long decodeTokens = 0;
        try (DecodeSession session = decoder.start(rowPrompts, maxNew, request.retained())) {
            prefillEnd = System.nanoTime();
            float[][] matrix = null;
            for (int step = 0; step < maxNew; step++) {
                // Before anything of this step is chosen or streamed; try-with-resources closes the session.
                cancellation.throwIfCancelled(session.steps());
                matrix = session.logitsRows(matrix);
                int[] sources = new int[rows];
                int[] next = new int[rows];
                int[][] nextSequences = sequences.clone();
                boolean lastStep = step == maxNew - 1;
                for (int b = 0; b < prompts.length; b++) {
                    int first = b * beams;
                    for (int k = 0; k < beams; k++) {
                        sources[first + k] = first + k;
                        next[first + k] = request.fillerToken();
                    }
                    if (done[b]) {
                        continue;
                    }
                    if (step > 0) {
                        decodeTokens += beams;
                    }
                    Step s = step(b, step, matrix, sequences, rankingSums, logprobs, candidates, finished[b]);
                    int promptLength = prompts[b].length;
                    for (int k = 0; k < beams; k++) {
                        int source = first + s.beam[k];
                        int[] sequence = sequences[source].clone();
                        sequence[promptLength + step] = s.token[k];
                        nextSequences[first + k] = sequence;
                        sources[first + k] = source;
                        next[first + k] = s.token[k];
                        rankingSums[first + k] = s.rankingSum[k];
                        logprobs[first + k] = s.logprob[k];
                    }
                    done[b] = s.filled == 0 || finished[b].isDone(s.rankingSum[0], step + 1);
                    if (lastStep && !done[b]) {
                        // At the length limit the running beams compete as they are (HF's finalize).
                        for (int k = 0; k < s.filled; k++) {
                            int[] generated = Arrays.copyOfRange(nextSequences[first + k], promptLength,
                                    promptLength + step + 1);
                            finished[b].add(generated, s.rankingSum[k], s.logprob[k]);
                        }
                        done[b] = true;
                    }
                    if (done[b]) {
                        report(b, finished[b], reported);
                    }
                }
                sequences = nextSequences;
                if (lastStep || allDone(done)) {
                    break;
                }
                session.reorderRows(sources);
                session.step(next, session::retainedIndices);
            }
        }
        long end = System.nanoTime();
        GenerationResult.Timing timing = new GenerationResult.Timing((prefillEnd - start) / 1e6,
                (end - prefillEnd) / 1e6, decodeTokens);
        List<GenerationResult> results = new ArrayList<>();
        for (int b = 0; b < prompts.length; b++) {
            report(b, finished[b], reported); // maxNewTokens = 0: nothing was reported yet
            results.add(new GenerationResult(hypotheses(finished[b]), request.retained(),
                    request.model().numLayers(), prompts[b].length, timing));
        }
        return results;
    }

    /** The new beams of one prompt after one step: source beam, token and sums for each of the K slots. */
    private static final class Step {
        final int[] beam;
        final int[] token;
        final double[] rankingSum;
        final double[] logprob;
        int filled;

        Step(int beams) {
            beam = new int[beams];
            token = new int[beams];
            rankingSum = new double[beams];
            logprob = new double[beams];
        }
    }

    private Step step(int b, int step, float[][] matrix, int[][] sequences, double[] rankingSums,
            double[] logprobs, int candidates, BeamHypotheses finished) {
        int first = b * beams;
        int promptLength = request.prompts()[b].length;
        double[][] modelLogprobs = new double[beams][];
        TopCandidates top = new TopCandidates(candidates);
        for (int k = 0; k < beams; k++) {
            int row = first + k;
            modelLogprobs[k] = LogitsProcessors.logSoftmax(matrix[row]);
            double[] scores = modelLogprobs[k];
            if (!request.processors().isIdentity()) {
                scores = scores.clone();
                request.processors().process(scores, sequences[row], promptLength + step);
            }
            top.offerAll(k, scores, rankingSums[row]);
        }
        Step s = new Step(beams);
        for (int rank = 0; rank < top.size() && s.filled < beams; rank++) {
            int k = top.beam(rank);
            int token = top.token(rank);
            int row = first + k;
            double logprob = logprobs[row] + modelLogprobs[k][token];
            if (endsSequence(sequences[row], promptLength, step, token)) {
                if (rank < beams) { // a stop ranked below the first K is not good enough to finish a beam
                    int[] generated = Arrays.copyOfRange(sequences[row], promptLength, promptLength + step + 1);
                    generated[step] = token;
                    finished.add(generated, top.score(rank), logprob);
                }
                continue;
            }
            s.beam[s.filled] = k;
            s.token[s.filled] = token;
            s.rankingSum[s.filled] = top.score(rank);
            s.logprob[s.filled] = logprob;
            s.filled++;
        }
        for (int k = s.filled; k < beams; k++) { // fewer live candidates than beams (tiny vocabularies only)
            s.beam[k] = 0;
            s.token[k] = request.fillerToken();
            s.rankingSum[k] = Double.NEGATIVE_INFINITY;
            s.logprob[k] = Double.NEGATIVE_INFINITY;
        }
        return s;
    }

    /** A stop token, or a token that makes the beam's generated text contain a stop string. */
    private boolean endsSequence(int[] sequence, int promptLength, int step, int token) {
        if (request.isStopToken(token)) {
            return true;
        }
        if (!request.hasStopStrings()) {
            return false;
        }
        int[] generated = Arrays.copyOfRange(sequence, promptLength, promptLength + step + 1);
        generated[step] = token;
        return request.hitsStopString(request.codec().decode(generated));
    }

    private List<Hypothesis> hypotheses(BeamHypotheses finished) {
        List<Hypothesis> out = new ArrayList<>();
        for (BeamHypotheses.Finished f : finished.top(request.config().numReturnSequences())) {
            out.add(new Hypothesis(f.tokens(), request.decode(f.tokens()), f.logprob(), f.score()));
        }
        if (out.isEmpty()) { // maxNewTokens = 0
            out.add(new Hypothesis(new int[0], request.decode(new int[0]), 0.0, 0.0));
        }
        return out;
    }

    private void report(int b, BeamHypotheses finished, boolean[] reported) {
        if (reported[b] || request.listener() == null) {
            reported[b] = true;
            return;
        }
        reported[b] = true;
        for (Hypothesis h : hypotheses(finished)) {
            request.listener().onHypothesis(b, h);
        }
    }

    private static boolean allDone(boolean[] done) {
        for (boolean d : done) {
            if (!d) {
                return false;
            }
        }
        return true;
    }

    /**
     * The best n of a prompt's K*V candidates in descending order of score. Candidates arrive in
     * ascending (beam, token) order and an equal score never displaces an earlier one, so ties resolve
     * to the lower beam and token. Insertion into a sorted array of n (a few times K) entries: most
     * candidates are rejected by one comparison with the current n-th.
     */
    static final class TopCandidates {
        private final double[] scores;
        private final int[] beams;
        private final int[] tokens;
        private int size;

        TopCandidates(int n) {
            scores = new double[n];
            beams = new int[n];
            tokens = new int[n];
        }

        void offerAll(int beam, double[] tokenScores, double base) {
            int n = scores.length;
            for (int v = 0; v < tokenScores.length; v++) {
                double s = tokenScores[v] + base;
                if (s == Double.NEGATIVE_INFINITY || Double.isNaN(s) || (size == n && s <= scores[n - 1])) {
                    continue;
                }
                int at = size == n ? n - 1 : size;
                while (at > 0 && scores[at - 1] < s) {
                    at--;
                }
                int moved = (size == n ? n - 1 : size) - at;
                System.arraycopy(scores, at, scores, at + 1, moved);
                System.arraycopy(beams, at, beams, at + 1, moved);
                System.arraycopy(tokens, at, tokens, at + 1, moved);
                scores[at] = s;
                beams[at] = beam;
                tokens[at] = v;
                if (size < n) {
                    size++;
                }
            }
        }

        int size() {
            return size;
        }

        double score(int rank) {
            return scores[rank];
        }

        int beam(int rank) {
            return beams[rank];
        }

        int token(int rank) {
            return tokens[rank];
        }
    }
}
