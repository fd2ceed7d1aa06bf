package io.skipllm.serving.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reading request bodies and writing JSON responses on a {@link HttpExchange}. */
final class HttpIo {

    static final ObjectMapper MAPPER = new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT);

    private HttpIo() {
    }

    /** The whole body, refused with 413 beyond {@code limit} bytes (read no further than that). */
    static byte[] readBody(HttpExchange exchange, int limit) throws IOException {
        String declared = exchange.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            try {
                if (Long.parseLong(declared.trim()) > limit) {
                    throw ApiException.payloadTooLarge(limit);
                }
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("invalid Content-Length header '" + declared + "'");
            }
        }
        InputStream in = exchange.getRequestBody();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            body.write(buffer, 0, n);
            if (body.size() > limit) {
                throw ApiException.payloadTooLarge(limit);
            }
        }
        return body.toByteArray();
    }

    static byte[] json(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a response", e);
        }
    }

    /** Sends {@code value} as the complete JSON response with {@code status}. */
    static void sendJson(HttpExchange exchange, int status, Object value) throws IOException {
        send(exchange, status, "application/json", json(value));
    }

    static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** The OpenAI error body of {@code error}. */
    static Map<String, Object> errorBody(String message, String type, String param) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", null);
        return Map.of("error", error);
    }

    /** Sends {@code error} with its status, headers and the OpenAI error body. */
    static void sendError(HttpExchange exchange, ApiException error) throws IOException {
        error.headers().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
        sendJson(exchange, error.status(), errorBody(error.getMessage(), error.type(), error.param()));
    }

    /** True when the request's path is {@code path} (a trailing slash allowed): contexts match prefixes. */
    static boolean isPath(HttpExchange exchange, String path) {
        String p = exchange.getRequestURI().getPath();
        return p.equals(path) || p.equals(path + "/");
    }

    static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
