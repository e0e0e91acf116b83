package org.popsolutions.spanker.api.runtime;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Told how far a load has come: the weights' bytes sent to the cards over the host link so far, out of all of them.
 * Called on the loading thread after each chunk; returns quickly and never throws.
 */
@ConsumerType
@FunctionalInterface
public interface LoadProgress {
    /** A load nobody watches. */
    LoadProgress NONE = (sent, total) -> { };

    void sent(long bytes, long totalBytes);
}
