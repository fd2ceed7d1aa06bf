package io.skipllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** {@code --backend host|nd4j}: the same tokens from both passes, the choice reported, clear refusals. */
class BackendOptionTest {

    private static final String FIXTURE = "../models/reference/fixtures/llama-gqa-bf16";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode generate(String backend) throws IOException {
        CliTest.Result r = CliTest.run("generate", "--model", FIXTURE, "--backend", backend, "--prompt-ids", "1,17,33,9",
                "--max-new-tokens", "6", "--speedup", "2", "--json");
        assertEquals(0, r.code(), r.err());
        return JSON.readTree(r.out());
    }

    @Test
    void bothPassesGenerateTheSameTokens() throws IOException {
        JsonNode host = generate("host");
        JsonNode nd4j = generate("nd4j");
        assertEquals(6, host.get("tokens").size());
        assertEquals(host.get("tokens"), nd4j.get("tokens"));
        assertEquals(host.get("hypotheses").get(0).get("logprob").asDouble(),
                nd4j.get("hypotheses").get(0).get("logprob").asDouble(), 1e-3);
    }

    @Test
    void debugReportsTheChosenPass() {
        for (String backend : new String[] {"host", "nd4j"}) {
            CliTest.Result r = CliTest.run("generate", "--debug", "--model", FIXTURE, "--backend", backend,
                    "--prompt-ids", "1,5", "--max-new-tokens", "1");
            assertEquals(0, r.code(), r.err());
            String first = r.err().lines().filter(l -> l.startsWith("backend:")).findFirst().orElse("");
            assertTrue(first.endsWith("; forward pass: " + backend), r.err());
        }
    }

    @Test
    void anUnknownPassIsBadInput() {
        CliTest.Result r = CliTest.run("generate", "--model", FIXTURE, "--backend", "gpu", "--prompt-ids", "1,5");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("error: --backend: expected host or nd4j, got 'gpu'"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void losslessOnTheNd4jPassIsRefusedNamingTheFix() {
        CliTest.Result r = CliTest.run("generate", "--model", FIXTURE, "--backend", "nd4j", "--prompt-ids", "1,5",
                "--lossless", "--speedup", "2", "--max-new-tokens", "3");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("error: independent sequences") && r.err().contains("--backend host"), r.err());
    }

    @Test
    void q8ZeroNeedsTheHostPass() {
        CliTest.Result r = CliTest.run("generate", "--model", FIXTURE, "--backend", "nd4j", "--weights", "q8_0",
                "--prompt-ids", "1,5");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("error: --weights q8_0 needs --backend host"), r.err());
    }
}
