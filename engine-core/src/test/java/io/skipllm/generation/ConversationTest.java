package io.skipllm.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.LlamaConfig;
import io.skipllm.model.RandomModels;
import io.skipllm.model.SkipAwareDecoder;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Appended turns continue from the cache and equal a fresh prefill of the whole text. */
class ConversationTest {

    private static final LlamaConfig CONFIG = new LlamaConfig("LlamaForCausalLM", 48, 80, 8, 6, 2, 8, 97, 1024, 1e-6,
            10000.0, false, false, "silu", List.of(2), 1, null);

    private static float[] freshLogits(SkipAwareDecoder decoder, int[] text) {
        try (DecodeSession session = decoder.start(new int[][] {text}, 1, RetainedLayers.all(CONFIG.numLayers()))) {
            return session.logits().toFloatVector();
        }
    }

    @Test
    void appendedTurnsEqualAFreshPrefillOfTheWholeText() {
        SkipAwareDecoder decoder = new SkipAwareDecoder(RandomModels.llama(CONFIG, 41));
        Generator generator = new Generator(decoder);
        int[] turn1 = {5, 9, 14, 22, 7};
        int[] turn2 = {30, 31, 32};
        int[] turn3 = {44, 45};
        for (GenerationConfig config : List.of(
                GenerationConfig.builder().maxNewTokens(12).stopTokenIds(List.of()).build(),
                GenerationConfig.builder().maxNewTokens(12).stopTokenIds(List.of()).skipPlan(SkipStrategy.UNIFIED, 2).build(),
                GenerationConfig.builder().maxNewTokens(12).stopTokenIds(List.of()).skipPlan(SkipStrategy.UNIFIED, 2)
                        .lossless(true).build())) {
            try (Conversation chat = generator.conversation(200)) {
                GenerationResult reply1 = chat.reply(turn1, config, null);
                assertArrayEquals(generator.generate(turn1, config).tokens(), reply1.tokens(), config.toString());
                int[] history = chat.tokens();
                assertEquals(turn1.length + 12, history.length);

                int[] whole = concat(history, turn2);
                GenerationResult reply2 = chat.reply(turn2, config, null);
                assertArrayEquals(generator.generate(whole, config).tokens(), reply2.tokens(), config.toString());

                // logits after appending a turn equal a fresh full-depth prefill of everything
                float[] appended = chat.append(turn3);
                float[] fresh = freshLogits(decoder, chat.tokens());
                for (int v = 0; v < fresh.length; v++) {
                    assertEquals(fresh[v], appended[v], 1e-4, "logit " + v + " " + config);
                }
                assertArrayEquals(concat(concat(whole, reply2.tokens()), turn3), chat.tokens());
            }
        }
    }

    @Test
    void refusesTurnsThatDoNotFit() {
        SkipAwareDecoder decoder = new SkipAwareDecoder(RandomModels.llama(CONFIG, 42));
        try (Conversation chat = new Generator(decoder).conversation(20)) {
            GenerationConfig config = GenerationConfig.builder().maxNewTokens(10).build();
            chat.reply(new int[] {4, 5, 6}, config, null);
            BadInputException e = assertThrows(BadInputException.class,
                    () -> chat.reply(new int[] {7, 8, 9}, config, null));
            assertTrue(e.getMessage().contains("holds 20"), e.getMessage());
            assertThrows(BadInputException.class, () -> chat.reply(new int[0], config, null));
            assertThrows(BadInputException.class, () -> chat.reply("text", config, null));
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
