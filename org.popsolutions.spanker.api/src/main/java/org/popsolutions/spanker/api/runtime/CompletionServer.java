package org.popsolutions.spanker.api.runtime;

import org.osgi.annotation.versioning.ProviderType;

/** Puts a loaded model behind an OpenAI-compatible HTTP endpoint on 127.0.0.1. */
@ProviderType
public interface CompletionServer {
    /**
     * Starts serving {@code model}: {@code /v1/completions}, {@code /v1/chat/completions} (streaming by server-sent
     * events or not), {@code /v1/models}, {@code /health}. The model stays open when the endpoint closes.
     *
     * @throws org.popsolutions.spanker.api.SpankerException when the port cannot be bound
     */
    ServingEndpoint serve(LoadedModel model, ServeOptions options);
}
