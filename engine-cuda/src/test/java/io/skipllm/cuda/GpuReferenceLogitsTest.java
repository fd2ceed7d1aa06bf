package io.skipllm.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skipllm.model.ReferenceLogits;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * engine-core's reference-logit suite on the GPU: every fixture and case, full depth and skipping,
 * batched prompts, against the float64 PyTorch reference at the same 1e-3 tolerance as on the CPU.
 * Skipped, with the reason printed, where the CUDA backend cannot start.
 */
class GpuReferenceLogitsTest {

    @TestFactory
    Stream<DynamicTest> gpuLogitsMatchTheReference() throws IOException {
        CudaGate.assumeCuda("the GPU reference-logit suite");
        List<DynamicTest> tests = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (Path dir : ReferenceLogits.fixtureDirs(CudaGate.FIXTURES)) {
            for (JsonNode c : json.readTree(dir.resolve("expected.json").toFile()).get("cases")) {
                tests.add(DynamicTest.dynamicTest(dir.getFileName() + " / " + c.get("name").asText(), () -> {
                    ReferenceLogits.CaseResult r = ReferenceLogits.runCase(dir, c);
                    assertTrue(r.passed(ReferenceLogits.TOLERANCE), r.toString());
                }));
            }
        }
        return tests.stream();
    }
}
