package org.popsolutions.spanker.api;

/** A request names a different number of cards than the topology has. */
public final class TopologyMismatchException extends SpankerException {
    private static final long serialVersionUID = 1L;
    private final int expected;
    private final int actual;

    public TopologyMismatchException(int expected, int actual) {
        super("topology mismatch: expected " + expected + " per-card buffers (one per card), got " + actual);
        this.expected = expected;
        this.actual = actual;
    }

    public int expected() {
        return expected;
    }

    public int actual() {
        return actual;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.TOPOLOGY_MISMATCH;
    }
}
