package org.popsolutions.spanker.api.runtime;

import java.util.Objects;

/**
 * @param modelId the name clients give as {@code model} (and {@code /v1/models} lists)
 * @param port TCP port on 127.0.0.1; 0 picks a free one
 * @param queueCapacity requests that may wait while one generates; one more is answered 503
 */
public record ServeOptions(String modelId, int port, int queueCapacity) {
    public ServeOptions {
        Objects.requireNonNull(modelId, "modelId");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be within 0..65535, got " + port);
        }
        if (queueCapacity < 0) {
            throw new IllegalArgumentException("queue capacity must be >= 0, got " + queueCapacity);
        }
    }
}
