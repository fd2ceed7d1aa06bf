package io.skipllm.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Typed, validated access to the keys of one JSON object. A wrong type is an error naming the file and
 * the key, never a silent coercion: {@code "32"} is not the integer 32 and {@code 8.5} is not 8. An
 * explicit {@code null} counts as absent, as in Hugging Face's config classes.
 */
final class JsonFields {

    private final ObjectNode object;
    private final String source;

    JsonFields(ObjectNode object, String source) {
        this.object = object;
        this.source = source;
    }

    String source() {
        return source;
    }

    /** True when the key is present with a non-null value. */
    boolean has(String key) {
        JsonNode value = object.get(key);
        return value != null && !value.isNull();
    }

    JsonNode get(String key) {
        return has(key) ? object.get(key) : null;
    }

    int requiredInt(String key) {
        if (!has(key)) {
            throw error(key, "missing required key");
        }
        return toInt(key, object.get(key));
    }

    int optionalInt(String key, int defaultValue) {
        return has(key) ? toInt(key, object.get(key)) : defaultValue;
    }

    /** The integer under the first of {@code keys} present (aliases such as n_head / num_attention_heads). */
    int requiredIntAlias(String... keys) {
        String found = null;
        int value = 0;
        for (String key : keys) {
            if (has(key)) {
                int v = toInt(key, object.get(key));
                if (found != null && v != value) {
                    throw error(key, "is " + v + " but its alias '" + found + "' is " + value);
                }
                if (found == null) {
                    found = key;
                    value = v;
                }
            }
        }
        if (found == null) {
            throw error(String.join("' or '", keys), "missing required key");
        }
        return value;
    }

    double optionalDouble(String key, double defaultValue) {
        if (!has(key)) {
            return defaultValue;
        }
        JsonNode node = object.get(key);
        if (!node.isNumber()) {
            throw error(key, "must be a number, got " + kind(node));
        }
        return node.doubleValue();
    }

    boolean optionalBoolean(String key, boolean defaultValue) {
        if (!has(key)) {
            return defaultValue;
        }
        JsonNode node = object.get(key);
        if (!node.isBoolean()) {
            throw error(key, "must be true or false, got " + kind(node));
        }
        return node.booleanValue();
    }

    String optionalString(String key, String defaultValue) {
        if (!has(key)) {
            return defaultValue;
        }
        JsonNode node = object.get(key);
        if (!node.isTextual()) {
            throw error(key, "must be a string, got " + kind(node));
        }
        return node.textValue();
    }

    /** A list of strings; absent gives an empty list. */
    List<String> optionalStringList(String key) {
        if (!has(key)) {
            return List.of();
        }
        JsonNode node = object.get(key);
        if (!node.isArray()) {
            throw error(key, "must be a list of strings, got " + kind(node));
        }
        List<String> values = new ArrayList<>();
        for (JsonNode element : node) {
            if (!element.isTextual()) {
                throw error(key, "must be a list of strings, found an element that is " + kind(element));
            }
            values.add(element.textValue());
        }
        return values;
    }

    /**
     * A token id ({@code bos_token_id}, {@code pad_token_id}), or null when absent. Some published
     * configs write -1 for "none"; a negative id is treated as absent rather than as a real token.
     */
    Integer optionalTokenId(String key) {
        if (!has(key)) {
            return null;
        }
        int id = toInt(key, object.get(key));
        return id < 0 ? null : id;
    }

    /** {@code eos_token_id}: a number, a list of numbers, or absent (empty list); negatives are dropped. */
    List<Integer> tokenIds(String key) {
        if (!has(key)) {
            return List.of();
        }
        JsonNode node = object.get(key);
        List<Integer> ids = new ArrayList<>();
        if (node.isArray()) {
            for (JsonNode element : node) {
                int id = toInt(key, element);
                if (id >= 0 && !ids.contains(id)) {
                    ids.add(id);
                }
            }
        } else {
            int id = toInt(key, node);
            if (id >= 0) {
                ids.add(id);
            }
        }
        return Collections.unmodifiableList(ids);
    }

    CheckpointException error(String key, String problem) {
        return new CheckpointException(source + ": key '" + key + "' " + problem);
    }

    private int toInt(String key, JsonNode node) {
        if (!node.isIntegralNumber()) {
            throw error(key, "must be an integer, got " + kind(node));
        }
        if (!node.canConvertToInt()) {
            throw error(key, "is " + node.asText() + ", outside the 32-bit integer range");
        }
        return node.intValue();
    }

    /** How a value reads in an error message: its JSON type and a short rendering. */
    static String kind(JsonNode node) {
        String text = node.toString();
        if (text.length() > 40) {
            text = text.substring(0, 37) + "...";
        }
        String type = switch (node.getNodeType()) {
            case STRING -> "string";
            case NUMBER -> node.isIntegralNumber() ? "integer" : "number";
            case BOOLEAN -> "boolean";
            case ARRAY -> "list";
            case OBJECT -> "object";
            case NULL -> "null";
            default -> node.getNodeType().toString().toLowerCase(Locale.ROOT);
        };
        return type + " " + text;
    }
}
