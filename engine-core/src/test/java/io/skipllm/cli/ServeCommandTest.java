package io.skipllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code serve}: options checked before loading, and a real process that finishes its requests on SIGTERM and exits 0. */
class ServeCommandTest {

    @Test
    void badOptionsExitWithTwoBeforeLoadingAnything() {
        String[][] cases = {
            {"serve", "--max-batch", "0"},
            {"serve", "--max-queue", "-1"},
            {"serve", "--port", "70000"},
            {"serve", "--strategy", "skipdecode"},
            {"serve", "--speedup", "0.5"},
            {"serve", "--max-seq-len", "1"},
            {"serve", "--shutdown-timeout", "-2"},
            {"serve", "--weights", "int3"},
            {"serve", "--bogus", "1"},
            {"serve", "--model", "random:llama,layers=2,hidden=32,heads=2,vocab=50,context=64", "--max-seq-len", "100"},
        };
        for (String[] argv : cases) {
            CliTest.Result r = CliTest.run(argv);
            assertEquals(2, r.code(), String.join(" ", argv) + ": " + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("error: "), r.err());
            assertEquals("", r.out());
        }
    }

    @Test
    void sigtermFinishesTheRunningRequestAndExitsZero() throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "serve", "--model",
                "random:llama,layers=4,hidden=64,heads=4,kv_heads=2,intermediate=128,vocab=300,context=256,seed=1",
                "--port", "0", "--max-batch", "2", "--speedup", "2"));
        Path log = Files.createTempFile("serve", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(false)
                .redirectError(log.toFile()).start();
        process.getOutputStream().close();
        try {
            int port = -1;
            String seen = "";
            Pattern listening = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (port < 0 && System.nanoTime() < deadline) {
                Thread.sleep(100);
                seen = Files.readString(log);
                Matcher m = listening.matcher(seen);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                }
                assertTrue(process.isAlive() || port > 0, "serve exited early: " + seen);
            }
            assertTrue(port > 0, "no listening line: " + seen);
            assertTrue(seen.contains("default skip unified at 2.0"), seen);

            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            HttpResponse<InputStream> stream = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/v1/completions")).timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":[5,6,7],\"max_tokens\":200,\"temperature\":0.7,"
                            + "\"seed\":3,\"stream\":true}")).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, stream.statusCode());
            BufferedReader events = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
            String line = events.readLine();
            assertTrue(line.startsWith("data: "), line);
            process.destroy(); // SIGTERM while the request runs
            JsonNode last = null;
            boolean done = false;
            while ((line = events.readLine()) != null) {
                if (line.equals("data: [DONE]")) {
                    done = true;
                } else if (line.startsWith("data: ")) {
                    last = new ObjectMapper().readTree(line.substring(6));
                }
            }
            assertTrue(done, "the stream ended with [DONE]");
            assertNotNull(last);
            assertTrue(last.get("choices").get(0).get("finish_reason").asText().matches("stop|length"), last.toString());
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "serve did not exit");
            String err = Files.readString(log);
            assertEquals(0, process.exitValue(), err);
            assertTrue(err.contains("SIGTERM") && err.contains("serve: stopped; 1 requests accepted, 1 completed"), err);
        } finally {
            process.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }
}
