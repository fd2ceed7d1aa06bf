package io.skipllm.serving.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import io.skipllm.BadInputException;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.planner.SkipStrategy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * One parsed and type-checked {@code POST /v1/completions} body (OpenAI's completions API plus our
 * {@code skip} field). Unknown fields are ignored, as OpenAI clients send fields of newer API versions;
 * known fields of the wrong type, and options this server cannot honour ({@code n != 1},
 * {@code best_of != 1}, {@code echo}, {@code logprobs}, {@code suffix}, non-zero penalties,
 * {@code logit_bias}), are a 400 naming the field.
 *
 * @param promptText the prompt as text, or null when given as token ids
 * @param promptIds the prompt as token ids, or null when given as text
 * @param maxTokens new tokens at most (OpenAI's default 16)
 * @param temperature 0 is greedy search; above 0 samples (OpenAI's default 1)
 * @param stop stop strings; the returned text ends before the first one found
 * @param ignoreEos vLLM's {@code ignore_eos}: the model's EOS ids do not end the sequence (benchmarks)
 * @param includeUsage {@code stream_options.include_usage}: a last chunk with {@code usage} and no choices
 */
record CompletionRequest(String promptText, int[] promptIds, int maxTokens, double temperature, double topP, Long seed,
        List<String> stop, boolean ignoreEos, boolean stream, boolean includeUsage, SkipStrategy strategy,
        double speedup) {

    /** OpenAI's default {@code max_tokens} for completions. */
    static final int DEFAULT_MAX_TOKENS = 16;
    /** At most this many stop strings (OpenAI allows 4). */
    static final int MAX_STOP_STRINGS = 16;

    private static final Set<String> SKIP_FIELDS = Set.of("speedup", "strategy");
    private static final ObjectReader READER = HttpIo.MAPPER.reader()
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** The server-wide skip plan a request without {@code skip} gets. */
    record Defaults(SkipStrategy strategy, double speedup) {
    }

    /** Parses and checks {@code body}; throws a 400 {@link ApiException} naming what is wrong. */
    static CompletionRequest parse(byte[] body, Defaults defaults) {
        if (body.length == 0 || HttpIo.utf8(body).isBlank()) {
            throw ApiException.badRequest("the request body is empty; expected a JSON object");
        }
        JsonNode root;
        try {
            root = READER.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("malformed JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        } catch (IOException e) {
            throw ApiException.badRequest("malformed JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw ApiException.badRequest("the request body must be a JSON object");
        }
        String text = null;
        int[] ids = null;
        JsonNode prompt = prompt(root.get("prompt"));
        if (prompt.isTextual()) {
            text = prompt.textValue();
            if (text.isEmpty()) {
                throw ApiException.badField("prompt", "must not be empty");
            }
        } else {
            ids = tokenIds(prompt);
        }
        optionalString(root, "model");
        int maxTokens = integer(root, "max_tokens", DEFAULT_MAX_TOKENS);
        if (maxTokens < 1) {
            throw ApiException.badField("max_tokens", "must be >= 1, got " + maxTokens);
        }
        double temperature = number(root, "temperature", 1.0);
        if (temperature < 0) {
            throw ApiException.badField("temperature", "must be >= 0 (0 is greedy), got " + temperature);
        }
        double topP = number(root, "top_p", 1.0);
        if (!(topP > 0 && topP <= 1)) {
            throw ApiException.badField("top_p", "must be in (0, 1], got " + topP);
        }
        Long seed = null;
        JsonNode seedNode = root.get("seed");
        if (seedNode != null && !seedNode.isNull()) {
            if (!seedNode.isIntegralNumber() || !seedNode.canConvertToLong()) {
                throw ApiException.badField("seed", "expected an integer, got " + seedNode);
            }
            seed = seedNode.longValue();
        }
        List<String> stop = stop(root.get("stop"));
        boolean ignoreEos = bool(root, "ignore_eos", false);
        boolean stream = bool(root, "stream", false);
        boolean includeUsage = false;
        JsonNode streamOptions = root.get("stream_options");
        if (streamOptions != null && !streamOptions.isNull()) {
            if (!streamOptions.isObject()) {
                throw ApiException.badField("stream_options", "expected an object, got " + streamOptions);
            }
            includeUsage = bool(streamOptions, "stream_options.include_usage", "include_usage", false);
        }
        int n = integer(root, "n", 1);
        if (n != 1) {
            throw ApiException.badField("n", "only n = 1 is supported, got " + n + " (send one request per completion)");
        }
        int bestOf = integer(root, "best_of", 1);
        if (bestOf != 1) {
            throw ApiException.badField("best_of", "only best_of = 1 is supported, got " + bestOf);
        }
        if (bool(root, "echo", false)) {
            throw ApiException.badField("echo", "echoing the prompt is not supported");
        }
        JsonNode logprobs = root.get("logprobs");
        if (logprobs != null && !logprobs.isNull() && !(logprobs.isBoolean() && !logprobs.booleanValue())) {
            throw ApiException.badField("logprobs", "log probabilities are not returned by this server; leave it null");
        }
        JsonNode suffix = root.get("suffix");
        if (suffix != null && !suffix.isNull() && !(suffix.isTextual() && suffix.textValue().isEmpty())) {
            throw ApiException.badField("suffix", "is not supported");
        }
        for (String penalty : List.of("presence_penalty", "frequency_penalty")) {
            if (number(root, penalty, 0.0) != 0.0) {
                throw ApiException.badField(penalty, "is not supported (only 0)");
            }
        }
        JsonNode logitBias = root.get("logit_bias");
        if (logitBias != null && !logitBias.isNull() && !(logitBias.isObject() && logitBias.isEmpty())) {
            throw ApiException.badField("logit_bias", "is not supported");
        }
        SkipStrategy strategy = defaults.strategy();
        double speedup = defaults.speedup();
        JsonNode skip = root.get("skip");
        if (skip != null && !skip.isNull()) {
            if (!skip.isObject()) {
                throw ApiException.badField("skip", "expected an object like {\"speedup\": 2, \"strategy\": \"unified\"}, got "
                        + skip);
            }
            for (Iterator<String> it = skip.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!SKIP_FIELDS.contains(name)) {
                    throw ApiException.badField("skip." + name, "unknown field (known: speedup, strategy)");
                }
            }
            speedup = number(skip, "skip.speedup", "speedup", speedup);
            if (speedup < 1) {
                throw ApiException.badField("skip.speedup", "must be a finite number >= 1 (1 keeps every layer), got "
                        + speedup);
            }
            JsonNode name = skip.get("strategy");
            if (name != null && !name.isNull()) {
                if (!name.isTextual()) {
                    throw ApiException.badField("skip.strategy", "expected a string, got " + name);
                }
                try {
                    strategy = SkipStrategy.fromName(name.textValue());
                } catch (BadInputException e) {
                    throw ApiException.badField("skip.strategy", e.getMessage());
                }
            }
        }
        return new CompletionRequest(text, ids, maxTokens, temperature, topP, seed, stop, ignoreEos, stream, includeUsage,
                strategy, speedup);
    }

    /** The generation config of this request: greedy at temperature 0, else sampling without top-k. */
    GenerationConfig toConfig() {
        GenerationConfig.Builder b = GenerationConfig.builder()
                .maxNewTokens(maxTokens)
                .skipPlan(strategy, speedup)
                .stopStrings(stop);
        if (ignoreEos) {
            b.stopTokenIds(List.of());
        }
        if (temperature > 0) {
            b.doSample(true).temperature(temperature).topP(topP).topK(0);
        } else {
            b.doSample(false);
        }
        if (seed != null) {
            b.seed(seed.longValue());
        }
        return b.build();
    }

    /** The one prompt of the request: a string or a list of ids, unwrapping a one-element list of either. */
    private static JsonNode prompt(JsonNode node) {
        if (node == null || node.isNull()) {
            throw ApiException.badField("prompt", "is required (a string, or a list of token ids)");
        }
        if (node.isArray() && node.size() == 1 && (node.get(0).isTextual() || node.get(0).isArray())) {
            return node.get(0);
        }
        if (node.isArray() && node.size() > 1 && (node.get(0).isTextual() || node.get(0).isArray())) {
            throw ApiException.badField("prompt", "one prompt per request is supported, got " + node.size()
                    + " (send one request per prompt; the server batches them)");
        }
        if (!node.isTextual() && !node.isArray()) {
            throw ApiException.badField("prompt", "expected a string or a list of token ids, got " + node.getNodeType()
                    .toString().toLowerCase(java.util.Locale.ROOT));
        }
        return node;
    }

    private static int[] tokenIds(JsonNode array) {
        if (array.isEmpty()) {
            throw ApiException.badField("prompt", "the list of token ids is empty");
        }
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = array.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
                throw ApiException.badField("prompt", "token ids must be integers >= 0, got " + id + " at index " + i);
            }
            ids[i] = id.intValue();
        }
        return ids;
    }

    private static List<String> stop(JsonNode node) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        List<String> stops = new ArrayList<>();
        if (node.isTextual()) {
            stops.add(node.textValue());
        } else if (node.isArray()) {
            for (JsonNode s : node) {
                if (!s.isTextual()) {
                    throw ApiException.badField("stop", "expected a string or a list of strings, got " + s + " in the list");
                }
                stops.add(s.textValue());
            }
        } else {
            throw ApiException.badField("stop", "expected a string or a list of strings, got " + node);
        }
        if (stops.size() > MAX_STOP_STRINGS) {
            throw ApiException.badField("stop", "at most " + MAX_STOP_STRINGS + " stop strings, got " + stops.size());
        }
        for (String s : stops) {
            if (s.isEmpty()) {
                throw ApiException.badField("stop", "a stop string must not be empty");
            }
        }
        return List.copyOf(stops);
    }

    private static void optionalString(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node != null && !node.isNull() && !node.isTextual()) {
            throw ApiException.badField(field, "expected a string, got " + node);
        }
    }

    private static int integer(JsonNode root, String field, int defaultValue) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return defaultValue;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw ApiException.badField(field, "expected an integer, got " + node);
        }
        return node.intValue();
    }

    private static double number(JsonNode root, String field, double defaultValue) {
        return number(root, field, field, defaultValue);
    }

    private static double number(JsonNode object, String param, String field, double defaultValue) {
        JsonNode node = object.get(field);
        if (node == null || node.isNull()) {
            return defaultValue;
        }
        if (!node.isNumber() || !Double.isFinite(node.doubleValue())) {
            throw ApiException.badField(param, "expected a number, got " + node);
        }
        return node.doubleValue();
    }

    private static boolean bool(JsonNode root, String field, boolean defaultValue) {
        return bool(root, field, field, defaultValue);
    }

    private static boolean bool(JsonNode object, String param, String field, boolean defaultValue) {
        JsonNode node = object.get(field);
        if (node == null || node.isNull()) {
            return defaultValue;
        }
        if (!node.isBoolean()) {
            throw ApiException.badField(param, "expected true or false, got " + node);
        }
        return node.booleanValue();
    }
}
