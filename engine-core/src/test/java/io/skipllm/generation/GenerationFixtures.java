package io.skipllm.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import io.skipllm.model.BloomConfig;
import io.skipllm.model.CausalLm;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.RandomModels;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.RetainedLayers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Small random models (vocabulary 80, so beams and samples have room to differ), a stand-in
 * tokenizer, and the hand-written reference loops the generation tests compare against.
 */
final class GenerationFixtures {

    static final int VOCAB = 80;
    static final int EOS = 3;

    private static volatile CausalLm llama;
    private static volatile CausalLm bloom;

    private GenerationFixtures() {
    }

    static LlamaConfig llamaConfig() {
        return new LlamaConfig("LlamaForCausalLM", 32, 48, 4, 4, 2, 8, VOCAB, 128, 1e-6, 10000.0, false, false,
                "silu", List.of(EOS), 1, null);
    }

    static synchronized CausalLm llama() {
        if (llama == null) {
            llama = RandomModels.llama(llamaConfig(), 21);
        }
        return llama;
    }

    static synchronized CausalLm bloom() {
        if (bloom == null) {
            bloom = RandomModels.bloom(new BloomConfig("BloomForCausalLM", 24, 4, 3, VOCAB, 128, 1e-5, List.of(EOS),
                    1, null), 22);
        }
        return bloom;
    }

    static List<int[]> prompts(int[]... prompts) {
        return new ArrayList<>(Arrays.asList(prompts));
    }

    /** Word-like text: token v is "w{v} "; the EOS token is special and decodes to nothing. */
    static final class WordCodec implements TextCodec {
        @Override
        public int[] encode(String text) {
            return Arrays.stream(text.trim().split("\\s+")).mapToInt(w -> Integer.parseInt(w.substring(1))).toArray();
        }

        @Override
        public String decode(int[] ids) {
            return Arrays.stream(ids).filter(id -> id != EOS).mapToObj(id -> "w" + id + " ")
                    .collect(Collectors.joining());
        }
    }

    /** Sum of log-softmax values of {@code tokens} when fed by hand after {@code prompt}: prefill, then decode each. */
    static double manualLogprob(SkipAwareDecoder decoder, int[] prompt, int[] tokens, RetainedLayers retained) {
        double sum = 0;
        try (DecodeSession s = decoder.start(new int[][] {prompt}, Math.max(1, tokens.length), retained)) {
            INDArray logits = s.logits();
            for (int i = 0; i < tokens.length; i++) {
                sum += LogitsProcessors.logSoftmax(logits.getRow(0).toFloatVector())[tokens[i]];
                if (i + 1 < tokens.length) {
                    logits = s.decode(new int[] {tokens[i]});
                }
            }
        }
        return sum;
    }

    /** Greedy decoding by hand: argmax of the session's logits, no stop tokens. */
    static int[] manualGreedy(SkipAwareDecoder decoder, int[] prompt, int steps, RetainedLayers retained) {
        int[] out = new int[steps];
        try (DecodeSession s = decoder.start(new int[][] {prompt}, steps, retained)) {
            INDArray logits = s.logits();
            for (int i = 0; i < steps; i++) {
                float[] row = logits.getRow(0).toFloatVector();
                int best = 0;
                for (int v = 1; v < row.length; v++) {
                    if (row[v] > row[best]) {
                        best = v;
                    }
                }
                out[i] = best;
                if (i + 1 < steps) {
                    logits = s.decode(new int[] {best});
                }
            }
        }
        return out;
    }

    static void assertResultsEqual(GenerationResult expected, GenerationResult actual, double tolerance, String what) {
        assertEquals(expected.hypotheses().size(), actual.hypotheses().size(), what + ": number of hypotheses");
        for (int i = 0; i < expected.hypotheses().size(); i++) {
            Hypothesis e = expected.hypotheses().get(i);
            Hypothesis a = actual.hypotheses().get(i);
            assertEquals(Arrays.toString(e.tokens()), Arrays.toString(a.tokens()), what + ": tokens of hypothesis " + i);
            assertEquals(e.text(), a.text(), what + ": text of hypothesis " + i);
            assertEquals(e.logprob(), a.logprob(), tolerance, what + ": logprob of hypothesis " + i);
            assertEquals(e.score(), a.score(), tolerance, what + ": score of hypothesis " + i);
        }
    }

    static void assertBadInput(String fragment, Runnable action) {
        BadInputException e = assertThrows(BadInputException.class, action::run);
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }
}
