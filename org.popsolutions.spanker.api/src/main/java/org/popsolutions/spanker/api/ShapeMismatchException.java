package org.popsolutions.spanker.api;

/** The buffer of card {@code sail} has a different length than the one the operation expects. */
public final class ShapeMismatchException extends SpankerException {
    private static final long serialVersionUID = 1L;
    private final int sail;
    private final long expected;
    private final long actual;

    public ShapeMismatchException(int sail, long expected, long actual) {
        super("shape mismatch on card " + sail + ": expected " + expected + " elements, got " + actual);
        this.sail = sail;
        this.expected = expected;
        this.actual = actual;
    }

    public int sail() {
        return sail;
    }

    public long expected() {
        return expected;
    }

    public long actual() {
        return actual;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.SHAPE_MISMATCH;
    }
}
