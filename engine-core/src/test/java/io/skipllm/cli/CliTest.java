package io.skipllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The CLI in-process: JSON shapes and exit codes of CONTRACTS.md. */
class CliTest {

    record Result(int code, String out, String err) {
    }

    static Result run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void planPrintsTheContractJson() {
        Result r = run("plan", "--layers", "30", "--speedup", "5");
        assertEquals(0, r.code(), r.err());
        assertEquals("{\"strategy\":\"unified\",\"layers\":30,\"speedup\":5.0,\"retained\":[0,6,12,18,24,29]}\n", r.out());
    }

    @Test
    void planWithStrategies() {
        assertEquals("{\"strategy\":\"top\",\"layers\":30,\"speedup\":3.0,\"retained\":[0,1,2,3,4,5,6,7,8,9]}\n",
                run("plan", "--layers", "30", "--speedup", "3", "--strategy", "top").out());
        assertEquals("{\"strategy\":\"bottom\",\"layers\":30,\"speedup\":5.0,\"retained\":[24,25,26,27,28,29]}\n",
                run("plan", "--layers", "30", "--speedup=5", "--strategy=bottom").out());
        assertEquals("{\"strategy\":\"full\",\"layers\":4,\"speedup\":2.0,\"retained\":[0,1,2,3]}\n",
                run("plan", "--layers", "4", "--speedup", "2", "--strategy", "full").out());
    }

    @Test
    void badInputExitsWithTwoAndOneErrorLine() {
        for (String[] argv : new String[][] {
            {"plan", "--layers", "30", "--speedup", "0.5"},
            {"plan", "--layers", "30"},
            {"plan", "--layers", "x", "--speedup", "2"},
            {"plan", "--layers", "30", "--speedup", "2", "--strategy", "middle"},
            {"plan", "--layers", "30", "--speedup", "2", "--bogus", "1"},
            {"plan", "--layers", "30", "--speedup", "NaN"},
            {"nonsense"},
            {},
        }) {
            Result r = run(argv);
            assertEquals(2, r.code(), String.join(" ", argv));
            assertTrue(r.err().startsWith("error: ") || argv.length == 0, r.err());
            assertEquals("", r.out(), String.join(" ", argv));
            if (argv.length > 0) {
                assertEquals(1, r.err().lines().count(), "exactly one line without --debug: " + r.err());
            }
        }
    }

    @Test
    void logitsMatchesTheReferenceFixture() throws Exception {
        String dir = "../models/reference/fixtures/llama-gqa-bf16";
        JsonNode expected = new ObjectMapper().readTree(new java.io.File(dir, "expected.json"));
        JsonNode unified = null;
        for (JsonNode c : expected.get("cases")) {
            if (c.get("name").asText().equals("unified-2x")) {
                unified = c;
            }
        }
        String prompt = join(unified.get("prompts").get(0));
        String decode = join(unified.get("decode_ids").get(0));
        Result r = run("logits", "--model", dir, "--prompt-ids", prompt, "--decode-ids", decode, "--speedup", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("KV cache"), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals(unified.get("retained"), json.get("retained"));
        JsonNode rows = json.get("logits");
        JsonNode want = unified.get("logits").get(0);
        assertEquals(want.size(), rows.size());
        for (int k = 0; k < rows.size(); k++) {
            for (int i = 0; i < want.get(k).size(); i++) {
                assertEquals(want.get(k).get(i).asDouble(), rows.get(k).get(i).asDouble(), 1e-3);
            }
        }
        Result explicit = run("logits", "--model", dir, "--prompt-ids", prompt, "--decode-ids", decode,
                "--retained", "0,3,5");
        assertEquals(r.out(), explicit.out());
    }

    @Test
    void logitsErrorsNameTheProblem() {
        String dir = "../models/reference/fixtures/bloom-f32";
        Result r = run("logits", "--model", dir, "--prompt-ids", "1,2,999");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("999"), r.err());
        r = run("logits", "--model", "/nonexistent/model", "--prompt-ids", "1");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("/nonexistent/model"), r.err());
        r = run("logits", "--model", dir, "--prompt-ids", "1,2", "--retained", "0,9");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("layer 9 does not exist"), r.err());
        r = run("logits", "--model", dir, "--prompt-ids", "1,x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--prompt-ids"), r.err());
    }

    private static String join(JsonNode ids) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode id : ids) {
            sb.append(sb.length() == 0 ? "" : ",").append(id.asInt());
        }
        return sb.toString();
    }

    @Test
    void debugAddsTheStackTrace() {
        Result r = run("plan", "--layers", "0", "--speedup", "2", "--debug");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: number of layers must be >= 1, got 0"), r.err());
        assertTrue(r.err().contains("at io.skipllm."), r.err());
    }

    @Test
    void debugReportsTheBackendFirstAndOnlyForCommandsThatUseIt() {
        String dir = "../models/reference/fixtures/llama-gqa-bf16";
        Result debug = run("logits", "--model", dir, "--prompt-ids", "1,2,3", "--debug");
        assertEquals(0, debug.code(), debug.err());
        String first = debug.err().lines().findFirst().orElse("");
        assertTrue(first.startsWith("backend: CPU (linux-x86_64, "), debug.err());
        Result quiet = run("logits", "--model", dir, "--prompt-ids", "1,2,3");
        assertEquals(0, quiet.code(), quiet.err());
        assertTrue(quiet.err().lines().noneMatch(l -> l.startsWith("backend:")), quiet.err());
        Result plan = run("plan", "--layers", "4", "--speedup", "2", "--debug");
        assertTrue(plan.err().isEmpty(), "plan needs no backend: " + plan.err());
    }

    @Test
    void benchJsonCarriesRowsWorkloadAndMemoryProbes() throws Exception {
        Result r = run("bench", "--model", "random:llama,layers=4,hidden=32,heads=4,kv_heads=2,intermediate=48,vocab=40,seed=2",
                "--strategies", "unified,skipdecode", "--speedups", "2", "--batch-sizes", "1,2", "--prompt-tokens", "3",
                "--new-tokens", "8", "--response-lengths", "3,5", "--warmup", "0", "--repeats", "1", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals(6, json.get("rows").size());
        JsonNode unified = json.get("rows").get(1);
        for (String key : new String[] {"strategy", "speedup", "batch", "beams", "activated_layers", "tokens_per_s",
            "speedup_vs_full", "speedup_vs_full_min", "speedup_vs_full_max", "predicted_speedup", "prefill_ms"}) {
            assertTrue(unified.has(key), key + " in " + unified);
        }
        assertEquals("[3,5]", json.get("workload").get("response_lengths").toString());
        assertEquals(8, json.get("workload").get("new_tokens").asInt());
        assertTrue(json.get("model").asText().startsWith("random:llama,layers=4"), r.out());
        double memory = json.get("memory_read_gb_per_s").asDouble();
        assertTrue(memory > 0, r.out());
        assertEquals(memory, Math.max(json.get("memory_probes_gb_per_s").get("sum").asDouble(),
                json.get("memory_probes_gb_per_s").get("matrix_vector").asDouble()), 1e-9);

        Result speculative = run("bench", "--model", "random:llama,layers=4,hidden=32,heads=4,kv_heads=2,intermediate=48,vocab=40,seed=2",
                "--strategies", "self-speculative", "--speedups", "2", "--draft-tokens", "2,3", "--prompt-tokens", "3",
                "--new-tokens", "5", "--warmup", "0", "--repeats", "1", "--json");
        assertEquals(0, speculative.code(), speculative.err());
        JsonNode specJson = new ObjectMapper().readTree(speculative.out());
        assertEquals(3, specJson.get("rows").size(), "full, then k = 2 and 3");
        assertEquals("[2,3]", specJson.get("workload").get("draft_tokens").toString());
        assertTrue(!specJson.get("rows").get(0).has("draft_tokens"), "the full row is unchanged");
        for (int i = 1; i < 3; i++) {
            JsonNode row = specJson.get("rows").get(i);
            assertEquals("self-speculative", row.get("strategy").asText());
            assertEquals(i + 1, row.get("draft_tokens").asInt());
            double acceptance = row.get("acceptance_rate").asDouble();
            assertTrue(acceptance >= 0 && acceptance <= 1, row.toString());
            assertEquals(i + 1, row.get("acceptance_by_position").size(), row.toString());
            assertEquals("[0,3]", row.get("retained").toString());
            assertTrue(row.get("tokens_per_s").asDouble() > 0 && row.get("predicted_speedup").asDouble() > 0, row.toString());
        }
        Result badDraft = run("bench", "--model", "random:llama,layers=4,hidden=32,heads=4,kv_heads=2,intermediate=48,vocab=40",
                "--strategies", "self-speculative", "--draft-tokens", "0");
        assertEquals(2, badDraft.code());
        assertTrue(badDraft.err().startsWith("error: ") && badDraft.err().contains("--draft-tokens"), badDraft.err());

        Result bad = run("bench", "--model", "random:llama,layers=4,hidden=32,heads=4,kv_heads=2,intermediate=48,vocab=40",
                "--new-tokens", "8", "--response-lengths", "3,12");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("response lengths must be between 1 and --new-tokens (8), got 12"), bad.err());
    }
}
