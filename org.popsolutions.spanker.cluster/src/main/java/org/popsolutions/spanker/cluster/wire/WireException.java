package org.popsolutions.spanker.cluster.wire;

/** Bytes from the wire that break the protocol; the message says which field and what was expected. */
public final class WireException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public WireException(String message) {
        super(message);
    }
}
