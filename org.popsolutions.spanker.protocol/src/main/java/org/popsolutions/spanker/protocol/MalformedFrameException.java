package org.popsolutions.spanker.protocol;

/** A frame or payload that breaks the protocol: the connection it came on is closed, with this as the reason. */
public final class MalformedFrameException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedFrameException(String reason) {
        super(reason);
    }
}
