package io.skipllm.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skipllm.backend.Backend;
import io.skipllm.model.ReferenceLogits;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs only in the {@code checks-on-cpu} surefire execution, where nd4j-native replaces nd4j-cuda: the
 * checks GpuCheck and the GPU tests run must pass on the CPU backend, so a failure on a GPU points at
 * the GPU, and the recorded CPU tokens in cpu-generation.json must be what the CPU backend generates.
 */
class GpuCheckOnCpuTest {

    @BeforeAll
    static void onlyWithTheCpuBackend() {
        // `mvn -Dtest=...` applies to every surefire execution and overrides their includes/excludes
        Assumptions.assumeFalse(CudaPreflight.cudaBackendOnClasspath(), "runs in the checks-on-cpu execution only");
    }

    @Test
    void theClasspathHasTheCpuBackendAndThePreflightStepsAside() {
        assertFalse(CudaPreflight.cudaBackendOnClasspath());
        assertEquals("CPU", Backend.require().name());
    }

    @Test
    void gpuCheckPassesOnTheCpuBackend(@TempDir Path out) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int code = GpuCheck.run(new String[] {"--out", out.toString(), "--fixtures", CudaGate.FIXTURES.toString()},
                new PrintStream(log, true, StandardCharsets.UTF_8));
        String printed = log.toString(StandardCharsets.UTF_8);
        assertEquals(GpuCheck.PASSED, code, printed);
        JsonNode json = new ObjectMapper().readTree(Files.readString(out.resolve("gpu-check.json")));
        assertTrue(json.get("passed").asBoolean());
        assertTrue(json.get("backend").asText().startsWith("CPU"), json.get("backend").asText());
        assertFalse(json.has("cuda"), "no CUDA probe without the CUDA backend");
        int cases = 0;
        for (Path dir : ReferenceLogits.fixtureDirs(CudaGate.FIXTURES)) {
            cases += new ObjectMapper().readTree(dir.resolve("expected.json").toFile()).get("cases").size();
        }
        assertEquals(cases, json.get("reference_logits").size());
        for (JsonNode c : json.get("reference_logits")) {
            assertTrue(c.get("rows").asInt() > 0, c.toString());
            assertTrue(c.get("max_abs_diff").asDouble() <= ReferenceLogits.TOLERANCE, c.toString());
        }
        assertEquals(GenerationCheck.recorded().get("cases").size(), json.get("generation").size());
        for (JsonNode g : json.get("generation")) {
            assertTrue(g.get("passed").asBoolean(), g.toString());
            assertFalse(g.get("expected").isEmpty(), "recorded tokens present: " + g);
            if (g.has("min_margin")) {
                // the cases were chosen so a GPU within the 1e-3 logit tolerance cannot flip a token
                assertTrue(g.get("min_margin").asDouble() > 0.01, g.toString());
            }
        }
    }

    @Test
    void aWrongLogitIsCaughtByTheComparison(@TempDir Path copy) throws Exception {
        // the comparison must be able to fail: shift one reference logit by 0.01 (10x the tolerance)
        Path source = CudaGate.FIXTURES.resolve("llama-gqa-bf16");
        Path dir = copy.resolve("llama-gqa-bf16");
        Files.createDirectories(dir);
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            Files.copy(source.resolve(f), dir.resolve(f));
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode expected = json.readTree(source.resolve("expected.json").toFile());
        com.fasterxml.jackson.databind.node.ArrayNode row =
                (com.fasterxml.jackson.databind.node.ArrayNode) expected.get("cases").get(0).get("logits").get(0).get(1);
        row.set(5, json.getNodeFactory().numberNode(row.get(5).asDouble() + 0.01));
        json.writeValue(dir.resolve("expected.json").toFile(), expected);
        java.util.List<ReferenceLogits.CaseResult> results = ReferenceLogits.runAll(copy);
        ReferenceLogits.CaseResult first = results.get(0);
        assertFalse(first.passed(ReferenceLogits.TOLERANCE), first.toString());
        assertTrue(first.maxAbsDiff() > 0.009, first.toString());
        assertTrue(results.get(1).passed(ReferenceLogits.TOLERANCE), "other cases unaffected: " + results.get(1));
    }

    @Test
    void badArgumentsAreExitCodeTwo() {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(log, true, StandardCharsets.UTF_8);
        assertEquals(GpuCheck.BAD_ARGS, GpuCheck.run(new String[] {"--bogus", "x"}, p));
        assertEquals(GpuCheck.BAD_ARGS, GpuCheck.run(new String[] {"--out"}, p));
        assertEquals(GpuCheck.BAD_ARGS, GpuCheck.run(new String[] {}, p));
        assertTrue(log.toString(StandardCharsets.UTF_8).startsWith("error: "), log.toString(StandardCharsets.UTF_8));
    }
}
