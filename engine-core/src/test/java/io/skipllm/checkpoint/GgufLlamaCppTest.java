package io.skipllm.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skipllm.model.DecodeSession;
import io.skipllm.model.LoadOptions;
import io.skipllm.model.Model;
import io.skipllm.planner.LayerSkipPlanner;
import io.skipllm.planner.SkipStrategy;
import io.skipllm.tokenizer.GgufTokenizer;
import io.skipllm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * skipllm beside llama.cpp on the same GGUF files: the fixtures of models/reference/gguf (random weights,
 * written by llama.cpp's gguf-py and quantized by its llama-quantize) and llama.cpp's own outputs for them
 * (llamacpp/*.jsonl), all made by engine-bench/scripts/gguf/make_fixtures.sh.
 */
class GgufLlamaCppTest {

    static final Path DIR = Path.of("..", "models", "reference", "gguf");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Below this gap between llama.cpp's top two logits, rounding may pick either; none occur in the fixtures. */
    private static final double TIE = 1e-3;

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm-f32", "llama-spm-f16", "qwen2-bpe-f16"})
    void greedyTokensAndPromptEncodingsAreLlamaCpps(String name) throws IOException {
        List<String> prompts = Files.readAllLines(DIR.resolve("prompts.txt"));
        List<JsonNode> expected = lines(DIR.resolve("llamacpp/" + name + ".greedy.jsonl"));
        assertEquals(8, expected.size());
        try (Model model = Model.load(DIR.resolve(name + ".gguf"))) {
            Tokenizer tokenizer = model.tokenizer().orElseThrow();
            for (int p = 0; p < expected.size(); p++) {
                int[] prompt = ints(expected.get(p).get("prompt_ids"));
                assertArrayEquals(prompt, tokenizer.encode(prompts.get(p)), name + " prompt " + p + " encoding");
                int[] want = ints(expected.get(p).get("tokens"));
                int[] got = greedy(model, prompt, want.length);
                for (int i = 0; i < want.length; i++) {
                    if (got[i] != want[i]) {
                        double gap = expected.get(p).get("gaps").get(i).asDouble();
                        assertTrue(gap < TIE, name + " prompt " + p + " token " + i + ": " + got[i] + " where llama.cpp has "
                                + want[i] + " (its top-2 gap " + gap + ")\n got  " + Arrays.toString(got)
                                + "\n want " + Arrays.toString(want));
                        break; // after a tie the continuations may differ
                    }
                }
            }
        }
    }

    /**
     * Teacher-forced top-1 agreement with llama.cpp on the same quantized file. The weights are the same
     * (Q8_0 and Q4_0 exactly; the K-quants re-quantized to Q8_0); both engines round the activations to
     * 8 bits in their quantized dot products (skipllm's native kernels per 32 values, llama.cpp per 32 for
     * Q8_0 and per 256 for the K-quants). These random models are very sensitive to such rounding:
     * llama.cpp's own Q8_0 file agrees with its F32 file on 93% of the positions, its Q4_K_M file on 52%,
     * so the thresholds here are lower than on a trained model (measured with the native kernels: Q8_0
     * 98.0%, Q4_K_M 93.4%; a wrong block decoder agrees on a few percent).
     * Q4_0 is left out: skipllm's values are gguf-py's exactly ({@link GgufDecodingTest}), yet llama.cpp's
     * Q4_0 run of this 64-wide model agrees with its own F32 run on under 2% of the positions (and with
     * skipllm's on 3%), so it measures llama.cpp's Q4_0 arithmetic here, not the file.
     */
    @ParameterizedTest
    @CsvSource({"llama-spm-q8_0, llama-spm, 0.95, stored", "llama-spm256-q4_k_m, llama-spm256, 0.90, stored"})
    void quantizedTopOneAgreesWithLlamaCpp(String name, String inputs, double threshold, String weights)
            throws IOException {
        List<String> sequences = Files.readAllLines(DIR.resolve("llamacpp/" + inputs + ".forced-input.txt"));
        List<JsonNode> expected = lines(DIR.resolve("llamacpp/" + name + ".forced.jsonl"));
        int agree = 0;
        int total = 0;
        try (Model model = Model.load(DIR.resolve(name + ".gguf"), LoadOptions.parse(weights))) {
            for (int s = 0; s < sequences.size(); s++) {
                int[] ids = Arrays.stream(sequences.get(s).split(",")).mapToInt(Integer::parseInt).toArray();
                int[] want = ints(expected.get(s).get("argmax"));
                int promptLength = ids.length - 32;
                int[] got = forced(model, ids, promptLength);
                for (int i = 0; i < got.length; i++) {
                    agree += got[i] == want[promptLength - 1 + i] ? 1 : 0;
                    total++;
                }
            }
        }
        double agreement = agree / (double) total;
        System.out.printf("%s (%s): top-1 agreement with llama.cpp %.4f over %d positions%n", name, weights, agreement, total);
        assertTrue(agreement >= threshold, name + ": top-1 agreement " + agreement + " over " + total + " positions");
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm-f32", "qwen2-bpe-f16", "bpe-default", "bpe-llama-bpe", "bpe-gpt-2"})
    void encodingsAreLlamaTokenizes(String name) throws IOException {
        List<String> verses = Files.readAllLines(DIR.resolve("verses.txt"));
        List<JsonNode> expected = lines(DIR.resolve("llamacpp/" + name + ".tokenize.jsonl"));
        assertEquals(verses.size(), expected.size());
        try (GgufFile file = GgufFile.open(DIR.resolve(name + ".gguf"));
                Tokenizer tokenizer = GgufTokenizer.of(file).orElseThrow()) {
            for (int v = 0; v < verses.size(); v++) {
                assertArrayEquals(ints(expected.get(v).get("ids")), tokenizer.encode(verses.get(v)),
                        name + ": '" + verses.get(v) + "'");
            }
        }
    }

    static int[] greedy(Model model, int[] prompt, int n) {
        int layers = model.config().numLayers();
        int[] out = new int[n];
        try (DecodeSession s = model.decoder().start(new int[][] {prompt}, n,
                LayerSkipPlanner.plan(SkipStrategy.FULL, layers, 1))) {
            INDArray logits = s.logits();
            for (int i = 0; i < n; i++) {
                out[i] = argmax(logits);
                if (i + 1 < n) {
                    logits = s.decode(new int[] {out[i]});
                }
            }
        }
        return out;
    }

    /** The argmax after each of ids[promptLength - 1 ..], feeding the true ids one at a time. */
    static int[] forced(Model model, int[] ids, int promptLength) {
        int layers = model.config().numLayers();
        int n = ids.length - promptLength + 1;
        int[] out = new int[n];
        try (DecodeSession s = model.decoder().start(new int[][] {Arrays.copyOf(ids, promptLength)}, n,
                LayerSkipPlanner.plan(SkipStrategy.FULL, layers, 1))) {
            INDArray logits = s.logits();
            for (int i = 0; i < n; i++) {
                out[i] = argmax(logits);
                if (promptLength + i < ids.length) {
                    logits = s.decode(new int[] {ids[promptLength + i]});
                }
            }
        }
        return Arrays.copyOf(out, n - 1);
    }

    private static int argmax(INDArray logits) {
        float[] v = logits.toFloatVector();
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
