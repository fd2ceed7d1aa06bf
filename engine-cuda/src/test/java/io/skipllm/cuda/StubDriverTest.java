package io.skipllm.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.cli.Main;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A machine with an NVIDIA driver but no usable GPU for ND4J, imitated without one: a stub
 * {@code libcuda.so.1} (compiled here with gcc) whose every entry point answers "no CUDA-capable
 * device". With it on {@code LD_LIBRARY_PATH} the CLI, in a separate JVM, must get past the driver
 * check and stop at the next missing piece with one error line and exit code 1: the CUDA 11 runtime
 * (a default build on a machine without CUDA 11, the likely case on a CUDA 12/13 machine) or the
 * device itself (with -Pcuda-redist, or CUDA 11 installed). Never a JVM crash.
 */
class StubDriverTest {

    private static final String STUB = """
            /* a stand-in NVIDIA driver: CUDA_ERROR_NO_DEVICE (100) from every call the runtime makes first */
            int cuInit(unsigned flags) { return 100; }
            int cuDriverGetVersion(int *version) { *version = 12040; return 0; }
            int cuGetExportTable(const void **table, const void *id) { return 100; }
            int cuGetProcAddress(const char *symbol, void **fn, int version, unsigned long long flags) { return 100; }
            """;

    @Test
    void aDriverWithoutAUsableDeviceIsOneClearError(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(CudaPreflight.cudaBackendOnClasspath(), "needs nd4j-cuda on the classpath");
        Assumptions.assumeTrue(CudaGate.unavailableReason().isPresent(), "a real GPU is here; the GPU tests run instead");
        Path source = Files.writeString(tmp.resolve("stub.c"), STUB);
        Path library = tmp.resolve("libcuda.so.1");
        int gcc;
        try {
            Process p = new ProcessBuilder("gcc", "-shared", "-fPIC", "-Wl,-soname,libcuda.so.1", "-o",
                    library.toString(), source.toString()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            gcc = p.waitFor(60, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (java.io.IOException e) {
            gcc = -1;
        }
        if (gcc != 0) {
            System.out.println("SKIPPED the stub-driver test: no working gcc to build a stub libcuda.so.1");
        }
        Assumptions.assumeTrue(gcc == 0, "needs gcc to build the stub driver");

        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "logits", "--model", CudaGate.FIXTURES.resolve("llama-gqa-bf16").toString(), "--prompt-ids", "1,2,3"));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("LD_LIBRARY_PATH", tmp.toString());
        Process p = builder.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the CLI did not finish");
        assertEquals(1, p.exitValue(), err);
        assertEquals("", out);
        List<String> lines = err.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), err);
        String line = lines.get(0);
        assertTrue(line.startsWith("error: " + CudaPreflight.PREFIX), line);
        assertTrue(line.contains("the CUDA 11 runtime libraries ND4J 1.0.0-M2.1 is built against are missing")
                || line.contains("no usable CUDA device (cudaGetDeviceCount: no CUDA-capable device is detected (100)"
                        + "; driver supports CUDA 12.4"), "the stub driver was found and the next check failed: " + line);
    }
}
