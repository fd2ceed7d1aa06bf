package io.skipllm.serving.http;

import io.skipllm.generation.GenerationResult;
import io.skipllm.generation.TokenStreamListener;
import java.util.Collection;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The hand-over from the engine's thread to the HTTP handler's thread for one request: the listener
 * only timestamps and enqueues (it must never block the batch); the handler takes the events and
 * writes them. The queue is bounded by the request's {@code max_tokens} plus one end event.
 */
final class CompletionEvents implements TokenStreamListener {

    /** What the handler takes from the queue. */
    sealed interface Event permits Token, End {
    }

    /** One generated token and the text it completes (null without a tokenizer). */
    record Token(int id, String text) implements Event {
    }

    /** The request is over: its result, or the error that ended it. */
    record End(GenerationResult result, Throwable error) implements Event {
    }

    private final boolean tokens;
    private final LinkedBlockingQueue<Event> queue = new LinkedBlockingQueue<>();
    private volatile long firstTokenNanos;

    /** @param tokens whether to enqueue every token (streaming) or only the end */
    CompletionEvents(boolean tokens) {
        this.tokens = tokens;
    }

    @Override
    public void onToken(int prompt, int sequence, int tokenId, String text) {
        if (firstTokenNanos == 0) {
            firstTokenNanos = System.nanoTime();
        }
        if (tokens) {
            queue.add(new Token(tokenId, text));
        }
    }

    /** For {@code result().whenComplete}: enqueues the end. */
    void end(GenerationResult result, Throwable error) {
        queue.add(new End(result, unwrap(error)));
    }

    /** When the first token was generated ({@link System#nanoTime}), 0 before. */
    long firstTokenNanos() {
        return firstTokenNanos;
    }

    /** The next event, or null after {@code timeoutMillis}. */
    Event poll(long timeoutMillis) throws InterruptedException {
        return queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** Moves every event already queued into {@code into}. */
    void drainTo(Collection<Event> into) {
        queue.drainTo(into);
    }

    private static Throwable unwrap(Throwable error) {
        Throwable e = error;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
