package io.skipllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.model.Model;
import io.skipllm.planner.SkipStrategy;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's "Embedding the library" example, verbatim apart from where its output goes. */
class ReadmeExampleTest {

    @Test
    void readmeExampleRuns() {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8);

        // --- README example begins (models/ is one level up from engine-core) ---
        try (Model model = Model.load(Path.of("../models/reference/fixtures/llama-gqa-bf16"))) {
            GenerationConfig config = GenerationConfig.builder()
                    .skipPlan(SkipStrategy.UNIFIED, 2.0)   // response tokens run the retained layers only
                    .maxNewTokens(8)
                    .numBeams(4)
                    .build();
            List<int[]> prompts = List.of(new int[] {1, 17, 33, 9}, new int[] {1, 40});  // one batch
            for (GenerationResult r : model.generator().generate(prompts, config, null)) {
                out.println(Arrays.toString(r.tokens()) + " logprob " + r.best().logprob()
                        + ", layers per token " + r.retained().size() + " of " + r.numLayers());
            }
        }
        // --- README example ends ---

        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size(), captured.toString(StandardCharsets.UTF_8));
        for (String line : lines) {
            assertTrue(line.matches("\\[[0-9, ]+\\] logprob -?[0-9.E-]+, layers per token 3 of 6"), line);
        }
    }
}
