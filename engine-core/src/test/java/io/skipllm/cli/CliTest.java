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
}
