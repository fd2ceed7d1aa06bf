package io.skipllm.serving.http;

import java.util.Map;

/**
 * A request the server answers with an HTTP error and the OpenAI error body
 * {@code {"error":{"message":...,"type":...,"param":...,"code":null}}}.
 */
final class ApiException extends RuntimeException {

    private final int status;
    private final String type;
    private final String param;
    private final Map<String, String> headers;

    ApiException(int status, String type, String message, String param, Map<String, String> headers) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    /** 400: the request is malformed or asks for something impossible. */
    static ApiException badRequest(String message) {
        return new ApiException(400, "invalid_request_error", message, null, null);
    }

    /** 400 naming the request field at fault. */
    static ApiException badField(String param, String message) {
        return new ApiException(400, "invalid_request_error", param + ": " + message, param, null);
    }

    static ApiException notFound(String message) {
        return new ApiException(404, "not_found_error", message, null, null);
    }

    static ApiException methodNotAllowed(String method, String path, String allowed) {
        return new ApiException(405, "invalid_request_error", method + " is not allowed on " + path + "; use " + allowed,
                null, Map.of("Allow", allowed));
    }

    static ApiException payloadTooLarge(long limit) {
        return new ApiException(413, "invalid_request_error", "the request body is larger than " + limit + " bytes",
                null, null);
    }

    /** 429: the engine's queue is full; the client should retry after {@code retryAfterSeconds}. */
    static ApiException tooManyRequests(String message, int retryAfterSeconds) {
        return new ApiException(429, "rate_limit_error", message, null,
                Map.of("Retry-After", Integer.toString(retryAfterSeconds)));
    }

    /** 503: the server is shutting down (or the request was cancelled by the shutdown). */
    static ApiException unavailable(String message) {
        return new ApiException(503, "server_unavailable", message, null, Map.of("Retry-After", "5"));
    }

    static ApiException internal(String message) {
        return new ApiException(500, "server_error", message, null, null);
    }

    int status() {
        return status;
    }

    String type() {
        return type;
    }

    String param() {
        return param;
    }

    Map<String, String> headers() {
        return headers;
    }
}
