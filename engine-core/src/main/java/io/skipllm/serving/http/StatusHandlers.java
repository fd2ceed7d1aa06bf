package io.skipllm.serving.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.skipllm.model.ModelConfig;
import io.skipllm.serving.BatchingEngine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The small endpoints: {@code GET /health}, {@code GET /v1/models}, {@code GET /metrics}, and 404 for the rest. */
final class StatusHandlers {

    static final String HEALTH = "/health";
    static final String MODELS = "/v1/models";
    static final String METRICS = "/metrics";

    private StatusHandlers() {
    }

    /** 200 {@code {"status":"ok"}} while serving; 503 {@code {"status":"shutting_down"}} once shutdown began. */
    static HttpHandler health(CompletionServer server) {
        return get(HEALTH, exchange -> {
            boolean ok = server.accepting();
            HttpIo.sendJson(exchange, ok ? 200 : 503, Map.of("status", ok ? "ok" : "shutting_down"));
        });
    }

    /** OpenAI's model list: the one model served, with its context and depth. */
    static HttpHandler models(CompletionServer server, BatchingEngine engine) {
        return get(MODELS, exchange -> {
            ModelConfig config = engine.modelConfig();
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("id", server.options().modelId());
            model.put("object", "model");
            model.put("created", server.startedEpochSeconds());
            model.put("owned_by", "skipllm");
            model.put("max_model_len", engine.maxSequenceLength());
            model.put("num_layers", config.numLayers());
            model.put("vocab_size", config.vocabSize());
            model.put("tokenizer", engine.hasTokenizer());
            Map<String, Object> list = new LinkedHashMap<>();
            list.put("object", "list");
            list.put("data", List.of(model));
            HttpIo.sendJson(exchange, 200, list);
        });
    }

    /** The Prometheus text exposition. */
    static HttpHandler metrics(ServerMetrics metrics, BatchingEngine engine) {
        return get(METRICS, exchange -> HttpIo.send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8",
                metrics.render(engine.stats()).getBytes(StandardCharsets.UTF_8)));
    }

    /** Every path no endpoint serves: 404 with the error body. */
    static HttpHandler notFound() {
        return exchange -> {
            try {
                drain(exchange);
                HttpIo.sendError(exchange, ApiException.notFound("no endpoint " + exchange.getRequestURI().getPath()
                        + "; the server has POST /v1/completions, GET /v1/models, GET /health, GET /metrics"));
            } finally {
                exchange.close();
            }
        };
    }

    private interface Body {
        void send(HttpExchange exchange) throws IOException;
    }

    /** A GET (or HEAD) endpoint at exactly {@code path}. */
    private static HttpHandler get(String path, Body body) {
        return exchange -> {
            try {
                drain(exchange);
                if (!HttpIo.isPath(exchange, path)) {
                    HttpIo.sendError(exchange, ApiException.notFound("no endpoint " + exchange.getRequestURI().getPath()));
                } else if (!"GET".equals(exchange.getRequestMethod())) {
                    HttpIo.sendError(exchange, ApiException.methodNotAllowed(exchange.getRequestMethod(), path, "GET"));
                } else {
                    body.send(exchange);
                }
            } finally {
                exchange.close();
            }
        };
    }

    /** Reads and drops a request body (at most 64 KiB), so the connection can be reused. */
    private static void drain(HttpExchange exchange) throws IOException {
        byte[] buffer = new byte[8192];
        int total = 0;
        while (total < 65536) {
            int n = exchange.getRequestBody().read(buffer);
            if (n < 0) {
                break;
            }
            total += n;
        }
    }
}
