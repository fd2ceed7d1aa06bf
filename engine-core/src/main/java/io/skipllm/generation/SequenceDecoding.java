package io.skipllm.generation;

import io.skipllm.model.Logits;
import io.skipllm.model.SequenceBatch;
import java.util.stream.IntStream;

/**
 * Generation on a {@link SequenceBatch}, where each row has its own length: row {@code i} of
 * {@code rows} lives in batch row {@code i}. Two ways to decode after the prompt:
 *
 * <ul>
 *   <li>plain: each step feeds every running row's latest token through the plan's retained layers;
 *   <li>self-speculative (lossless): each round drafts up to {@code k} tokens per row through the
 *       retained layers, then feeds the row's latest token and its drafts through every layer in one
 *       call (each weight read once for all of them) and keeps the longest prefix the full network
 *       agrees with, plus the full network's own next token. Greedy: a draft is kept when it is the
 *       token the full network chooses, so the output is full-depth greedy's, token for token.
 *       Sampling: a draft {@code d} with draft probability {@code q(d)} is kept with probability
 *       {@code min(1, p(d) / q(d))} under the full network's {@code p}, else a token is drawn from
 *       {@code max(0, p - q)} normalised (Leviathan et al. 2023, Chen et al. 2023): the output follows
 *       full-depth sampling's distribution exactly. Rejected drafts are forgotten ({@link
 *       SequenceBatch#truncate}) and their slots rewritten by the next round.
 * </ul>
 *
 * <p>Before decoding, the part of each row that has not run every layer (the whole prompt of a new
 * row; a previous turn's reply decoded through retained layers, and the new turn, in a conversation)
 * is fed at full depth, so the first token's logits equal a fresh prefill of the whole text.
 */
final class SequenceDecoding {

    private final SequenceBatch batch;
    private final Request request;
    private final GenerationRow[] rows;
    private final int[] retained;
    private final int vocab;
    // drafting statistics (lossless mode)
    private long rounds;
    private long[] drafted = new long[0];
    private long[] accepted = new long[0];
    private long draftCalls;
    private long verifyCalls;
    private long decodeTokens;
    /** Logits of one call: up to every row's latest token and drafts. */
    private float[] logits;
    /** One row of {@link #logits}, copied out for the token choice. */
    private final float[] rowLogits;

    SequenceDecoding(SequenceBatch batch, Request request, GenerationRow[] rows) {
        this.batch = batch;
        this.request = request;
        this.rows = rows;
        this.retained = request.retained().indices();
        this.vocab = batch.vocabSize();
        this.rowLogits = new float[vocab];
    }

    /** Prefills and decodes every row until each is done; returns the timing. */
    GenerationResult.Timing run(Cancellation cancellation) {
        long start = System.nanoTime();
        prefill();
        long prefillEnd = System.nanoTime();
        boolean lossless = request.config().lossless();
        int k = request.config().draftTokens();
        if (lossless) {
            drafted = new long[k];
            accepted = new long[k];
        }
        int steps = 0;
        while (anyRunning()) {
            cancellation.throwIfCancelled(steps++);
            if (lossless) {
                speculativeRound(k);
            } else {
                plainStep();
            }
        }
        return new GenerationResult.Timing((prefillEnd - start) / 1e6, (System.nanoTime() - prefillEnd) / 1e6,
                decodeTokens);
    }

    /** The drafting statistics of a lossless run, else null. */
    GenerationResult.Speculation speculation() {
        return request.config().lossless() ? new GenerationResult.Speculation(request.config().draftTokens(), rounds,
                drafted.clone(), accepted.clone(), draftCalls, verifyCalls) : null;
    }

    private boolean anyRunning() {
        for (GenerationRow row : rows) {
            if (!row.done) {
                return true;
            }
        }
        return false;
    }

    /** Feeds every row's tokens not yet run at full depth, through every layer, and chooses each first token. */
    private void prefill() {
        int[][] sequences = new int[rows.length][];
        int[] ends = new int[rows.length];
        for (int r = 0; r < rows.length; r++) {
            sequences[r] = rows[r].tokens;
            ends[r] = rows[r].length;
        }
        float[] logits = logitsFor(rows.length);
        batch.feedAtFullDepth(sequences, ends, logits);
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(logits, r * vocab, rowLogits, 0, vocab);
            rows[r].append(rows[r].choose(rowLogits));
        }
    }

    /** One token per running row through the retained layers. */
    private void plainStep() {
        int[] running = runningRows();
        int n = running.length;
        int[] tokens = new int[n];
        int[] logitsIndex = new int[n];
        for (int i = 0; i < n; i++) {
            GenerationRow row = rows[running[i]];
            tokens[i] = row.tokens[row.length - 1];
            logitsIndex[i] = i;
        }
        float[] logits = logitsFor(n);
        batch.feed(n, running, tokens, retained, logitsIndex, logits);
        for (int i = 0; i < n; i++) {
            GenerationRow row = rows[running[i]];
            System.arraycopy(logits, i * vocab, rowLogits, 0, vocab);
            row.append(row.choose(rowLogits));
            decodeTokens++;
        }
    }

    /** The logits buffer, grown to {@code n} rows on first need and reused after. */
    private float[] logitsFor(int n) {
        if (logits == null || logits.length < n * vocab) {
            logits = new float[n * vocab];
        }
        return logits;
    }

    private int[] runningRows() {
        return IntStream.range(0, rows.length).filter(r -> !rows[r].done).toArray();
    }

    /**
     * One round's drafts: per running row {@code i} (batch row {@code running[i]}), how many it drafts,
     * the drafts, their draft distributions when sampling, and the row's cache length before the round.
     */
    private record Round(int[] running, int[] count, int[][] drafts, double[][][] draftProbs, int[] before) {
    }

    /** Draft through the retained layers, verify at full depth in one call, keep what the full network agrees with. */
    private void speculativeRound(int k) {
        Round round = draft(k);
        int[] offset = verify(round);
        for (int i = 0; i < round.running().length; i++) {
            accept(round, i, offset[i]);
        }
    }

    /** Up to {@code k} drafts per running row, one retained-layer call per draft position. */
    private Round draft(int k) {
        int[] running = runningRows();
        int n = running.length;
        boolean sampling = request.config().doSample();
        // drafts per row: no more than the row can still use (its last token comes from verification)
        int[] count = new int[n];
        int[] before = new int[n];
        int most = 0;
        for (int i = 0; i < n; i++) {
            GenerationRow row = rows[running[i]];
            int left = request.config().maxNewTokens() - row.generatedCount();
            count[i] = Math.max(0, Math.min(k, Math.min(left - 1, batch.capacity() - row.length - 1)));
            before[i] = batch.length(running[i]);
            most = Math.max(most, count[i]);
        }
        Round round = new Round(running, count, new int[n][most], sampling ? new double[n][most][] : null, before);
        float[] logits = logitsFor(n);
        int[] batchRows = new int[n];
        int[] tokens = new int[n];
        int[] logitsIndex = new int[n];
        int[] which = new int[n];
        for (int j = 0; j < most; j++) {
            int m = 0;
            for (int i = 0; i < n; i++) {
                if (count[i] > j) {
                    GenerationRow row = rows[running[i]];
                    batchRows[m] = running[i];
                    tokens[m] = j == 0 ? row.tokens[row.length - 1] : round.drafts()[i][j - 1];
                    logitsIndex[m] = m;
                    which[m] = i;
                    m++;
                }
            }
            batch.feed(m, batchRows, tokens, retained, logitsIndex, logits);
            draftCalls++;
            for (int e = 0; e < m; e++) {
                int i = which[e];
                GenerationRow row = rows[running[i]];
                System.arraycopy(logits, e * vocab, rowLogits, 0, vocab);
                double[] scores = row.scores(rowLogits, LogitsProcessors.logSoftmax(rowLogits), row.length + j);
                int draft;
                if (sampling) {
                    round.draftProbs()[i][j] = LogitsProcessors.softmax(scores);
                    draft = Sampler.sampleProbabilities(round.draftProbs()[i][j], row.random);
                } else {
                    draft = Logits.argmax(scores);
                }
                round.drafts()[i][j] = draft;
                row.tokens[row.length + j] = draft;  // the next draft's history (overwritten as tokens are kept)
            }
        }
        return round;
    }

    /**
     * Forgets the drafts' cache entries and feeds each row's latest token and its drafts through every
     * layer in one call, with logits at every position; returns where each row's logits start.
     */
    private int[] verify(Round round) {
        int n = round.running().length;
        int total = 0;
        for (int i = 0; i < n; i++) {
            batch.truncate(round.running()[i], round.before()[i]);
            total += round.count()[i] + 1;
        }
        int[] batchRows = new int[total];
        int[] tokens = new int[total];
        int[] logitsIndex = new int[total];
        int[] offset = new int[n];
        int at = 0;
        for (int i = 0; i < n; i++) {
            GenerationRow row = rows[round.running()[i]];
            offset[i] = at;
            for (int j = 0; j <= round.count()[i]; j++) {
                batchRows[at] = round.running()[i];
                tokens[at] = j == 0 ? row.tokens[row.length - 1] : round.drafts()[i][j - 1];
                logitsIndex[at] = at;
                at++;
            }
        }
        batch.feed(total, batchRows, tokens, null, logitsIndex, logitsFor(total));
        verifyCalls++;
        return offset;
    }

    /**
     * Row {@code i}'s tokens from the verification logits at {@code offset}: its drafts while the full
     * network agrees, then the full network's own token; the cache keeps the latest token and the kept
     * drafts, and the token chosen last is fed next round.
     */
    private void accept(Round round, int i, int offset) {
        GenerationRow row = rows[round.running()[i]];
        int count = round.count()[i];
        rounds++;
        int emitted = 0;
        for (int j = 0; j <= count && !row.done; j++) {
            System.arraycopy(logits, (offset + j) * vocab, rowLogits, 0, vocab);
            boolean isDraft = j < count;
            int draft = isDraft ? round.drafts()[i][j] : -1;
            int token = round.draftProbs() != null
                    ? sampleAgainstDraft(row, rowLogits, draft, isDraft ? round.draftProbs()[i][j] : null)
                    : row.choose(rowLogits);
            boolean keep = isDraft && token == draft;
            if (isDraft) {
                drafted[j]++;
                accepted[j] += keep ? 1 : 0;
            }
            row.append(token);
            emitted++;
            decodeTokens++;
            if (!keep) {
                break;
            }
        }
        batch.truncate(round.running()[i], round.before()[i] + emitted);
    }

    /**
     * The speculative-sampling rule at one position: keep {@code draft} with probability
     * {@code min(1, p(draft) / q(draft))}, else draw from {@code max(0, p - q)} normalised; without a
     * draft (the position after the last one) draw from {@code p}. Adds the token's log-probability.
     */
    private static int sampleAgainstDraft(GenerationRow row, float[] logits, int draft, double[] q) {
        double[] logprobs = LogitsProcessors.logSoftmax(logits);
        double[] p = LogitsProcessors.softmax(row.scores(logits, logprobs, row.length));
        int token;
        if (draft < 0) {
            token = Sampler.sampleProbabilities(p, row.random);
        } else if (row.random.nextDouble() * q[draft] < p[draft]) {
            token = draft;
        } else {
            double[] residual = new double[p.length];
            double sum = 0;
            for (int v = 0; v < p.length; v++) {
                residual[v] = Math.max(0, p[v] - q[v]);
                sum += residual[v];
            }
            if (sum <= 0) {  // p == q up to rounding: the rejection had probability ~0; p is the answer
                token = Sampler.sampleProbabilities(p, row.random);
            } else {
                for (int v = 0; v < residual.length; v++) {
                    residual[v] /= sum;
                }
                token = Sampler.sampleProbabilities(residual, row.random);
            }
        }
        row.logprob += logprobs[token];
        return token;
    }
}
