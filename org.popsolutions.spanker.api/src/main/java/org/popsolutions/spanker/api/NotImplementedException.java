package org.popsolutions.spanker.api;

/** The hardware (or its driver) genuinely lacks the feature; the message says exactly what is missing. */
public final class NotImplementedException extends SpankerException {
    private static final long serialVersionUID = 1L;

    public NotImplementedException(String message) {
        super(message);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.NOT_IMPLEMENTED;
    }
}
