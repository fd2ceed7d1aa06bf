package io.skipllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** {@code --weights} and {@code dtype=} on the commands that load a model, and the refusal of what does not fit. */
class WeightsOptionTest {

    private static final String FIXTURE = "../models/reference/fixtures/llama-gqa-bf16";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyFormatGeneratesFromACheckpoint() throws Exception {
        String full = null;
        for (String format : new String[] {"stored", "bf16", "f32", "f16", "q8_0"}) {
            CliTest.Result r = CliTest.run("generate", "--model", FIXTURE, "--prompt-ids", "1,5,9,13",
                    "--max-new-tokens", "4", "--weights", format, "--json");
            assertEquals(0, r.code(), format + ": " + r.err());
            JsonNode tokens = JSON.readTree(r.out()).get("tokens");
            assertEquals(4, tokens.size(), format);
            if (format.equals("stored")) {
                full = tokens.toString();
            } else if (!format.equals("q8_0")) {
                // the fixture is stored in BF16: BF16, F32 and F16 hold the same values
                assertEquals(full, tokens.toString(), format);
            }
        }
    }

    @Test
    void benchRowsNameTheirWeightFormat() throws Exception {
        CliTest.Result r = CliTest.run("bench", "--model",
                "random:llama,layers=2,hidden=64,heads=4,intermediate=96,vocab=128,dtype=bf16", "--weights", "q8_0",
                "--strategies", "unified", "--speedups", "2", "--batch-sizes", "1", "--new-tokens", "4",
                "--prompt-tokens", "4", "--warmup", "0", "--repeats", "1", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode json = JSON.readTree(r.out());
        assertEquals("q8_0", json.get("weights").asText());
        for (JsonNode row : json.get("rows")) {
            assertEquals("q8_0", row.get("weights").asText());
        }
        assertTrue(r.err().contains("weights q8_0"), r.err());
    }

    @Test
    void aModelThatDoesNotFitIsRefusedBeforeLoading() {
        CliTest.Result r = CliTest.run("bench", "--model",
                "random:llama,layers=200,hidden=8192,intermediate=28672,vocab=128000", "--strategies", "unified");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("error: "), r.err());
        assertTrue(r.err().contains("needs") && r.err().contains("can get"), r.err());
        assertTrue(r.err().contains("no weight format makes it fit") || r.err().contains("--weights"), r.err());
        assertEquals("", r.out());
        // refused from the shapes alone, before anything is allocated: the bytes it names are the float32
        // weights this spec implies (per layer q, k, v, o of 8192^2, gate, up, down of 8192 x 28672 and two
        // norms; untied embeddings and LM head; the final norm) plus the 1 GiB runtime reserve, by hand
        long hidden = 8192;
        long weights = 4 * (200 * (4 * hidden * hidden + 3 * hidden * 28672 + 2 * hidden) + hidden + 2 * 128000 * hidden);
        assertTrue(r.err().contains("(" + (weights + (1L << 30)) + " bytes"), r.err());
    }

    @Test
    void badFormatsAreBadInput() {
        CliTest.Result r = CliTest.run("generate", "--model", FIXTURE, "--prompt-ids", "1,5", "--weights", "q4");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("unknown weight format 'q4'"), r.err());
        r = CliTest.run("bench", "--model", "random:llama,layers=2,hidden=64,heads=4,vocab=128,dtype=q8_0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("dtype"), r.err());
    }
}
