package io.skipllm.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skipllm.SkipLlmException;
import io.skipllm.backend.Backend;
import io.skipllm.cli.Main;
import io.skipllm.model.Model;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What skipllm-cuda.jar does on the machine at hand. With a usable GPU: the backend is CUDA and names
 * its device. Without one (no driver, no device, no CUDA 11 runtime, an unsupported GPU): one clear
 * error from the library, the CLI and GpuCheck, never a JVM crash, while {@code plan} still works.
 */
class CudaBackendTest {

    @BeforeAll
    static void onlyWithTheCudaBackendOnTheClasspath() {
        // not in the checks-on-cpu execution (reachable there through `mvn -Dtest=...`)
        Assumptions.assumeTrue(CudaPreflight.cudaBackendOnClasspath(), "needs nd4j-cuda on the classpath");
    }

    @Test
    void theBackendIsCudaOrTheReasonIsClear() {
        Optional<String> reason = CudaGate.unavailableReason();
        if (reason.isEmpty()) {
            assertTrue(Backend.require().isCuda());
            assertFalse(Backend.require().devices().isEmpty(), "a CUDA backend names its devices");
            return;
        }
        System.out.println("no usable CUDA backend here: " + reason.get());
        String message = reason.get();
        assertTrue(message.startsWith(CudaPreflight.PREFIX), message);
        assertTrue(message.endsWith(CudaPreflight.ADVICE), message);
        // the same message on every later call, from the library's entry point too
        SkipLlmException e = assertThrows(SkipLlmException.class, () -> Model.load(CudaGate.FIXTURES.resolve("bloom-f32")));
        assertEquals(message, e.getMessage());
    }

    @Test
    void withoutCudaTheCliFailsWithOneErrorLineAndExitCodeOne() {
        Optional<String> reason = CudaGate.unavailableReason();
        String[] logits = {"logits", "--model", CudaGate.FIXTURES.resolve("llama-gqa-bf16").toString(),
            "--prompt-ids", "1,2,3"};
        Run r = run(logits);
        if (reason.isEmpty()) {
            assertEquals(0, r.code, r.err);
            assertTrue(r.out.startsWith("{\"retained\":"), r.out);
            return;
        }
        assertEquals(1, r.code, r.err);
        assertEquals("", r.out);
        assertEquals("error: " + reason.get() + "\n", r.err, "exactly one line, no stack trace");
    }

    @Test
    void planNeedsNoBackend() {
        Run r = run("plan", "--layers", "30", "--speedup", "5");
        assertEquals(0, r.code, r.err);
        assertEquals("{\"strategy\":\"unified\",\"layers\":30,\"speedup\":5.0,\"retained\":[0,6,12,18,24,29]}\n", r.out);
    }

    @Test
    void gpuCheckReportsTheBackendFailureInItsJson(@TempDir Path out) throws Exception {
        Optional<String> reason = CudaGate.unavailableReason();
        if (reason.isEmpty()) {
            return; // GpuReferenceLogitsTest and GpuGenerationTest cover the run itself
        }
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int code = GpuCheck.run(new String[] {"--out", out.toString(), "--fixtures", CudaGate.FIXTURES.toString()},
                new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals(GpuCheck.NO_BACKEND, code, log.toString(StandardCharsets.UTF_8));
        JsonNode json = new ObjectMapper().readTree(Files.readString(out.resolve("gpu-check.json")));
        assertEquals(reason.get(), json.get("backend_error").asText());
        assertFalse(json.get("passed").asBoolean());
        assertTrue(json.get("cuda").has("error"), json.toString());
    }

    record Run(int code, String out, String err) {
    }

    static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
