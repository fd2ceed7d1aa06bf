package io.skipllm.model;

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
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The engine's logits against the PyTorch reference fixtures of {@code models/reference/fixtures}, as
 * library code that reports instead of asserting, so that every backend runs the same comparison:
 * engine-core's {@code ReferenceLogitsTest} on the CPU, engine-cuda's GPU tests and its
 * {@code GpuCheck} (run from the jar, where no test classes exist). Every fixture, every case:
 * prefill at full depth, then each decode id through the retained layers, each row of logits against
 * the float64 PyTorch reference in {@code expected.json}.
 */
public final class ReferenceLogits {

    /** Float32 arithmetic against a float64 reference. */
    public static final double TOLERANCE = 1e-3;

    private static final ObjectMapper JSON = new ObjectMapper();

    private ReferenceLogits() {
    }

    /**
     * One case of one fixture.
     *
     * @param maxAbsDiff    largest |engine - reference| over every row, prompt and vocabulary entry
     * @param argmaxAgrees  whether every row's argmax equals the reference's
     * @param rows          rows of logits compared (prompts x (1 + decode steps))
     * @param error         the exception's message when the case could not run, else null
     */
    public record CaseResult(String fixture, String name, double maxAbsDiff, boolean argmaxAgrees, int rows,
            String error, int argmaxAgreeingRows) {

        CaseResult(String fixture, String name, double maxAbsDiff, boolean argmaxAgrees, int rows, String error) {
            this(fixture, name, maxAbsDiff, argmaxAgrees, rows, error, argmaxAgrees ? rows : 0);
        }

        public boolean passed(double tolerance) {
            return error == null && rows > 0 && maxAbsDiff <= tolerance && argmaxAgrees;
        }
    }

    /** The fixture directories (those with an {@code expected.json}), sorted; fails if there are none. */
    public static List<Path> fixtureDirs(Path fixtures) {
        try (Stream<Path> dirs = Files.list(fixtures)) {
            List<Path> found = dirs.filter(d -> Files.exists(d.resolve("expected.json"))).sorted().toList();
            if (found.isEmpty()) {
                throw new IllegalArgumentException("no fixtures (directories with expected.json) under "
                        + fixtures.toAbsolutePath());
            }
            return found;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list fixtures under " + fixtures.toAbsolutePath(), e);
        }
    }

    /** Runs every case of every fixture; a case that throws is reported with its error, the rest still run. */
    public static List<CaseResult> runAll(Path fixtures) {
        List<CaseResult> results = new ArrayList<>();
        for (Path dir : fixtureDirs(fixtures)) {
            JsonNode expected;
            try {
                expected = JSON.readTree(dir.resolve("expected.json").toFile());
            } catch (IOException e) {
                results.add(new CaseResult(dir.getFileName().toString(), "expected.json", Double.NaN, false, 0,
                        e.getMessage()));
                continue;
            }
            for (JsonNode c : expected.get("cases")) {
                results.add(runCase(dir, c));
            }
        }
        return results;
    }

    public static CaseResult runCase(Path dir, JsonNode c) {
        return runCase(dir, c, LoadOptions.stored());
    }

    /**
     * One case with the weights loaded as {@code options} say: BF16/F16 conversions must pass at
     * {@link #TOLERANCE}; Q8_0 is reported (its error is the quantization's, larger by design).
     * {@link CaseResult#argmaxAgreeingRows} counts the rows whose top-1 agrees.
     */
    public static CaseResult runCase(Path dir, JsonNode c, LoadOptions options) {
        String fixture = dir.getFileName().toString();
        String name = c.get("name").asText();
        try (Model model = Model.load(dir, options)) {
            RetainedLayers retained = LayerSkipPlanner.plan(SkipStrategy.fromName(c.get("strategy").asText()),
                    model.config().numLayers(), c.get("speedup").asDouble());
            if (!Arrays.equals(ints(c.get("retained")), retained.indices())) {
                return new CaseResult(fixture, name, Double.NaN, false, 0, "planner gives "
                        + Arrays.toString(retained.indices()) + ", fixture says " + c.get("retained"));
            }
            int[][] prompts = intRows(c.get("prompts"));
            int[][] decodeIds = intRows(c.get("decode_ids"));
            int steps = decodeIds[0].length;
            Comparison cmp = new Comparison();
            try (DecodeSession session = model.decoder().start(prompts, steps, retained)) {
                cmp.add(c.get("logits"), 0, session.logits());
                for (int k = 0; k < steps; k++) {
                    int[] tokens = new int[prompts.length];
                    for (int b = 0; b < prompts.length; b++) {
                        tokens[b] = decodeIds[b][k];
                    }
                    cmp.add(c.get("logits"), k + 1, session.decode(tokens));
                }
            }
            return new CaseResult(fixture, name, cmp.maxDiff, cmp.argmaxAgrees, cmp.rows, null, cmp.agreeing);
        } catch (RuntimeException e) {
            return new CaseResult(fixture, name, Double.NaN, false, 0,
                    e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** Running maximum over the rows compared so far. */
    private static final class Comparison {
        double maxDiff;
        boolean argmaxAgrees = true;
        int rows;
        int agreeing;

        void add(JsonNode perPrompt, int row, INDArray logits) {
            for (int b = 0; b < perPrompt.size(); b++) {
                double[] want = doubles(perPrompt.get(b).get(row));
                float[] got = logits.getRow(b).toFloatVector();
                if (want.length != got.length) {
                    throw new IllegalStateException("row " + row + " of prompt " + b + " has " + got.length
                            + " logits, the reference " + want.length);
                }
                for (int i = 0; i < want.length; i++) {
                    // NaN must fail: Math.max would carry it, and NaN <= tolerance is false
                    double d = Float.isFinite(got[i]) ? Math.abs(want[i] - got[i]) : Double.NaN;
                    maxDiff = Double.isNaN(d) || Double.isNaN(maxDiff) ? Double.NaN : Math.max(maxDiff, d);
                }
                boolean agrees = Logits.argmax(want) == Logits.argmax(got);
                argmaxAgrees &= agrees;
                agreeing += agrees ? 1 : 0;
                rows++;
            }
        }
    }

    /** A JSON array of integers. */
    public static int[] ints(JsonNode array) {
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
