package io.skipllm.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skipllm.checkpoint.SafetensorsWriter;
import io.skipllm.cli.Main;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.model.Model;
import io.skipllm.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code skipllm eval} end to end through {@code Main.run}: a 4-layer LLaMA checkpoint with random
 * weights and the byte-level BPE test tokenizer ({@code <s>} = 270 added by its post-processor,
 * {@code </s>} = 271 = EOS), a 4-example data file and a 3-example dev file.
 */
class EvalCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int VOCAB = 272;
    private static final int EOS = 271;
    private static final int LAYERS = 4;

    @TempDir
    static Path dir;
    private static Path model;
    private static Path data;
    private static Path dev;

    record Result(int code, String out, String err) {
        JsonNode json() throws IOException {
            return JSON.readTree(out);
        }
    }

    static Result run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @BeforeAll
    static void writeModelAndData() throws IOException {
        model = writeCheckpoint(dir.resolve("model"), true);
        Path split = Files.createDirectories(dir.resolve("data"));
        data = split.resolve("test.jsonl");
        Files.writeString(data, String.join("\n",
                "{\"id\": \"Mark 1:1\", \"es\": \"Principio del evangelio.\", \"en\": \"The gospel.\"}",
                "{\"id\": \"Mark 1:2\", \"es\": \"Como est\u00e1 escrito.\", \"en\": \"It is written.\"}",
                "",
                "{\"id\": 7, \"es\": \"Voz del que clama.\", \"en\": \"One crying.\"}",
                "{\"es\": \"Bautizaba Juan.\", \"en\": \"John baptized.\", \"extra\": 1}") + "\n");
        dev = split.resolve("dev.jsonl");
        Files.writeString(dev, String.join("\n",
                "{\"id\": \"Jonah 1:1\", \"es\": \"Palabra de Jehov\u00e1.\", \"en\": \"The LORD.\"}",
                "{\"id\": \"Jonah 1:2\", \"es\": \"Lev\u00e1ntate, y ve.\", \"en\": \"Arise.\"}",
                "{\"id\": \"Jonah 1:3\", \"es\": \"Y Jon\u00e1s huy\u00f3.\", \"en\": \"But Jonah fled.\"}") + "\n");
    }

    /** config.json, model.safetensors with seeded random F32 weights and (optionally) tokenizer.json. */
    static Path writeCheckpoint(Path target, boolean withTokenizer) throws IOException {
        Files.createDirectories(target);
        int hidden = 16;
        int intermediate = 24;
        Files.writeString(target.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": %d, "intermediate_size": %d,
                 "num_hidden_layers": %d, "num_attention_heads": 2, "num_key_value_heads": 2, "vocab_size": %d,
                 "max_position_embeddings": 256, "tie_word_embeddings": true, "eos_token_id": %d, "bos_token_id": 270}
                """.formatted(hidden, intermediate, LAYERS, VOCAB, EOS));
        Random random = new Random(5);
        SafetensorsWriter w = new SafetensorsWriter();
        w.f32("model.embed_tokens.weight", gaussian(random, VOCAB * hidden, 1.0), VOCAB, hidden);
        w.f32("model.norm.weight", ones(hidden), hidden);
        for (int i = 0; i < LAYERS; i++) {
            String p = "model.layers." + i + ".";
            w.f32(p + "input_layernorm.weight", ones(hidden), hidden);
            w.f32(p + "post_attention_layernorm.weight", ones(hidden), hidden);
            for (String proj : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                w.f32(p + "self_attn." + proj + ".weight", gaussian(random, hidden * hidden, 0.5), hidden, hidden);
            }
            w.f32(p + "mlp.gate_proj.weight", gaussian(random, intermediate * hidden, 0.5), intermediate, hidden);
            w.f32(p + "mlp.up_proj.weight", gaussian(random, intermediate * hidden, 0.5), intermediate, hidden);
            w.f32(p + "mlp.down_proj.weight", gaussian(random, hidden * intermediate, 0.5), hidden, intermediate);
        }
        w.write(target.resolve("model.safetensors"));
        if (withTokenizer) {
            try (InputStream in = EvalCommandTest.class.getClassLoader().getResourceAsStream("tokenizer/byte-bpe.json")) {
                assertTrue(in != null, "missing test resource tokenizer/byte-bpe.json");
                Files.copy(in, target.resolve("tokenizer.json"));
            }
        }
        return target;
    }

    private static float[] gaussian(Random random, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * scale);
        }
        return v;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    private static List<String> texts(JsonNode rowExamples, String key) {
        List<String> out = new ArrayList<>();
        rowExamples.forEach(e -> out.add(e.get(key).asText()));
        return out;
    }

    @Test
    void jsonReportsEveryStrategyWithConsistentFigures() throws IOException {
        Result r = run("eval", "--model", model.toString(), "--data", data.toString(), "--strategies",
                "full,unified,top,bottom,greedy,skipdecode,early-exit", "--speedups", "2", "--max-new-tokens", "6",
                "--batch-size", "3", "--examples", "4", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode json = r.json();
        assertEquals(4, json.get("examples_count").asInt());
        assertEquals(dev.toAbsolutePath().toString(), json.get("dev").asText(), "dev.jsonl beside the data is found");
        JsonNode rows = json.get("rows");
        assertEquals(7, rows.size(), "full once, then each strategy at 2x");
        List<String> strategies = new ArrayList<>();
        rows.forEach(row -> strategies.add(row.get("strategy").asText()));
        assertEquals(List.of("full", "unified", "top", "bottom", "greedy", "skipdecode", "early-exit"), strategies);

        JsonNode full = rows.get(0);
        assertEquals(1.0, full.get("speedup").asDouble());
        assertEquals("[0,1,2,3]", full.get("retained").toString());
        assertEquals("[0,3]", rows.get(1).get("retained").toString());
        assertEquals("[0,1]", rows.get(2).get("retained").toString());
        assertEquals("[2,3]", rows.get(3).get("retained").toString());

        // the response loss is scored on " " + en plus EOS, as the tokenizer encodes it
        long responseTokens = 0;
        try (Tokenizer tokenizer = Tokenizer.load(model.resolve("tokenizer.json"))) {
            for (String en : List.of("The gospel.", "It is written.", "One crying.",
                    "John baptized.")) {
                responseTokens += tokenizer.encodeWithoutSpecialTokens(" " + en).length + 1;
            }
        }
        for (JsonNode row : rows) {
            String name = row.get("strategy").asText();
            assertTrue(row.get("supported").asBoolean(), name);
            assertEquals(responseTokens, row.get("loss_tokens").asLong(), name);
            assertTrue(row.get("loss").asDouble() > 0, name);
            JsonNode examples = row.get("examples");
            assertEquals(4, examples.size(), name);
            assertEquals(List.of("Mark 1:1", "Mark 1:2", "7", "line 5"), texts(examples, "id"));
            // scores are the corpus metrics of exactly these hypotheses (all examples are shown)
            List<String> hyps = texts(examples, "hypothesis");
            List<String> refs = texts(examples, "reference");
            assertEquals(Bleu.corpus(hyps, refs).score(), row.get("bleu").asDouble(), 1e-9, name);
            assertEquals(Chrf.corpus(hyps, refs).score(), row.get("chrf").asDouble(), 1e-9, name);
            double layers = row.get("activated_layers").asDouble();
            if (!row.get("retained").isNull()) {
                assertEquals(row.get("retained").size(), layers, 1e-12, name + ": a fixed set runs its size");
            } else {
                assertTrue(layers >= 1 && layers <= LAYERS, name + ": " + layers);
                assertTrue(row.has("details"), name);
            }
        }
        // early exit's row as recorded before the forward pass was split into backends (commit 9cbb35e): the
        // depths and the hypotheses must not move with the refactor; the calibrated threshold (a probability)
        // and the loss to float32 rounding, which differs between the weight kernels (Vector API, native)
        JsonNode earlyExit = rows.get(6);
        assertEquals(0.6063463651859962, earlyExit.get("details").get("threshold").asDouble(), 1e-5);
        assertEquals(2.85, earlyExit.get("activated_layers").asDouble(), 1e-12);
        assertEquals(3.0416666666666665, earlyExit.get("activated_layers_all_tokens").asDouble(), 1e-12);
        assertEquals(11.993491071942415, earlyExit.get("loss").asDouble(), 1e-5);
        assertEquals(List.of("\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd", "\ufffd\ufffdJK\ufffd\ufffd",
                "\ufffd0\ufffd\ufffd\ufffd\ufffd", "\ufffd\ufffdrX\ufffd\ufffd"),
                texts(earlyExit.get("examples"), "hypothesis"));
        assertTrue(Math.abs(rows.get(0).get("loss").asDouble() - rows.get(1).get("loss").asDouble()) > 1e-3,
                "skipping layers changes the response loss");

        // the full row's hypotheses are what the generator produces from the same prompt
        try (Model m = Model.load(model)) {
            String prompt = TranslationPrompts.DEFAULT_TEMPLATE.replace("{source}", "Principio del evangelio.");
            String text = m.generator().generateText(prompt, GenerationConfig.builder().maxNewTokens(6).build()).text();
            assertEquals(text.strip(), full.get("examples").get(0).get("hypothesis").asText());
        }

        JsonNode greedy = json.get("greedy_search");
        assertEquals(3, greedy.get("dev_examples").asInt());
        assertEquals(2, greedy.get("path").size(), "4 -> 3 -> 2 layers for unified's 2 at 2x");
        JsonNode last = greedy.get("path").get(1);
        assertEquals(last.get("retained"), rows.get(4).get("retained"), "the greedy row uses the searched set");
        assertEquals(2, last.get("retained").size());
        assertEquals(3, last.get("candidates").size());
        assertEquals("[{\"layers\":2,\"retained\":" + last.get("retained") + "}]", greedy.get("sets").toString());
        assertTrue(r.err().contains("greedy search: drop layer"), r.err());
    }

    @Test
    void selfSpeculativeRowsAreLosslessAndReportAcceptance() throws IOException {
        Result r = run("eval", "--model", model.toString(), "--data", data.toString(), "--strategies",
                "full,self-speculative", "--speedups", "2", "--draft-tokens", "2,3", "--max-new-tokens", "6",
                "--batch-size", "3", "--examples", "4", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode json = r.json();
        assertEquals("[2,3]", json.get("draft_tokens").toString());
        JsonNode rows = json.get("rows");
        assertEquals(3, rows.size(), "full, then self-speculative 2x with k = 2 and 3");
        JsonNode full = rows.get(0);
        assertFalse(full.has("draft_tokens"), "other rows are unchanged: " + full);
        for (int i = 1; i < 3; i++) {
            JsonNode row = rows.get(i);
            assertEquals("self-speculative", row.get("strategy").asText());
            assertTrue(row.get("supported").asBoolean());
            assertEquals(i + 1, row.get("draft_tokens").asInt());
            assertEquals("[0,3]", row.get("retained").toString(), "drafts through unified's set");
            double acceptance = row.get("acceptance_rate").asDouble();
            assertTrue(acceptance >= 0 && acceptance <= 1, "" + acceptance);
            assertEquals(i + 1, row.get("acceptance_by_position").size());
            double perRound = row.get("tokens_per_round").asDouble();
            assertTrue(perRound >= 1 && perRound <= i + 2, "" + perRound);
            // lossless: full-depth greedy's hypotheses, metrics and (full-network) loss
            assertEquals(texts(full.get("examples"), "hypothesis"), texts(row.get("examples"), "hypothesis"));
            assertEquals(full.get("bleu").asDouble(), row.get("bleu").asDouble(), 1e-12);
            assertEquals(full.get("chrf").asDouble(), row.get("chrf").asDouble(), 1e-12);
            assertEquals(full.get("loss").asDouble(), row.get("loss").asDouble(), 1e-12);
            assertEquals(full.get("mean_output_tokens").asDouble(), row.get("mean_output_tokens").asDouble(), 1e-12);
            // every kept token is the full network's
            assertEquals(LAYERS, row.get("activated_layers").asDouble(), 1e-12);
            assertEquals(LAYERS, row.get("activated_layers_all_tokens").asDouble(), 1e-12);
            assertTrue(row.get("tokens_per_s").asDouble() > 0);
        }

        Result table = run("eval", "--model", model.toString(), "--data", data.toString(), "--strategies",
                "unified,self-speculative", "--speedups", "2", "--max-new-tokens", "4", "--beams", "2", "--limit", "2",
                "--examples", "0", "--json");
        assertEquals(0, table.code(), table.err());
        JsonNode beamRows = table.json().get("rows");
        assertTrue(beamRows.get(0).get("supported").asBoolean(), "unified runs beam search");
        JsonNode beam = beamRows.get(1);
        assertFalse(beam.get("supported").asBoolean(), "lossless decoding is greedy: " + beam);
        assertEquals(4, beam.get("draft_tokens").asInt(), "--draft-tokens defaults to 4");
        assertTrue(beam.get("acceptance_rate").isNull() && beam.get("bleu").isNull(), beam.toString());
        assertTrue(beam.get("loss").asDouble() > 0, "the loss is reported either way");
        assertTrue(table.err().contains("lossless self-speculative decoding is greedy"), table.err());
    }

    @Test
    void tableAndBeamSearch() {
        Result r = run("eval", "--model", model.toString(), "--data", data.toString(), "--strategies",
                "unified,skipdecode", "--speedups", "2", "--max-new-tokens", "4", "--beams", "2", "--limit", "2",
                "--examples", "1");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        assertTrue(lines[0].startsWith("strategy") && lines[0].contains("BLEU") && lines[0].contains("chrF"), r.out());
        assertTrue(lines[1].startsWith("unified") && lines[1].contains("[0, 3]"), r.out());
        assertTrue(lines[2].startsWith("skipdecode") && lines[2].contains("n/a"), "no beam search with a schedule: "
                + r.out());
        assertTrue(r.out().contains("Mark 1:1\n  source:    Principio del evangelio.\n"), r.out());
        assertTrue(r.err().contains("not supported with --beams > 1"), r.err());
        assertFalse(r.out().contains("Mark 1:2"), "--examples 1");
    }

    @Test
    void badInputExitsWithTwoNamingTheProblem() throws IOException {
        Path badJson = dir.resolve("bad.jsonl");
        Files.writeString(badJson, "{\"es\": \"a\", \"en\": \"b\"}\n{\"es\": \"a\", \"en\": }\n");
        Path missingEn = dir.resolve("missing.jsonl");
        Files.writeString(missingEn, "{\"es\": \"a\", \"en\": \"b\"}\n\n{\"es\": \"a\"}\n");
        Path lonely = Files.createDirectories(dir.resolve("lonely")).resolve("test.jsonl");
        Files.copy(data, lonely, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path noTokenizer = writeCheckpoint(dir.resolve("no-tokenizer"), false);
        Path latin1 = dir.resolve("latin1.jsonl");
        Files.write(latin1, "{\"es\": \"Jehov\u00e1\", \"en\": \"LORD\"}\n".getBytes(StandardCharsets.ISO_8859_1));
        Path notObject = dir.resolve("array.jsonl");
        Files.writeString(notObject, "[1, 2]\n");
        String m = model.toString();
        String d = data.toString();
        assertBad(badJson + " line 2: not valid JSON", "--model", m, "--data", badJson.toString());
        assertBad(missingEn + " line 3: \"en\" must be a string and is missing", "--model", m, "--data",
                missingEn.toString());
        assertBad("not valid UTF-8 text", "--model", m, "--data", latin1.toString());
        assertBad(notObject + " line 1: expected a JSON object", "--model", m, "--data", notObject.toString());
        assertBad("does not exist", "--model", m, "--data", dir.resolve("nope.jsonl").toString());
        assertBad("--data is required", "--model", m);
        assertBad("unknown strategy 'middle'", "--model", m, "--data", d, "--strategies", "full,middle");
        assertBad("listed twice", "--model", m, "--data", d, "--strategies", "full,full");
        assertBad("--speedups: expected comma-separated numbers", "--model", m, "--data", d, "--speedups", "2,x");
        assertBad("--speedups: each must be a finite number >= 1", "--model", m, "--data", d, "--speedups", "0.5");
        assertBad("--template must contain {source}", "--model", m, "--data", d, "--template", "Translate:");
        assertBad("--limit must be >= 1", "--model", m, "--data", d, "--limit", "0");
        assertBad("--beams must be >= 1", "--model", m, "--data", d, "--beams", "0");
        assertBad("--draft-tokens: each must be within 1..16, got 0", "--model", m, "--data", d, "--draft-tokens", "0");
        assertBad("--draft-tokens: expected comma-separated integers", "--model", m, "--data", d, "--draft-tokens", "x");
        assertBad("--beams 300 exceeds the vocabulary size 272", "--model", m, "--data", d, "--beams", "300");
        assertBad("give --dev FILE", "--model", m, "--data", lonely.toString());
        assertBad("has no tokenizer.json", "--model", noTokenizer.toString(), "--data", d, "--strategies", "full");
        assertBad("exceeds the model's context of 256 (lower --max-new-tokens)", "--model", m, "--data", d,
                "--strategies", "full", "--max-new-tokens", "250");
    }

    private static void assertBad(String fragment, String... options) {
        String[] argv = new String[options.length + 1];
        argv[0] = "eval";
        System.arraycopy(options, 0, argv, 1, options.length);
        Result r = run(argv);
        assertEquals(2, r.code(), String.join(" ", argv) + "\n" + r.err());
        String[] lines = r.err().strip().split("\n");
        String error = lines[lines.length - 1];  // progress lines may come first
        assertTrue(error.startsWith("error: ") && error.contains(fragment), "expected '" + fragment + "' in: " + r.err());
        assertEquals("", r.out());
    }
}
