package org.popsolutions.spanker.api;

/** A device or run-time failure: a card disappeared, a link failed, an I/O error on the host link. */
public final class DeviceException extends SpankerException {
    private static final long serialVersionUID = 1L;

    public DeviceException(String message) {
        super(message);
    }

    public DeviceException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.RUNTIME;
    }
}
