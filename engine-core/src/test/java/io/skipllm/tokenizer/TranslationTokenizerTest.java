package io.skipllm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The shipped translation model's tokenizer, as the engine loads it through DJL, encodes exactly as
 * the training recipe did ({@code models/translation/bpe.py}, a byte-level BPE written out in
 * Python): otherwise the model would see token sequences at inference that it never saw in
 * training. The recipe writes the ids of the dev split next to the data.
 */
class TranslationTokenizerTest {

    private static final Path TRANSLATION = Path.of("..", "models", "translation");

    @Test
    void encodesTheDevSplitAsTheTrainingRecipeDid() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> lines =
                Files.readAllLines(
                        TRANSLATION.resolve("data").resolve("dev-token-ids.jsonl"),
                        StandardCharsets.UTF_8);
        assertEquals(72, lines.size(), "dev split size");
        try (Tokenizer tokenizer =
                Tokenizer.load(TRANSLATION.resolve("base").resolve(Tokenizer.FILE_NAME))) {
            for (String line : lines) {
                JsonNode row = json.readTree(line);
                String id = row.get("id").asText();
                assertArrayEquals(
                        ints(row.get("prompt_ids")),
                        tokenizer.encode(row.get("prompt").asText()),
                        id + " prompt (BOS added by the post-processor)");
                int[] response = ints(row.get("response_ids"));
                assertArrayEquals(
                        response,
                        tokenizer.encodeWithoutSpecialTokens(row.get("response").asText()),
                        id + " response");
                assertEquals(row.get("response").asText(), tokenizer.decode(response), id + " round trip");
            }
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
