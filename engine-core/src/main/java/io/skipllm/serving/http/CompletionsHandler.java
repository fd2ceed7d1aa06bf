package io.skipllm.serving.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.skipllm.BadInputException;
import io.skipllm.generation.GenerationCancelledException;
import io.skipllm.generation.GenerationConfig;
import io.skipllm.generation.GenerationResult;
import io.skipllm.serving.BatchingEngine;
import io.skipllm.serving.RequestHandle;
import io.skipllm.serving.http.CompletionEvents.End;
import io.skipllm.serving.http.CompletionEvents.Event;
import io.skipllm.serving.http.CompletionEvents.Token;
import io.skipllm.serving.http.ServerMetrics.Outcome;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/completions}: parses the request, submits it to the engine and answers with the
 * whole completion or, with {@code "stream": true}, server-sent events, one chunk per token. A
 * streaming client that goes away is noticed at the next write (tokens, or a keep-alive comment after
 * a second of silence) and its row is cancelled at once. Every request the engine accepted ends with
 * a complete response or an error (an error event inside a stream whose headers are already sent).
 */
final class CompletionsHandler implements HttpHandler {

    static final String PATH = "/v1/completions";
    /** Silence after which a stream gets a keep-alive comment (which also finds disconnected clients). */
    static final long KEEP_ALIVE_MILLIS = 1000;

    private static final Logger LOG = LoggerFactory.getLogger(CompletionsHandler.class);

    private final CompletionServer server;
    private final BatchingEngine engine;
    private final ServerMetrics metrics;
    private final CompletionRequest.Defaults defaults;
    private final List<Integer> stopTokenIds;

    CompletionsHandler(CompletionServer server, BatchingEngine engine, ServerMetrics metrics,
            CompletionRequest.Defaults defaults) {
        this.server = server;
        this.engine = engine;
        this.metrics = metrics;
        this.defaults = defaults;
        this.stopTokenIds = engine.modelConfig().eosTokenIds();
    }

    @Override
    public void handle(HttpExchange exchange) {
        long received = System.nanoTime();
        metrics.inFlight().incrementAndGet();
        try {
            serve(exchange, received);
        } catch (IOException e) { // the client is gone before its answer was written
            LOG.debug("completion request: the client went away", e);
        } catch (RuntimeException e) {
            LOG.error("completion request failed unexpectedly", e);
            metrics.outcome(Outcome.FAILED);
            if (exchange.getResponseCode() == -1) { // nothing sent yet: the client still gets its error
                try {
                    HttpIo.sendError(exchange, ApiException.internal("internal error: " + e));
                } catch (IOException | RuntimeException ignored) {
                    // the client is gone too
                }
            }
        } finally {
            exchange.close();
            metrics.inFlight().decrementAndGet();
            server.handlerDone();
        }
    }

    private void serve(HttpExchange exchange, long received) throws IOException {
        try {
            if (!HttpIo.isPath(exchange, PATH)) {
                throw ApiException.notFound("no endpoint " + exchange.getRequestURI().getPath());
            }
            if (!"POST".equals(exchange.getRequestMethod())) {
                throw ApiException.methodNotAllowed(exchange.getRequestMethod(), PATH, "POST");
            }
            if (!server.accepting()) {
                throw ApiException.unavailable("the server is shutting down");
            }
            byte[] body = HttpIo.readBody(exchange, server.options().maxBodyBytes());
            CompletionRequest request = CompletionRequest.parse(body, defaults);
            GenerationConfig config;
            int[] prompt;
            try {
                config = request.toConfig();
                prompt = request.promptIds() != null ? request.promptIds() : encode(request.promptText());
            } catch (BadInputException e) {
                throw ApiException.badRequest(e.getMessage());
            }
            checkContext(prompt.length, request.maxTokens());
            CompletionEvents events = new CompletionEvents(request.stream());
            RequestHandle handle = submit(prompt, config, events);
            try {
                handle.result().whenComplete(events::end);
                CompletionResponses.Head head = new CompletionResponses.Head("cmpl-" + UUID.randomUUID().toString()
                        .replace("-", ""), System.currentTimeMillis() / 1000, server.options().modelId());
                if (request.stream()) {
                    stream(exchange, request, handle, events, head, received);
                } else {
                    respond(exchange, request, handle, events, head, received);
                }
            } finally {
                handle.cancel(); // frees the row if anything above ended early; nothing once the result is complete
            }
        } catch (ApiException e) {
            metrics.outcome(switch (e.status()) {
                case 429 -> Outcome.REJECTED;
                case 503 -> Outcome.UNAVAILABLE;
                case 500 -> Outcome.FAILED;
                default -> Outcome.BAD_REQUEST;
            });
            HttpIo.sendError(exchange, e);
        }
    }

    private int[] encode(String text) {
        if (!engine.hasTokenizer()) {
            throw ApiException.badField("prompt", "this model has no tokenizer; send the prompt as a list of token ids");
        }
        return engine.encode(text);
    }

    /** OpenAI's wording for a request that does not fit. */
    private void checkContext(int promptTokens, int maxTokens) {
        int limit = engine.maxSequenceLength();
        long needed = (long) promptTokens + maxTokens;
        if (needed > limit) {
            throw new ApiException(400, "invalid_request_error", "this server's maximum context length is " + limit
                    + " tokens, however you requested " + needed + " tokens (" + promptTokens + " in your prompt; "
                    + maxTokens + " for the completion); reduce your prompt or max_tokens",
                    promptTokens >= limit ? "prompt" : "max_tokens", null);
        }
    }

    private RequestHandle submit(int[] prompt, GenerationConfig config, CompletionEvents events) {
        try {
            return engine.submit(prompt, config, events);
        } catch (BatchingEngine.QueueFullException e) {
            throw ApiException.tooManyRequests(e.getMessage(), 1);
        } catch (IllegalStateException e) {
            throw ApiException.unavailable("the server is shutting down");
        } catch (BadInputException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    /** Waits for the whole result and sends it as one JSON response. */
    private void respond(HttpExchange exchange, CompletionRequest request, RequestHandle handle,
            CompletionEvents events, CompletionResponses.Head head, long received) throws IOException {
        End end = awaitEnd(events, handle);
        if (end.error() != null) {
            ApiException error = failure(end.error());
            metrics.outcome(error.status() == 503 ? Outcome.CANCELLED : Outcome.FAILED);
            HttpIo.sendError(exchange, error);
            return;
        }
        GenerationResult result = end.result();
        int[] tokens = result.tokens();
        String text = result.text() == null ? null : StopTextFilter.truncate(result.text(), request.stop());
        Map<String, Object> body = CompletionResponses.completion(head, text, tokens,
                finishReason(request, result), CompletionResponses.usage(handle.promptTokens(), tokens.length),
                skip(request, result));
        byte[] bytes = HttpIo.json(body);
        record(handle, events, received, tokens.length);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private End awaitEnd(CompletionEvents events, RequestHandle handle) {
        try {
            while (true) {
                Event event = events.poll(Long.MAX_VALUE);
                if (event instanceof End end) {
                    return end;
                }
            }
        } catch (InterruptedException e) { // the server's last resort at shutdown
            Thread.currentThread().interrupt();
            handle.cancel();
            return new End(null, e);
        }
    }

    /** Streams each token as a chunk, then the finish chunk and {@code [DONE]}. */
    private void stream(HttpExchange exchange, CompletionRequest request, RequestHandle handle, CompletionEvents events,
            CompletionResponses.Head head, long received) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        exchange.getResponseHeaders().set("X-Accel-Buffering", "no");
        boolean text = engine.hasTokenizer();
        StopTextFilter filter = new StopTextFilter(request.stop());
        List<Event> batch = new ArrayList<>();
        try {
            exchange.sendResponseHeaders(200, 0);
            SseWriter sse = new SseWriter(exchange.getResponseBody());
            while (true) {
                Event first;
                try {
                    first = events.poll(KEEP_ALIVE_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    handle.cancel();
                    sse.event(HttpIo.errorBody("the request was cancelled: the server is shutting down",
                            "server_unavailable", null));
                    sse.done();
                    sse.flush();
                    metrics.outcome(Outcome.CANCELLED);
                    return;
                }
                if (first == null) {
                    sse.keepAlive();
                    sse.flush();
                    continue;
                }
                batch.clear();
                batch.add(first);
                events.drainTo(batch);
                for (Event event : batch) {
                    if (event instanceof Token token) {
                        String fragment = text ? filter.accept(token.text() == null ? "" : token.text()) : null;
                        sse.event(CompletionResponses.chunk(head, fragment, new int[] {token.id()}, null, null, null));
                    } else {
                        finish(sse, (End) event, request, handle, events, head, filter, received);
                        return;
                    }
                }
                sse.flush();
            }
        } catch (IOException e) {
            handle.cancel();
            metrics.outcome(Outcome.CLIENT_DISCONNECTED);
            throw e;
        }
    }

    private void finish(SseWriter sse, End end, CompletionRequest request, RequestHandle handle,
            CompletionEvents events, CompletionResponses.Head head, StopTextFilter filter, long received)
            throws IOException {
        if (end.error() != null) {
            ApiException error = failure(end.error());
            metrics.outcome(error.status() == 503 ? Outcome.CANCELLED : Outcome.FAILED);
            sse.event(HttpIo.errorBody(error.getMessage(), error.type(), null));
            sse.done();
            sse.flush();
            return;
        }
        GenerationResult result = end.result();
        int completionTokens = result.tokens().length;
        Map<String, Object> usage = CompletionResponses.usage(handle.promptTokens(), completionTokens);
        String tail = engine.hasTokenizer() ? filter.finish() : null;
        sse.event(CompletionResponses.chunk(head, tail, new int[0], finishReason(request, result), usage,
                skip(request, result)));
        if (request.includeUsage()) {
            sse.event(CompletionResponses.usageChunk(head, usage));
        }
        sse.done();
        sse.flush();
        record(handle, events, received, completionTokens);
    }

    /** The error a failed or cancelled result is answered with. */
    private static ApiException failure(Throwable error) {
        if (error instanceof GenerationCancelledException || error instanceof InterruptedException) {
            return ApiException.unavailable("the request was cancelled: the server is shutting down");
        }
        return ApiException.internal("generation failed: " + (error.getMessage() == null
                ? error.getClass().getSimpleName() : error.getMessage()));
    }

    /**
     * OpenAI's {@code finish_reason}: "length" when the request produced {@code max_tokens} tokens and
     * neither a stop token nor a stop string ended it, else "stop".
     */
    private String finishReason(CompletionRequest request, GenerationResult result) {
        int[] tokens = result.tokens();
        if (tokens.length < request.maxTokens()) {
            return "stop";
        }
        if (!request.ignoreEos() && tokens.length > 0 && stopTokenIds.contains(tokens[tokens.length - 1])) {
            return "stop";
        }
        if (result.text() != null && StopTextFilter.contains(result.text(), request.stop())) {
            return "stop";
        }
        return "length";
    }

    private Map<String, Object> skip(CompletionRequest request, GenerationResult result) {
        return CompletionResponses.skip(request.strategy().cliName(), request.speedup(), result.retained().indices(),
                result.numLayers());
    }

    private void record(RequestHandle handle, CompletionEvents events, long received, int completionTokens) {
        metrics.outcome(Outcome.COMPLETED);
        metrics.tokens(handle.promptTokens(), completionTokens);
        if (events.firstTokenNanos() != 0) {
            metrics.timeToFirstToken((events.firstTokenNanos() - received) / 1e9);
        }
        metrics.duration((System.nanoTime() - received) / 1e9);
    }
}
