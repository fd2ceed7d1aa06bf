package io.skipllm.serving.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.generation.TextCodec;
import io.skipllm.model.Model;
import io.skipllm.model.ShippedModel;
import io.skipllm.serving.BatchingEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Text prompts, streamed text and stop strings on the shipped translation model (which has a tokenizer). */
class CompletionServerTextTest {

    static final String PROMPT = "Translate Spanish to English: A ti te digo: Levántate, y toma tu lecho, y vete á tu casa."
            + " English:";
    static Model model;
    static CompletionServer server;
    static TestClient client;

    @BeforeAll
    static void start() throws Exception {
        model = ShippedModel.load();
        BatchingEngine engine = BatchingEngine.start(model.decoder(), TextCodec.of(model.tokenizer().orElseThrow()),
                BatchingEngine.Options.defaults(model.config()).withMaxBatch(4).withMaxQueue(8));
        server = CompletionServer.start(engine, CompletionServer.Options.defaults("translation-base").withPort(0));
        client = new TestClient(server.port());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (model != null) {
            model.close();
        }
    }

    static String body(String extra) throws Exception {
        return "{\"prompt\":" + TestClient.JSON.writeValueAsString(PROMPT) + ",\"max_tokens\":40,\"temperature\":0"
                + extra + "}";
    }

    @Test
    void textInTextOutAsTheGeneratorDecodes() throws Exception {
        GenerationResult expected = model.generator().generateText(PROMPT, GenerationConfig.builder().maxNewTokens(40)
                .build());
        JsonNode json = client.complete(body("")).json();
        JsonNode choice = json.get("choices").get(0);
        assertEquals(expected.text(), choice.get("text").asText());
        int[] ids = new int[choice.get("token_ids").size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = choice.get("token_ids").get(i).intValue();
        }
        assertArrayEquals(expected.tokens(), ids);
        assertEquals(expected.promptTokens(), json.get("usage").get("prompt_tokens").asInt());
        assertEquals(ids.length < 40 ? "stop" : "length", choice.get("finish_reason").asText());

        TestClient.Stream s = client.stream(body(",\"stream\":true"));
        assertTrue(s.done());
        assertEquals(expected.text(), s.text());
    }

    @Test
    void stopStringsEndTheTextBeforeThem() throws Exception {
        String full = client.complete(body("")).json().get("choices").get(0).get("text").asText();
        String[] words = full.trim().split(" ");
        assertTrue(words.length >= 3, full);
        String stop = " " + words[2];
        String expected = full.substring(0, full.indexOf(stop));
        String stopJson = ",\"stop\":[" + TestClient.JSON.writeValueAsString(stop) + ",\"@@never@@\"]";
        JsonNode choice = client.complete(body(stopJson)).json().get("choices").get(0);
        assertEquals(expected, choice.get("text").asText());
        assertEquals("stop", choice.get("finish_reason").asText());
        assertFalse(choice.get("text").asText().contains(stop));

        TestClient.Stream s = client.stream(body(stopJson + ",\"stream\":true"));
        assertEquals(expected, s.text());
        assertEquals("stop", s.last().get("choices").get(0).get("finish_reason").asText());
    }
}
