package io.skipllm.serving.http;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events as OpenAI streams them: {@code data: {json}\n\n} per chunk, then
 * {@code data: [DONE]\n\n}. Writes go to the chunked response body; {@link #flush} sends them. An
 * {@link IOException} from any call means the client is gone.
 */
final class SseWriter {

    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEEP_ALIVE = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);

    private final OutputStream out;

    SseWriter(OutputStream out) {
        this.out = out;
    }

    /** One {@code data:} event holding {@code value} as compact JSON (never containing a newline). */
    void event(Object value) throws IOException {
        out.write(DATA);
        out.write(HttpIo.json(value));
        out.write(END);
    }

    /** An SSE comment line, which clients ignore: keeps idle connections alive and finds closed ones. */
    void keepAlive() throws IOException {
        out.write(KEEP_ALIVE);
    }

    void done() throws IOException {
        out.write(DONE);
    }

    void flush() throws IOException {
        out.flush();
    }
}
