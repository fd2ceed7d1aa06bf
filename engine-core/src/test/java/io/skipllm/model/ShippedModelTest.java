package io.skipllm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skipllm.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The model the project ships ({@code models/translation/base}) is in the build, loads without a
 * directory, is trained (not random weights), and is what {@code generate} and {@code eval} use
 * without {@code --model}.
 */
class ShippedModelTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void loadsFromTheJarAndLeavesNoTemporaryFilesBehind() throws IOException {
        assertTrue(ShippedModel.available(), "models/translation/base packed as resources");
        long before = leftovers();
        try (Model model = ShippedModel.load()) {
            assertEquals(12, model.config().numLayers());
            assertEquals(4096, model.config().vocabSize());
            assertTrue(model.tokenizer().isPresent(), "tokenizer.json shipped with the weights");
        }
        assertEquals(before, leftovers(), "the unpacked copy is deleted once the weights are loaded");
    }

    @Test
    void generateWithoutModelTranslatesWithTheShippedModel() throws IOException {
        String[] result = run("generate", "--prompt",
                ShippedModel.PROMPT_TEMPLATE.replace("{source}", "Y dijo Dios: Sea la luz: y fué la luz."),
                "--max-new-tokens", "24", "--json");
        JsonNode line = JSON.readTree(result[0]);
        assertFalse(line.get("text").asText().isBlank(), result[0]);
        assertTrue(line.get("tokens").size() > 0);
    }

    /**
     * Held-out dev verses, teacher-forced: a trained model's response loss is far below the 8.3 nats
     * (ln 4096) of uniform guessing, and unified 3x keeps exactly 4 of 12 layers per decoded token.
     */
    @Test
    void evalWithoutModelUsesTheTrainedShippedModel() throws IOException {
        String[] result = run("eval", "--data", "../models/translation/data/dev.jsonl", "--limit", "8",
                "--strategies", "full,unified", "--speedups", "3", "--max-new-tokens", "48", "--json");
        JsonNode report = JSON.readTree(result[0]);
        assertEquals("shipped:translation-base", report.get("model").asText());
        JsonNode full = report.get("rows").get(0);
        JsonNode unified = report.get("rows").get(1);
        assertEquals("full", full.get("strategy").asText());
        assertTrue(full.get("loss").asDouble() < 4.5, "full-depth dev loss " + full.get("loss"));
        assertTrue(full.get("chrf").asDouble() > 15, "chrF " + full.get("chrf"));
        assertEquals(4.0, unified.get("activated_layers").asDouble(), 1e-9);
        assertTrue(unified.get("loss").asDouble() > full.get("loss").asDouble(),
                "skipping 8 of 12 layers of a model not fine-tuned for it costs loss");
    }

    private static String[] run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, stderr);
        return new String[] {out.toString(StandardCharsets.UTF_8).strip(), stderr};
    }

    private static long leftovers() throws IOException {
        try (Stream<Path> files = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return files.filter(p -> p.getFileName().toString().startsWith("skipllm-shipped-model")).count();
        }
    }
}
