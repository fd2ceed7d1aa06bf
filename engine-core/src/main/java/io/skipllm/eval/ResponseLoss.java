package io.skipllm.eval;

import io.skipllm.BadInputException;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.ModelConfig;
import io.skipllm.model.SkipAwareDecoder;
import java.util.List;

/**
 * Teacher-forced cross-entropy of the response tokens under the skip semantics, i.e. on exactly the
 * forward passes generation would run: the prompt is prefilled through every layer and its last
 * position predicts response token 0; then each response token but the last is fed through a
 * decode step with the policy's layers ({@link SkipPolicy#stepPlan}) and predicts the next one. The
 * last response token (EOS) is predicted, never fed.
 *
 * <p>The result is in nats, averaged over all response tokens of all examples (token-weighted, as
 * the training script's dev loss), so long responses weigh more than short ones. Examples are
 * decoded in batches with left padding ({@link Batches}); a policy that decides per row (early exit)
 * runs one example at a time.
 */
public final class ResponseLoss {

    private ResponseLoss() {
    }

    /**
     * @param meanNats total / tokens: the mean cross-entropy per response token
     * @param totalNats the summed cross-entropy
     * @param tokens the number of response tokens scored
     */
    public record Result(double meanNats, double totalNats, long tokens) {
    }

    /**
     * @throws BadInputException when a response token is outside the vocabulary or an example does
     *     not fit in the model's context (checked before any forward pass)
     */
    public static Result compute(SkipAwareDecoder decoder, List<EncodedExample> examples, SkipPolicy policy,
            int batchSize) {
        if (examples == null || examples.isEmpty()) {
            throw new BadInputException("response loss: no examples");
        }
        if (batchSize < 1) {
            throw new BadInputException("response loss: batch size must be >= 1, got " + batchSize);
        }
        ModelConfig config = decoder.model().config();
        policy.sessionLayers().requireWithin(config.numLayers());
        for (int i = 0; i < examples.size(); i++) {
            requireFits(examples.get(i), config, "example " + i);
        }
        double total = 0;
        long tokens = 0;
        for (int[] batch : Batches.plan(examples.size(), i -> examples.get(i).promptLength(),
                i -> feedSteps(examples.get(i)), Math.min(batchSize, policy.maxBatch()), config.maxPositions())) {
            double[] sum = batchLoss(decoder, examples, batch, policy);
            total += sum[0];
            tokens += (long) sum[1];
        }
        return new Result(total / tokens, total, tokens);
    }

    /** Decode steps an example needs (every response token but the last is fed); the cache holds at least 1. */
    private static int feedSteps(EncodedExample e) {
        return Math.max(1, e.responseLength() - 1);
    }

    static void requireFits(EncodedExample e, ModelConfig config, String what) {
        for (int t = 0; t < e.responseLength(); t++) {
            int id = e.responseToken(t);
            if (id < 0 || id >= config.vocabSize()) {
                throw new BadInputException(what + ": response token id " + id + " at index " + t
                        + " is outside the model's vocabulary (0.." + (config.vocabSize() - 1) + ")");
            }
        }
        if ((long) e.promptLength() + feedSteps(e) > config.maxPositions()) {
            throw new BadInputException(what + ": prompt of " + e.promptLength() + " tokens and response of "
                    + e.responseLength() + " tokens do not fit in the model's context of " + config.maxPositions());
        }
    }

    /** {summed nats, tokens} of one batch. */
    private static double[] batchLoss(SkipAwareDecoder decoder, List<EncodedExample> examples, int[] batch,
            SkipPolicy policy) {
        int[][] prompts = new int[batch.length][];
        int[][] responses = new int[batch.length][];
        int longest = 0;
        for (int r = 0; r < batch.length; r++) {
            prompts[r] = examples.get(batch[r]).prompt();
            responses[r] = examples.get(batch[r]).response();
            longest = Math.max(longest, responses[r].length);
        }
        double nats = 0;
        long tokens = 0;
        try (DecodeSession session = decoder.start(prompts, Math.max(1, longest - 1), policy.sessionLayers())) {
            float[][] rows = null;
            for (int t = 0; t < longest; t++) {
                rows = session.logitsRows(rows);
                for (int r = 0; r < batch.length; r++) {
                    if (t < responses[r].length) {
                        nats += crossEntropy(rows[r], responses[r][t]);
                        tokens++;
                    }
                }
                if (t + 1 < longest) {
                    int[] feed = new int[batch.length];
                    for (int r = 0; r < batch.length; r++) {
                        // a row whose response is done keeps feeding its last token; its outputs are ignored
                        feed[r] = responses[r][Math.min(t, responses[r].length - 1)];
                    }
                    session.step(feed, policy.stepPlan(t));
                }
            }
        }
        return new double[] {nats, tokens};
    }

    /** {@code -log softmax(logits)[target]} in double precision. */
    static double crossEntropy(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum) - logits[target];
    }
}
