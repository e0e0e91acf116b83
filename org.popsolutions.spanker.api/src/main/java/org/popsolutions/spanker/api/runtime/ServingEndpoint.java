package org.popsolutions.spanker.api.runtime;

import java.net.URI;
import org.osgi.annotation.versioning.ProviderType;

/** A running endpoint: where it listens and its queue; closing it cancels what runs and frees the port. */
@ProviderType
public interface ServingEndpoint extends ServingStatus, AutoCloseable {
    /** e.g. http://127.0.0.1:8080/ */
    URI address();

    /** Requests answered 200, since start. */
    long served();

    /** Generations ended because their client went away, since start. */
    long cancelled();

    @Override
    void close();
}
