package io.skipllm.cuda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.Model;
import io.skipllm.model.ReferenceLogits;
import io.skipllm.planner.RetainedLayers;
import io.skipllm.planner.SkipStrategy;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A small generation run compared across backends: greedy and beam search on reference fixtures
 * (batched prompts of different lengths, skipping on), against the tokens the CPU backend generated
 * for the same requests ({@code cpu-generation.json}, written by {@code GpuCheck --record-generation}
 * on the CPU build). Each greedy case also records the smallest gap between the best and second-best
 * logit over its steps: a GPU that matches the reference logits to 1e-3 must then pick the same
 * tokens, so a difference is an error, not a near-tie.
 */
public final class GenerationCheck {

    static final String RESOURCE = "/io/skipllm/cuda/cpu-generation.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private GenerationCheck() {
    }

    /**
     * One case.
     *
     * @param expected  tokens per prompt from the CPU backend
     * @param actual    tokens per prompt from this run (null when it failed)
     * @param minMargin the smallest top-1 minus top-2 logit over the greedy steps of this run (NaN for beams)
     */
    public record CaseResult(String name, List<int[]> expected, List<int[]> actual, double minMargin,
            String error) {

        public boolean passed() {
            if (error != null || actual == null || actual.size() != expected.size()) {
                return false;
            }
            for (int i = 0; i < expected.size(); i++) {
                if (!Arrays.equals(expected.get(i), actual.get(i))) {
                    return false;
                }
            }
            return true;
        }
    }

    /** The committed cases and their CPU tokens. */
    static JsonNode recorded() {
        try (InputStream in = GenerationCheck.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the classpath");
            }
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs every recorded case against the fixtures under {@code fixtures}. */
    public static List<CaseResult> runAll(Path fixtures) {
        List<CaseResult> results = new ArrayList<>();
        for (JsonNode c : recorded().get("cases")) {
            List<int[]> expected = rows(c.get("tokens"));
            try {
                Run run = run(fixtures, c);
                results.add(new CaseResult(c.get("name").asText(), expected, run.tokens, run.minMargin, null));
            } catch (RuntimeException e) {
                results.add(new CaseResult(c.get("name").asText(), expected, null, Double.NaN,
                        e.getClass().getSimpleName() + ": " + e.getMessage()));
            }
        }
        return results;
    }

    /** The recorded cases with this backend's tokens and margins in place of the recorded ones. */
    public static ObjectNode record(Path fixtures) {
        ObjectNode root = (ObjectNode) recorded().deepCopy();
        for (JsonNode c : root.get("cases")) {
            Run run = run(fixtures, c);
            ArrayNode tokens = ((ObjectNode) c).putArray("tokens");
            for (int[] t : run.tokens) {
                ArrayNode row = tokens.addArray();
                Arrays.stream(t).forEach(row::add);
            }
            if (!Double.isNaN(run.minMargin)) {
                ((ObjectNode) c).put("min_margin", run.minMargin);
            }
        }
        return root;
    }

    private record Run(List<int[]> tokens, double minMargin) {
    }

    private static Run run(Path fixtures, JsonNode c) {
        try (Model model = Model.load(fixtures.resolve(c.get("fixture").asText()))) {
            GenerationConfig config = GenerationConfig.builder()
                    .skipPlan(SkipStrategy.fromName(c.get("strategy").asText()), c.get("speedup").asDouble())
                    .maxNewTokens(c.get("max_new_tokens").asInt())
                    .numBeams(c.get("beams").asInt())
                    .stopTokenIds(List.of()) // no early stop: every case compares its full length
                    .build();
            List<int[]> prompts = rows(c.get("prompts"));
            List<int[]> tokens = new ArrayList<>();
            for (GenerationResult r : model.generator().generate(new ArrayList<>(prompts), config, null)) {
                tokens.add(r.tokens());
            }
            double margin = Double.NaN;
            if (config.numBeams() == 1) {
                RetainedLayers retained = config.resolveRetained(model.config().numLayers());
                margin = Double.POSITIVE_INFINITY;
                for (int[] prompt : prompts) {
                    margin = Math.min(margin, greedyMinMargin(model, prompt, config.maxNewTokens(), retained));
                }
            }
            return new Run(tokens, margin);
        }
    }

    /** Greedy decoding of one prompt alone, by hand, returning the smallest top-1 minus top-2 logit. */
    private static double greedyMinMargin(Model model, int[] prompt, int steps, RetainedLayers retained) {
        double min = Double.POSITIVE_INFINITY;
        try (DecodeSession s = model.decoder().start(new int[][] {prompt}, steps, retained)) {
            float[] logits = s.logits().getRow(0).toFloatVector();
            for (int k = 0; k < steps; k++) {
                int best = io.skipllm.model.Logits.argmax(logits);
                float second = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < logits.length; i++) {
                    if (i != best) {
                        second = Math.max(second, logits[i]);
                    }
                }
                min = Math.min(min, logits[best] - second);
                if (k + 1 < steps) {
                    logits = s.decode(new int[] {best}).getRow(0).toFloatVector();
                }
            }
        }
        return min;
    }

    static List<int[]> rows(JsonNode rows) {
        List<int[]> out = new ArrayList<>();
        if (rows != null) {
            for (JsonNode r : rows) {
                out.add(ReferenceLogits.ints(r));
            }
        }
        return out;
    }
}
