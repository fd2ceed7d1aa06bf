package io.skipllm.cuda;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skipllm.SkipLlmException;
import io.skipllm.backend.Backend;
import io.skipllm.backend.BackendInfo;
import io.skipllm.model.ReferenceLogits;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code java -cp skipllm-cuda.jar io.skipllm.cuda.GpuCheck --out DIR [--fixtures DIR]}: the checks of
 * the GPU tests, runnable from the jar alone on a machine without Maven (what
 * {@code engine-cuda/gpu-check.sh} runs). Writes {@code DIR/gpu-check.json} with the backend, the CUDA
 * probe (driver, runtime, GPUs), every reference-logit case and every generation case.
 *
 * <p>Exit codes: 0 every check passed; 1 a check failed; 2 bad arguments; 3 the backend could not start
 * (the reason is in the JSON and on stderr).
 *
 * <p>{@code --record-generation FILE} instead writes the generation cases with this backend's tokens
 * (run it with the CPU build to refresh {@code cpu-generation.json}).
 */
public final class GpuCheck {

    static final int PASSED = 0;
    static final int FAILED = 1;
    static final int BAD_ARGS = 2;
    static final int NO_BACKEND = 3;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private GpuCheck() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.err));
    }

    static int run(String[] args, PrintStream log) {
        Path fixtures = Path.of("models", "reference", "fixtures");
        Path out = null;
        Path record = null;
        for (int i = 0; i < args.length; i += 2) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (value == null || !List.of("--fixtures", "--out", "--record-generation").contains(args[i])) {
                log.println("error: " + (value == null ? "missing value after " : "unknown argument ") + "'"
                        + args[i] + "'; usage: GpuCheck --out DIR [--fixtures DIR]"
                        + " | GpuCheck --record-generation FILE [--fixtures DIR]");
                return BAD_ARGS;
            }
            switch (args[i]) {
                case "--fixtures" -> fixtures = Path.of(value);
                case "--out" -> out = Path.of(value);
                default -> record = Path.of(value);
            }
        }
        if ((out == null) == (record == null)) {
            log.println("error: give exactly one of --out DIR and --record-generation FILE");
            return BAD_ARGS;
        }
        try {
            if (record != null) {
                BackendInfo info = Backend.require();
                ObjectNode recorded = GenerationCheck.record(fixtures);
                recorded.put("recorded_on", info.describe());
                Files.writeString(record, JSON.writeValueAsString(recorded) + "\n");
                log.println("wrote " + record);
                return PASSED;
            }
            Files.createDirectories(out);
            return check(fixtures, out.resolve("gpu-check.json"), log);
        } catch (IOException | RuntimeException e) { // e.g. a fixtures directory that does not exist
            log.println("error: " + e);
            return FAILED;
        }
    }

    static int check(Path fixtures, Path report, PrintStream log) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("java", System.getProperty("java.version"));
        if (CudaPreflight.cudaBackendOnClasspath()) {
            try {
                CudaPreflight.Probe probe = CudaPreflight.probe();
                ObjectNode p = root.putObject("cuda");
                p.put("driver_supports_cuda", CudaPreflight.version(probe.driverVersion()));
                p.put("runtime_cuda", CudaPreflight.version(probe.runtimeVersion()));
                ArrayNode gpus = p.putArray("gpus");
                for (CudaPreflight.Gpu g : probe.gpus()) {
                    gpus.addObject().put("index", g.index()).put("name", g.name())
                            .put("compute_capability", g.major() + "." + g.minor()).put("total_bytes", g.totalBytes())
                            .put("nd4j_has_machine_code", g.supported());
                }
            } catch (SkipLlmException e) {
                root.putObject("cuda").put("error", e.getMessage());
            }
        }
        BackendInfo info;
        try {
            info = Backend.require();
        } catch (SkipLlmException e) {
            root.put("backend_error", e.getMessage());
            root.put("passed", false);
            Files.writeString(report, JSON.writeValueAsString(root) + "\n");
            log.println("backend unavailable: " + e.getMessage());
            return NO_BACKEND;
        }
        root.put("backend", info.describe());
        log.println("backend: " + info.describe());

        boolean passed = true;
        long start = System.nanoTime();
        ArrayNode logits = root.putArray("reference_logits");
        List<ReferenceLogits.CaseResult> cases = ReferenceLogits.runAll(fixtures);
        for (ReferenceLogits.CaseResult c : cases) {
            boolean ok = c.passed(ReferenceLogits.TOLERANCE);
            passed &= ok;
            ObjectNode n = logits.addObject().put("fixture", c.fixture()).put("case", c.name())
                    .put("max_abs_diff", c.maxAbsDiff()).put("argmax_agrees", c.argmaxAgrees())
                    .put("rows", c.rows()).put("passed", ok);
            if (c.error() != null) {
                n.put("error", c.error());
            }
            log.printf("%s reference logits %s / %s: max |diff| %.2e%s%n", ok ? "PASS" : "FAIL", c.fixture(),
                    c.name(), c.maxAbsDiff(), c.error() == null ? "" : " (" + c.error() + ")");
        }
        root.put("reference_logits_tolerance", ReferenceLogits.TOLERANCE);
        root.put("reference_logits_seconds", (System.nanoTime() - start) / 1e9);

        start = System.nanoTime();
        ArrayNode generation = root.putArray("generation");
        for (GenerationCheck.CaseResult c : GenerationCheck.runAll(fixtures)) {
            boolean ok = c.passed();
            passed &= ok;
            ObjectNode n = generation.addObject().put("case", c.name()).put("passed", ok);
            n.set("expected", JSON.valueToTree(c.expected()));
            n.set("actual", c.actual() == null ? null : JSON.valueToTree(c.actual()));
            if (!Double.isNaN(c.minMargin())) {
                n.put("min_margin", c.minMargin());
            }
            if (c.error() != null) {
                n.put("error", c.error());
            }
            log.printf("%s generation %s%s%n", ok ? "PASS" : "FAIL", c.name(),
                    c.error() == null ? "" : " (" + c.error() + ")");
        }
        root.put("generation_seconds", (System.nanoTime() - start) / 1e9);
        root.put("passed", passed);
        Files.writeString(report, JSON.writeValueAsString(root) + "\n");
        log.println((passed ? "all checks passed" : "some checks FAILED") + "; wrote " + report);
        return passed ? PASSED : FAILED;
    }
}
