package org.popsolutions.spanker.api;

/** A model file is malformed or unsupported; the message names the offending field and its position. */
public final class InvalidModelException extends SpankerException {
    private static final long serialVersionUID = 1L;

    public InvalidModelException(String message) {
        super(message);
    }

    public InvalidModelException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INVALID_MODEL;
    }
}
