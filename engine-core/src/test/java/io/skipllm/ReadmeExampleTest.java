package io.skipllm;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

        // the README's printed lines: the best beam of each prompt, exactly (the logprob to float32 rounding)
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size(), captured.toString(StandardCharsets.UTF_8));
        expectLine(lines.get(0), "[25, 8, 40, 40, 40, 40, 40, 40]", -6.784956818939509);
        expectLine(lines.get(1), "[30, 30, 30, 30, 30, 30, 30, 12]", -2.70898381836287);
    }

    private static void expectLine(String line, String tokens, double logprob) {
        String[] parts = line.split(" logprob |, layers per token ");
        assertEquals(3, parts.length, line);
        assertEquals(tokens, parts[0], line);
        assertEquals(logprob, Double.parseDouble(parts[1]), 1e-4, line);
        assertEquals("3 of 6", parts[2], line);
    }
}
