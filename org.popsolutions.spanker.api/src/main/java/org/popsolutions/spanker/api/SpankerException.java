package org.popsolutions.spanker.api;

/**
 * Root of every error a Spanker service reports. Messages say what was wrong and what was expected, so
 * that surfaces can show them to a user without a stack trace.
 */
public abstract class SpankerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    protected SpankerException(String message) {
        super(message);
    }

    protected SpankerException(String message, Throwable cause) {
        super(message, cause);
    }

    public abstract ErrorKind kind();
}
