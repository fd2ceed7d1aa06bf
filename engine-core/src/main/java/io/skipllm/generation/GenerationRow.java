package io.skipllm.generation;

import io.skipllm.model.Logits;
import io.skipllm.tokenizer.StreamingDecoder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * One generated sequence's state: its tokens (prompt, then generated), log-probability, random stream
 * and streamed text, and the rule that turns a row of logits into its next token. Shared by every
 * search that produces one token per row at a time: the static batch's greedy/sampling search, the
 * continuous-batching engine and self-speculative decoding.
 */
final class GenerationRow {

    final Request request;
    final int prompt;
    final int sequence;
    /** The prompt, then generated tokens; room for {@code extra} more (drafts beyond the end). */
    final int[] tokens;
    final int promptLength;
    int length;
    double logprob;
    boolean done;
    final SplittableRandom random;
    final StreamingDecoder text;

    GenerationRow(Request request, int prompt, int sequence, int extra) {
        this.request = request;
        this.prompt = prompt;
        this.sequence = sequence;
        int[] ids = request.prompts()[prompt];
        this.tokens = Arrays.copyOf(ids, ids.length + request.config().maxNewTokens() + extra);
        this.promptLength = ids.length;
        this.length = promptLength;
        GenerationConfig config = request.config();
        this.random = config.doSample() ? Sampler.random(request.seed(), ids, sequence) : null;
        boolean needText = request.codec() != null && (request.listener() != null || request.hasStopStrings());
        this.text = needText ? StreamingDecoder.over(request.codec()::decode) : null;
    }

    int[] generated() {
        return Arrays.copyOfRange(tokens, promptLength, length);
    }

    int generatedCount() {
        return length - promptLength;
    }

    /** Picks the next token from raw logits and adds its log-probability (the row's tokens are its history). */
    int choose(float[] logits) {
        double[] logprobs = LogitsProcessors.logSoftmax(logits);
        int token = pick(scores(logits, logprobs, length));
        logprob += logprobs[token];
        return token;
    }

    /**
     * The scores a token is drawn from after {@code historyLength} tokens of this row: the model's
     * log-probabilities when greedy without processors, else the raw logits through the processors
     * (temperature, top-k, top-p, penalties). Sampling draws from their softmax.
     */
    double[] scores(float[] logits, double[] logprobs, int historyLength) {
        if (request.processors().isIdentity() && !request.config().doSample()) {
            return logprobs;
        }
        double[] scores = new double[logits.length];
        for (int v = 0; v < logits.length; v++) {
            scores[v] = logits[v];
        }
        request.processors().process(scores, tokens, historyLength);
        if (!LogitsProcessors.anyFinite(scores)) {
            return logprobs; // every token banned (only in tiny vocabularies): fall back to the model
        }
        return scores;
    }

    /** Greedy: the best score; sampling: a draw from the scores' softmax with this row's stream. */
    int pick(double[] scores) {
        return request.config().doSample() ? Sampler.sample(scores, random) : Logits.argmax(scores);
    }

    /** Appends a token, decides whether the row is done and streams it. */
    void append(int token, boolean lastStep) {
        tokens[length++] = token;
        String fragment = null;
        if (text != null) {
            fragment = text.push(token);
        }
        done = lastStep || request.isStopToken(token)
                || (text != null && request.hasStopStrings() && request.hitsStopString(text.text()));
        if (request.listener() != null) {
            if (text != null && done) {
                fragment += text.flush();
            }
            request.listener().onToken(prompt, sequence, token, fragment);
        }
    }

    /** Appends a token chosen by {@link #choose}; the row is done at a stop or after its last new token. */
    void append(int token) {
        append(token, generatedCount() + 1 >= request.config().maxNewTokens());
    }

    /** The finished row as a hypothesis. */
    Hypothesis hypothesis() {
        int[] generated = generated();
        return new Hypothesis(generated, request.decode(generated), logprob,
                Hypothesis.lengthNormalised(logprob, generated.length, request.config().lengthPenalty()));
    }
}
