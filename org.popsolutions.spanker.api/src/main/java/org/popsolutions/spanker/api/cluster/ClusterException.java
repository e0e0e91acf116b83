package org.popsolutions.spanker.api.cluster;

import org.popsolutions.spanker.api.ErrorKind;
import org.popsolutions.spanker.api.SpankerException;

/** The hierarchy could not do what was asked: a node died, a ring stayed full, a task failed, no cluster runs. */
public class ClusterException extends SpankerException {
    private static final long serialVersionUID = 1L;

    public ClusterException(String message) {
        super(message);
    }

    public ClusterException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.RUNTIME;
    }
}
