package org.popsolutions.spanker.serve.openai;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** One HTTP request and its answer, as an HTTP server adapter sees them. */
public interface Exchange {
    String method();

    /** The request path without query, e.g. {@code /v1/completions}. */
    String path();

    InputStream body() throws IOException;

    /** A whole answer. */
    void respond(int status, String contentType, byte[] body) throws IOException;

    /**
     * Starts a 200 {@code text/event-stream} answer of unknown length; what is written to the stream and flushed
     * reaches the client at once, and a write fails once the client has gone.
     */
    OutputStream startEventStream() throws IOException;

    /**
     * Starts a 200 answer of unknown length with this content type before its body is known, as
     * {@link #startEventStream} does; null when the server cannot (the answer is then sent whole with
     * {@link #respond}).
     */
    default OutputStream startStream(String contentType) throws IOException {
        return null;
    }
}
