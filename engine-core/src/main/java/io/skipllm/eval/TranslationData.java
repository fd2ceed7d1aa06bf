package io.skipllm.eval;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skipllm.BadInputException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads translation pairs from JSON lines, one object per line:
 * {@code {"id": "Mark 1:1", "es": "...", "en": "..."}}. {@code es} and {@code en} are required
 * strings; {@code id} is optional (a string or a number; default {@code "line N"}); other keys are
 * ignored; blank lines are skipped. Any problem is a {@link BadInputException} naming the file and
 * the line.
 */
public final class TranslationData {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private TranslationData() {
    }

    /**
     * @param limit read at most this many examples (the first ones); 0 or less reads all
     */
    public static List<TranslationExample> read(Path file, int limit) {
        List<TranslationExample> examples = new ArrayList<>();
        int lineNumber = 0;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null && (limit <= 0 || examples.size() < limit)) {
                lineNumber++;
                if (!line.isBlank()) {
                    examples.add(parse(file, lineNumber, line));
                }
            }
        } catch (NoSuchFileException e) {
            throw new BadInputException("data file " + file + " does not exist");
        } catch (CharacterCodingException e) {
            throw new BadInputException(file + ": not valid UTF-8 text (near line " + (lineNumber + 1) + ")", e);
        } catch (IOException e) {
            throw new BadInputException("cannot read data file " + file + ": " + e.getMessage(), e);
        }
        if (examples.isEmpty()) {
            throw new BadInputException(file + " holds no examples (expected JSON lines with \"es\" and \"en\")");
        }
        return examples;
    }

    private static TranslationExample parse(Path file, int lineNumber, String line) {
        String where = file + " line " + lineNumber;
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new BadInputException(where + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new BadInputException(where + ": expected a JSON object with \"es\" and \"en\"");
        }
        String source = text(node, "es", where);
        String reference = text(node, "en", where);
        JsonNode id = node.get("id");
        String name;
        if (id == null || id.isNull()) {
            name = "line " + lineNumber;
        } else if (id.isTextual() || id.isNumber()) {
            name = id.asText();
        } else {
            throw new BadInputException(where + ": \"id\" must be a string or a number, got " + id.getNodeType());
        }
        return new TranslationExample(name, source, reference);
    }

    private static String text(JsonNode node, String key, String where) {
        JsonNode value = node.get(key);
        if (value == null || !value.isTextual()) {
            throw new BadInputException(where + ": \"" + key + "\" must be a string"
                    + (value == null ? " and is missing" : ", got " + value.getNodeType()));
        }
        if (value.asText().isBlank()) {
            throw new BadInputException(where + ": \"" + key + "\" is empty");
        }
        return value.asText();
    }
}
