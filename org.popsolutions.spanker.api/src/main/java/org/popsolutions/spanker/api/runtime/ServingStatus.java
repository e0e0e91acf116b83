package org.popsolutions.spanker.api.runtime;

import org.osgi.annotation.versioning.ProviderType;

/** A serving endpoint's queue, read by the metrics: requests waiting, running, and its bound. */
@ProviderType
public interface ServingStatus {
    /** Requests waiting for their turn (not the one generating). */
    int queueDepth();

    /** Waiting requests accepted at most; one more is refused (HTTP 503). */
    int queueCapacity();

    /** 1 while a generation runs, else 0. */
    int running();

    /** Requests refused because the queue was full, since start. */
    long rejected();
}
