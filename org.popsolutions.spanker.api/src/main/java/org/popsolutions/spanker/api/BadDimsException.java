package org.popsolutions.spanker.api;

/** Operand dimensions are invalid for the operation (zero, misaligned to a block, or overflowing). */
public final class BadDimsException extends SpankerException {
    private static final long serialVersionUID = 1L;

    public BadDimsException(String message) {
        super(message);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.BAD_DIMS;
    }
}
