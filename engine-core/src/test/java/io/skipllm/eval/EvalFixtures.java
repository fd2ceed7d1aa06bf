package io.skipllm.eval;

import io.skipllm.model.CausalLm;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.RandomModels;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.model.StepPlan;
import io.skipllm.planner.RetainedLayers;
import java.util.List;
import java.util.function.IntFunction;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A small random LLaMA, hand-made examples and the one-example-at-a-time loss the eval tests compare against. */
final class EvalFixtures {

    static final int VOCAB = 80;
    static final int EOS = 3;
    static final int LAYERS = 4;

    private static CausalLm llama;

    private EvalFixtures() {
    }

    static synchronized SkipAwareDecoder decoder() {
        if (llama == null) {
            llama = RandomModels.llama(new LlamaConfig("LlamaForCausalLM", 32, 48, LAYERS, 4, 2, 8, VOCAB, 64, 1e-6,
                    10000.0, false, false, "silu", List.of(EOS), 1, null), 31);
        }
        return new SkipAwareDecoder(llama);
    }

    /** Prompts of 1..7 tokens and responses of 1..6 tokens ending in EOS: batches need padding and end unevenly. */
    static List<EncodedExample> examples() {
        return List.of(
                new EncodedExample(new int[] {1, 17, 33, 9, 40}, new int[] {12, 55, 7, EOS}),
                new EncodedExample(new int[] {1}, new int[] {EOS}),
                new EncodedExample(new int[] {1, 70, 22}, new int[] {5, 6, 7, 8, 9, EOS}),
                new EncodedExample(new int[] {1, 4, 4, 4, 60, 61, 62}, new int[] {44, EOS}),
                new EncodedExample(new int[] {1, 25, 26, 27}, new int[] {30, 31, 32, 33, EOS}));
    }

    /**
     * The mean response cross-entropy computed one example at a time straight from a decode session:
     * -log softmax of the target at every step, feeding the response tokens one by one.
     */
    static double manualMeanLoss(SkipAwareDecoder decoder, List<EncodedExample> examples, RetainedLayers sessionLayers,
            IntFunction<StepPlan> plans) {
        double total = 0;
        long count = 0;
        for (EncodedExample e : examples) {
            int[] response = e.response();
            try (DecodeSession s = decoder.start(new int[][] {e.prompt()}, Math.max(1, response.length - 1),
                    sessionLayers)) {
                INDArray logits = s.logits();
                for (int t = 0; t < response.length; t++) {
                    double[] row = logits.getRow(0).toDoubleVector();
                    double z = 0;
                    for (double v : row) {
                        z += Math.exp(v);
                    }
                    total += -Math.log(Math.exp(row[response[t]]) / z);
                    count++;
                    if (t + 1 < response.length) {
                        logits = plans == null ? s.decode(new int[] {response[t]})
                                : s.decode(new int[] {response[t]}, plans.apply(t));
                    }
                }
            }
        }
        return total / count;
    }
}
