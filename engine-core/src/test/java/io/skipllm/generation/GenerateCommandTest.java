package io.skipllm.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skipllm.BadInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code generate} command in-process (CONTRACTS.md): JSON shape, batching, streaming, errors.
 * It calls the package-private command class directly, so it does not depend on its registration in
 * {@code Main}; exit codes come from Main's mapping of {@link BadInputException} to 2.
 */
class GenerateCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RANDOM = "random:llama,layers=4,hidden=32,heads=4,kv_heads=2,intermediate=48,"
            + "vocab=60,context=128,seed=3";

    record Result(String out, String err) {
        List<JsonNode> lines() throws IOException {
            List<JsonNode> nodes = new ArrayList<>();
            for (String line : out.split("\n")) {
                if (!line.isBlank()) {
                    nodes.add(JSON.readTree(line));
                }
            }
            return nodes;
        }
    }

    static Result run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            Class<?> type = Class.forName("io.skipllm.cli.GenerateCommand");
            Constructor<?> constructor = type.getDeclaredConstructor();
            constructor.setAccessible(true);
            Object command = constructor.newInstance();
            Method run = type.getDeclaredMethod("run", String[].class, PrintStream.class, PrintStream.class);
            run.setAccessible(true);
            run.invoke(command, argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new AssertionError(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
        return new Result(out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void promptIdsBatchPrintsOneObjectPerPromptInOrder() throws IOException {
        Result r = run("--model", RANDOM, "--prompt-ids", "5,9,13;7,3", "--max-new-tokens", "6", "--speedup", "2",
                "--json");
        List<JsonNode> lines = r.lines();
        assertEquals(2, lines.size(), r.out());
        assertEquals("[5,9,13]", lines.get(0).get("prompt").toString());
        assertEquals("[7,3]", lines.get(1).get("prompt").toString());
        for (JsonNode line : lines) {
            List<String> keys = new ArrayList<>();
            line.fieldNames().forEachRemaining(keys::add);
            assertEquals(List.of("prompt", "tokens", "retained", "hypotheses", "tokens_per_s"), keys.subList(0, 5),
                    "no text without a tokenizer: " + line);
            assertEquals("[0,3]", line.get("retained").toString());
            assertTrue(line.get("tokens").size() >= 1 && line.get("tokens").size() <= 6);
            JsonNode h = line.get("hypotheses").get(0);
            assertEquals(line.get("tokens"), h.get("tokens"));
            assertEquals(h.get("logprob").asDouble() / h.get("tokens").size(), h.get("score").asDouble(), 1e-9);
            assertFalse(h.has("text"));
        }
        assertTrue(r.err().contains("prompt tokens [3,2]") && r.err().contains("retained 2 of 4 layers"), r.err());
        // the batch gives each prompt what it gives alone
        List<JsonNode> alone = run("--model", RANDOM, "--prompt-ids", "7,3", "--max-new-tokens", "6", "--speedup", "2",
                "--json").lines();
        assertEquals(lines.get(1).get("tokens"), alone.get(0).get("tokens"));
    }

    @Test
    void beamSearchReturnsTheRequestedHypothesesSorted() throws IOException {
        JsonNode line = run("--model", RANDOM, "--prompt-ids", "5,9,13", "--max-new-tokens", "5", "--beams", "4",
                "--num-return", "3", "--length-penalty", "0.8", "--json").lines().get(0);
        JsonNode hypotheses = line.get("hypotheses");
        assertEquals(3, hypotheses.size());
        for (int i = 1; i < 3; i++) {
            assertTrue(hypotheses.get(i - 1).get("score").asDouble() >= hypotheses.get(i).get("score").asDouble());
        }
        assertEquals(line.get("tokens"), hypotheses.get(0).get("tokens"));
        assertEquals("[0,1,2,3]", line.get("retained").toString(), "default: full depth");
    }

    @Test
    void withoutJsonASinglePromptStreamsItsTokens() throws IOException {
        String[] common = {"--model", RANDOM, "--prompt-ids", "5,9,13", "--max-new-tokens", "7", "--retained", "0,3"};
        Result plain = run(common);
        JsonNode json = run(concat(common, "--json")).lines().get(0);
        StringBuilder ids = new StringBuilder();
        for (Iterator<JsonNode> it = json.get("tokens").elements(); it.hasNext();) {
            ids.append(ids.length() == 0 ? "" : ",").append(it.next().asInt());
        }
        assertEquals(ids + "\n", plain.out());
        assertTrue(plain.err().startsWith("generate: 1 prompt(s)"), plain.err());
    }

    @Test
    void samplingIsReproducibleWithASeed() throws IOException {
        String[] argv = {"--model", RANDOM, "--prompt-ids", "5,9,13", "--max-new-tokens", "8", "--temperature", "0.9",
            "--seed", "4", "--json"};
        assertEquals(run(argv).lines().get(0).get("tokens"), run(argv).lines().get(0).get("tokens"));
    }

    @Test
    void aTokenizerAddsTextAndTextPrompts(@TempDir Path dir) throws IOException {
        Path fixture = Path.of("..", "models", "reference", "fixtures", "bloom-f32");
        if (!Files.isDirectory(fixture)) {
            fixture = Path.of("models", "reference", "fixtures", "bloom-f32");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(fixture), "reference fixture not present");
        for (String file : List.of("config.json", "model.safetensors")) {
            Files.copy(fixture.resolve(file), dir.resolve(file));
        }
        try (var in = getClass().getClassLoader().getResourceAsStream("tokenizer/word-level.json")) {
            org.junit.jupiter.api.Assumptions.assumeTrue(in != null, "tokenizer test resource not present");
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        Result r = run("--model", dir.toString(), "--prompt", "the cat sat", "--max-new-tokens", "5", "--beams", "2",
                "--json");
        JsonNode line = r.lines().get(0);
        assertEquals("the cat sat", line.get("prompt").asText());
        assertTrue(line.has("text") && line.get("hypotheses").get(0).has("text"), line.toString());
        assertEquals(5, line.get("prompt_tokens").asInt(), "[CLS] the cat sat [SEP]");
        Path batch = dir.resolve("prompts.txt");
        Files.writeString(batch, "the cat\n\nhello world .\n");
        List<JsonNode> lines = run("--model", dir.toString(), "--batch-file", batch.toString(), "--max-new-tokens", "3",
                "--json").lines();
        assertEquals(2, lines.size());
        assertEquals("hello world .", lines.get(1).get("prompt").asText());
    }

    @Test
    void badRequestsFailWithBadInputNamingTheProblem() {
        assertBad("exactly one of --prompt, --prompt-ids or --batch-file", "--model", RANDOM);
        assertBad("exactly one of", "--model", RANDOM, "--prompt", "x", "--prompt-ids", "1");
        assertBad("need a tokenizer", "--model", RANDOM, "--prompt", "hello");
        assertBad("--temperature", "--model", RANDOM, "--prompt-ids", "1", "--temperature", "0");
        assertBad("--top-p", "--model", RANDOM, "--prompt-ids", "1", "--top-p", "2");
        assertBad("cannot be combined with --beams", "--model", RANDOM, "--prompt-ids", "1", "--beams", "2", "--seed", "1");
        assertBad("--num-return", "--model", RANDOM, "--prompt-ids", "1", "--beams", "2", "--num-return", "3");
        assertBad("--prompt-ids (prompt 1)", "--model", RANDOM, "--prompt-ids", "1,2;;3");
        assertBad("outside the model's vocabulary", "--model", RANDOM, "--prompt-ids", "1,60");
        assertBad("model's context is 128", "--model", RANDOM, "--prompt-ids", "1", "--max-new-tokens", "200");
        assertBad("--batch-file: cannot read", "--model", RANDOM, "--batch-file", "/nonexistent/prompts.txt");
        assertBad("--seed: expected an integer", "--model", RANDOM, "--prompt-ids", "1", "--seed", "x");
        assertBad("unknown option --bogus", "--model", RANDOM, "--prompt-ids", "1", "--bogus", "1");
    }

    private static void assertBad(String fragment, String... argv) {
        BadInputException e = assertThrows(BadInputException.class, () -> run(argv), String.join(" ", argv));
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
