package org.popsolutions.spanker.api;

/** No card is present: no device provider registered one, or the device nodes are missing. */
public final class NoSailsException extends SpankerException {
    private static final long serialVersionUID = 1L;

    public NoSailsException(String message) {
        super(message);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.NO_SAILS;
    }
}
