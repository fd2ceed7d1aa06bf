package io.skipllm.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * BLEU and chrF against values computed outside this code base, on {@code eval/bleu-cases.json}:
 * the hypotheses and references are hand-written; {@code *_tokens} are what {@link Tokenizer13a}
 * produced when the fixture was made ({@link #exportTokens}), and {@code nltk_bleu} / {@code chrf}
 * were computed from them by {@code models/reference/bleu_reference.py} with Debian's NLTK
 * ({@code corpus_bleu} on those token lists) and an independent Python implementation of sacreBLEU's
 * chrF formula. That script also tokenizes every segment with its own Python 13a implementation and
 * refuses to write values when the two tokenizers disagree.
 *
 * <p>To regenerate: {@code mvn -q -pl engine-core -Dtest=BleuChrfReferenceTest
 * -Dskipllm.eval.export=$PWD/engine-core/src/test/resources/eval/bleu-cases.json test}, then
 * {@code /usr/bin/python3 models/reference/bleu_reference.py engine-core/src/test/resources/eval/bleu-cases.json}.
 */
class BleuChrfReferenceTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode fixture() throws IOException {
        try (InputStream in = BleuChrfReferenceTest.class.getClassLoader().getResourceAsStream("eval/bleu-cases.json")) {
            assertTrue(in != null, "missing test resource eval/bleu-cases.json");
            return JSON.readTree(in);
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<List<String>> tokenLists(JsonNode array) {
        List<List<String>> out = new ArrayList<>();
        array.forEach(n -> out.add(strings(n)));
        return out;
    }

    @Test
    void tokenizationIsStillWhatTheReferenceValuesWereComputedOn() throws IOException {
        for (JsonNode c : fixture().get("cases")) {
            List<String> hyps = strings(c.get("hypotheses"));
            List<String> refs = strings(c.get("references"));
            List<List<String>> hypTokens = tokenLists(c.get("hypothesis_tokens"));
            List<List<String>> refTokens = tokenLists(c.get("reference_tokens"));
            for (int i = 0; i < hyps.size(); i++) {
                assertEquals(hypTokens.get(i), Tokenizer13a.tokenize(hyps.get(i)), c.get("name") + " hypothesis " + i);
                assertEquals(refTokens.get(i), Tokenizer13a.tokenize(refs.get(i)), c.get("name") + " reference " + i);
            }
        }
    }

    @Test
    void bleuMatchesNltkCorpusBleu() throws IOException {
        int nonZero = 0;
        for (JsonNode c : fixture().get("cases")) {
            assertTrue(c.has("nltk_bleu"), "run models/reference/bleu_reference.py on the fixture: " + c.get("name"));
            double expected = c.get("nltk_bleu").asDouble();
            Bleu.Score fromText = Bleu.corpus(strings(c.get("hypotheses")), strings(c.get("references")));
            Bleu.Score fromTokens = Bleu.corpusOfTokens(tokenLists(c.get("hypothesis_tokens")),
                    tokenLists(c.get("reference_tokens")));
            // NLTK without smoothing replaces a zero precision by the smallest double: ~1e-75, not 0
            assertEquals(expected, fromText.score(), 1e-9, c.get("name") + ": " + fromText);
            assertEquals(fromTokens.score(), fromText.score(), 0.0, c.get("name").asText());
            nonZero += expected > 1 ? 1 : 0;
        }
        assertTrue(nonZero >= 4, "the fixture must hold cases with a non-trivial score");
    }

    @Test
    void chrfMatchesTheIndependentImplementation() throws IOException {
        for (JsonNode c : fixture().get("cases")) {
            assertTrue(c.has("chrf"), "run models/reference/bleu_reference.py on the fixture: " + c.get("name"));
            Chrf.Score score = Chrf.corpus(strings(c.get("hypotheses")), strings(c.get("references")));
            assertEquals(c.get("chrf").asDouble(), score.score(), 1e-9, c.get("name").asText());
        }
    }

    @Test
    void whitespaceIsPythonsForEveryCodePoint() throws IOException {
        Set<Integer> python = new HashSet<>();
        fixture().get("python_whitespace").forEach(n -> python.add(n.asInt()));
        assertTrue(python.contains(0xA0) && python.contains(0x85) && python.contains(0x20), python.toString());
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            assertEquals(python.contains(cp), Tokenizer13a.isPythonWhitespace(cp), "U+" + Integer.toHexString(cp));
        }
    }

    /** Rewrites the fixture's token lists from the current tokenizer (see the class comment). */
    @Test
    @EnabledIfSystemProperty(named = "skipllm.eval.export", matches = ".+")
    void exportTokens() throws IOException {
        Path file = Path.of(System.getProperty("skipllm.eval.export"));
        ObjectNode root = (ObjectNode) JSON.readTree(file.toFile());
        for (JsonNode node : root.get("cases")) {
            ObjectNode c = (ObjectNode) node;
            c.set("hypothesis_tokens", tokens(c.get("hypotheses")));
            c.set("reference_tokens", tokens(c.get("references")));
            c.remove(List.of("nltk_bleu", "chrf"));  // stale until the Python script runs again
        }
        JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
    }

    private static ArrayNode tokens(JsonNode segments) {
        ArrayNode out = JSON.createArrayNode();
        for (JsonNode s : segments) {
            ArrayNode tokens = out.addArray();
            Tokenizer13a.tokenize(s.asText()).forEach(tokens::add);
        }
        return out;
    }
}
