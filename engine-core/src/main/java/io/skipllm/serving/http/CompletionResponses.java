package io.skipllm.serving.http;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON shapes of {@code /v1/completions} responses: OpenAI's {@code text_completion} object and
 * stream chunks, with each choice's {@code token_ids} and a top-level {@code skip} object (ours).
 * {@code text} keys appear only when the model has a tokenizer.
 */
final class CompletionResponses {

    static final String OBJECT = "text_completion";

    /** What every response and chunk of one request shares. */
    record Head(String id, long created, String model) {
    }

    private CompletionResponses() {
    }

    /** The whole (non-streamed) response. */
    static Map<String, Object> completion(Head head, String text, int[] tokenIds, String finishReason,
            Map<String, Object> usage, Map<String, Object> skip) {
        Map<String, Object> json = head(head);
        json.put("choices", List.of(choice(text, tokenIds, finishReason)));
        json.put("usage", usage);
        json.put("skip", skip);
        return json;
    }

    /** One stream chunk with one choice; {@code usage} and {@code skip} only on the last. */
    static Map<String, Object> chunk(Head head, String text, int[] tokenIds, String finishReason,
            Map<String, Object> usage, Map<String, Object> skip) {
        Map<String, Object> json = head(head);
        json.put("choices", List.of(choice(text, tokenIds, finishReason)));
        if (usage != null) {
            json.put("usage", usage);
        }
        if (skip != null) {
            json.put("skip", skip);
        }
        return json;
    }

    /** The chunk {@code stream_options.include_usage} asks for: no choices, the usage. */
    static Map<String, Object> usageChunk(Head head, Map<String, Object> usage) {
        Map<String, Object> json = head(head);
        json.put("choices", new ArrayList<>());
        json.put("usage", usage);
        return json;
    }

    static Map<String, Object> usage(int promptTokens, int completionTokens) {
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", completionTokens);
        usage.put("total_tokens", promptTokens + completionTokens);
        return usage;
    }

    /** Ours: the plan the request ran with and the layers its response tokens (after the first) ran. */
    static Map<String, Object> skip(String strategy, double speedup, int[] retainedLayers, int numLayers) {
        Map<String, Object> skip = new LinkedHashMap<>();
        skip.put("speedup", speedup);
        skip.put("strategy", strategy);
        skip.put("retained_layers", retainedLayers);
        skip.put("num_layers", numLayers);
        return skip;
    }

    private static Map<String, Object> head(Head head) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("id", head.id());
        json.put("object", OBJECT);
        json.put("created", head.created());
        json.put("model", head.model());
        return json;
    }

    private static Map<String, Object> choice(String text, int[] tokenIds, String finishReason) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        if (text != null) {
            choice.put("text", text);
        }
        choice.put("token_ids", tokenIds);
        choice.put("logprobs", null);
        choice.put("finish_reason", finishReason);
        return choice;
    }
}
