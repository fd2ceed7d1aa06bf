package io.skipllm.checkpoint;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Strict parsing of the JSON a checkpoint carries (config.json, generation_config.json, the shard
 * index, safetensors headers). These files come from strangers on the internet, so the parser
 * refuses what Python's {@code json} module would choke on or silently reinterpret: invalid UTF-8,
 * duplicate keys (which value would win is ambiguous), trailing garbage, and nesting deeper than any
 * real checkpoint uses (a cheap denial-of-service). Every failure names the file.
 */
final class JsonDocuments {

    /** Real configs nest three or four levels; 64 leaves ample room and bounds the parser's work. */
    static final int MAX_NESTING_DEPTH = 64;

    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private JsonDocuments() {
    }

    /** Reads and parses a JSON file of at most {@code maxBytes}; the top level must be an object. */
    static ObjectNode readObject(Path file, long maxBytes) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > maxBytes) {
                throw new CheckpointException(file + ": " + size + " bytes is larger than the " + maxBytes
                        + "-byte limit for this file");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": file not found", e);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parseObject(bytes, file.toString());
    }

    /** Parses UTF-8 bytes; {@code source} names the file in error messages. */
    static ObjectNode parseObject(byte[] utf8, String source) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(source + ": not valid UTF-8 text", e);
        }
        return parseObject(text, source);
    }

    /** Parses JSON text; the top level must be an object. */
    static ObjectNode parseObject(String text, String source) {
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(source + ": malformed JSON: " + describe(e), e);
        }
        if (root == null || root.isMissingNode()) {
            throw new CheckpointException(source + ": empty document, expected a JSON object");
        }
        if (!root.isObject()) {
            throw new CheckpointException(source + ": expected a JSON object at the top level, got "
                    + JsonFields.kind(root));
        }
        return (ObjectNode) root;
    }

    private static String describe(JsonProcessingException e) {
        JsonLocation where = e.getLocation();
        String message = e.getOriginalMessage();
        return where == null ? message : message + " (line " + where.getLineNr() + ", column "
                + where.getColumnNr() + ")";
    }
}
