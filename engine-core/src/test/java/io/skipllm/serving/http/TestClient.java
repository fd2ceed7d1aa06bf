package io.skipllm.serving.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A real HTTP client (java.net.http) on loopback, with the helpers the server tests share. */
final class TestClient {

    static final ObjectMapper JSON = new ObjectMapper();

    /** A whole response: status, body parsed as JSON when it is JSON, the raw body and one header. */
    record Reply(int status, String body, HttpResponse<String> response) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }

        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }
    }

    /** The events of a finished stream: every {@code data:} payload but {@code [DONE]}, and whether it came. */
    record Stream(int status, List<JsonNode> events, boolean done, String raw) {
        /** The generated ids over every chunk. */
        List<Integer> tokenIds() {
            List<Integer> ids = new ArrayList<>();
            for (JsonNode e : events) {
                for (JsonNode choice : e.path("choices")) {
                    choice.path("token_ids").forEach(id -> ids.add(id.intValue()));
                }
            }
            return ids;
        }

        /** The text over every chunk. */
        String text() {
            StringBuilder b = new StringBuilder();
            for (JsonNode e : events) {
                for (JsonNode choice : e.path("choices")) {
                    b.append(choice.path("text").asText(""));
                }
            }
            return b.toString();
        }

        JsonNode last() {
            return events.get(events.size() - 1);
        }
    }

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    final String base;

    TestClient(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120));
    }

    Reply get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body(), r);
    }

    Reply post(String path, String body) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body(), r);
    }

    Reply complete(String body) throws IOException, InterruptedException {
        return post("/v1/completions", body);
    }

    /** Opens a streamed completion; the caller reads (and may close early) the body. */
    HttpResponse<InputStream> open(String body) throws IOException, InterruptedException {
        return http.send(request("/v1/completions").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /** A streamed completion read to its end. */
    Stream stream(String body) throws IOException, InterruptedException {
        HttpResponse<InputStream> r = open(body);
        List<JsonNode> events = new ArrayList<>();
        boolean done = false;
        StringBuilder raw = new StringBuilder();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                raw.append(line).append('\n');
                if (line.startsWith("data: ")) {
                    String data = line.substring(6);
                    if (data.equals("[DONE]")) {
                        done = true;
                    } else {
                        if (done) {
                            throw new AssertionError("an event after [DONE]: " + raw);
                        }
                        events.add(JSON.readTree(data));
                    }
                }
            }
        }
        return new Stream(r.statusCode(), events, done, raw.toString());
    }
}
