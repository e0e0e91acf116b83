package org.popsolutions.spanker.api.runtime;

import org.osgi.annotation.versioning.ConsumerType;

/** A caller's view of its own generation. */
@ConsumerType
public interface TokenListener {
    /** Called on the generating thread right after each token is sampled; an exception ends the generation. */
    void token(TokenEvent event);

    /** Asked before every forward pass: {@code true} ends the generation with {@link FinishReason#CANCELLED}. */
    default boolean cancelled() {
        return false;
    }
}
