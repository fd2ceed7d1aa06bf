package io.skipllm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The engine's logits against an independent PyTorch implementation ({@code models/reference/}),
 * computed in float64 from the stored weights. Every fixture, every case: full depth, unified 2x/3x,
 * top 2x, and a batch of prompts of different lengths whose expected logits were computed for each
 * prompt alone.
 */
class ReferenceLogitsTest {

    static final Path FIXTURES = Path.of("..", "models", "reference", "fixtures");
    private static final double TOLERANCE = 1e-3;
    private static final ObjectMapper JSON = new ObjectMapper();

    static List<Path> fixtureDirs() {
        try (Stream<Path> dirs = Files.list(FIXTURES)) {
            List<Path> found = dirs.filter(d -> Files.exists(d.resolve("expected.json"))).sorted().toList();
            assertFalse(found.isEmpty(), "no fixtures under " + FIXTURES.toAbsolutePath());
            return found;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @TestFactory
    Stream<DynamicTest> engineMatchesReferenceLogits() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path dir : fixtureDirs()) {
            JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
            for (JsonNode c : expected.get("cases")) {
                tests.add(DynamicTest.dynamicTest(dir.getFileName() + " / " + c.get("name").asText(),
                        () -> checkCase(dir, c)));
            }
        }
        return tests.stream();
    }

    private static void checkCase(Path dir, JsonNode c) {
        try (Model model = Model.load(dir)) {
            int layers = model.config().numLayers();
            RetainedLayers retained = LayerSkipPlanner.plan(SkipStrategy.fromName(c.get("strategy").asText()), layers,
                    c.get("speedup").asDouble());
            assertArrayEquals(ints(c.get("retained")), retained.indices(), "planner disagrees with the fixture");

            int[][] prompts = intRows(c.get("prompts"));
            int[][] decodeIds = intRows(c.get("decode_ids"));
            int steps = decodeIds[0].length;
            try (DecodeSession session = model.decoder().start(prompts, steps, retained)) {
                compare(c, 0, session.logits(), dir);
                for (int k = 0; k < steps; k++) {
                    int[] tokens = new int[prompts.length];
                    for (int b = 0; b < prompts.length; b++) {
                        tokens[b] = decodeIds[b][k];
                    }
                    compare(c, k + 1, session.decode(tokens), dir);
                }
            }
        }
    }

    private static void compare(JsonNode c, int row, INDArray logits, Path dir) {
        JsonNode perPrompt = c.get("logits");
        for (int b = 0; b < perPrompt.size(); b++) {
            double[] want = doubles(perPrompt.get(b).get(row));
            float[] got = logits.getRow(b).toFloatVector();
            assertEquals(want.length, got.length, "vocab size");
            double maxDiff = 0;
            for (int i = 0; i < want.length; i++) {
                assertTrue(Float.isFinite(got[i]), "non-finite logit");
                maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
            }
            String where = dir.getFileName() + " " + c.get("name").asText() + " prompt " + b + " row " + row;
            if (maxDiff > TOLERANCE) {
                fail(where + ": max |engine - reference| = " + maxDiff);
            }
            assertEquals(argmax(want), argmax(got), where + ": argmax differs");
        }
    }

    static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    static int[][] intRows(JsonNode rows) {
        int[][] out = new int[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = ints(rows.get(i));
        }
        return out;
    }

    static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }
}
