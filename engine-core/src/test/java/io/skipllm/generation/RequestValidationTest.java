package io.skipllm.generation;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.BadInputException;
import io.skipllm.model.SkipAwareDecoder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Requests that cannot be served are refused before any forward pass, naming the problem. */
class RequestValidationTest {

    @Test
    void moreBeamsThanTheVocabularyIsRefused() {
        Generator generator = new Generator(new SkipAwareDecoder(GenerationFixtures.llama()));
        GenerationConfig config = GenerationConfig.builder().numBeams(GenerationFixtures.VOCAB + 1).maxNewTokens(2).build();
        BadInputException e = assertThrows(BadInputException.class,
                () -> generator.generate(List.of(new int[] {5, 6}), config, null));
        assertTrue(e.getMessage().contains("numBeams " + (GenerationFixtures.VOCAB + 1)) && e.getMessage().contains("vocabulary"),
                e.getMessage());
    }

    @Test
    void zeroNewTokensIsRefused() {
        BadInputException e = assertThrows(BadInputException.class, () -> GenerationConfig.builder().maxNewTokens(0).build());
        assertTrue(e.getMessage().contains("maxNewTokens"), e.getMessage());
    }
}
