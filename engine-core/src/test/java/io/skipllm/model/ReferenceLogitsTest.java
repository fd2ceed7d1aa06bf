package io.skipllm.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The engine's logits against an independent PyTorch implementation ({@code models/reference/}),
 * computed in float64 from the stored weights. Every fixture, every case: full depth, unified 2x/3x,
 * top 2x, and a batch of prompts of different lengths whose expected logits were computed for each
 * prompt alone. A case passes when the planner gives the fixture's retained layers, every logit is
 * finite and within {@link ReferenceLogits#TOLERANCE} of the reference, and every row's argmax agrees
 * ({@link ReferenceLogits}, the comparison engine-cuda runs on the GPU too).
 */
class ReferenceLogitsTest {

    static final Path FIXTURES = Path.of("..", "models", "reference", "fixtures");

    @TestFactory
    Stream<DynamicTest> engineMatchesReferenceLogits() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<DynamicTest> tests = new ArrayList<>();
        for (Path dir : ReferenceLogits.fixtureDirs(FIXTURES)) {
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
