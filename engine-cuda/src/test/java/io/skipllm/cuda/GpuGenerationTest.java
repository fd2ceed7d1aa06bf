package io.skipllm.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A small generation run on the GPU (batched greedy with skipping, full-depth greedy, batched beam
 * search) must give the tokens the CPU backend gave. Skipped, with the reason printed, without CUDA.
 */
class GpuGenerationTest {

    @Test
    void gpuGeneratesTheCpuTokens() {
        CudaGate.assumeCuda("the GPU generation run");
        List<GenerationCheck.CaseResult> results = GenerationCheck.runAll(CudaGate.FIXTURES);
        assertEquals(GenerationCheck.recorded().get("cases").size(), results.size());
        for (GenerationCheck.CaseResult r : results) {
            assertTrue(r.passed(), r.name() + ": expected " + str(r.expected()) + ", got "
                    + (r.actual() == null ? r.error() : str(r.actual())));
        }
    }

    private static String str(List<int[]> rows) {
        return rows.stream().map(Arrays::toString).toList().toString();
    }
}
