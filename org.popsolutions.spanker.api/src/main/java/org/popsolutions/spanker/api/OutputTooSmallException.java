package org.popsolutions.spanker.api;

/** The output buffer holds fewer bytes than the operation writes. */
public final class OutputTooSmallException extends SpankerException {
    private static final long serialVersionUID = 1L;
    private final long have;
    private final long need;

    public OutputTooSmallException(long have, long need) {
        super("output too small: have " + have + " bytes, need " + need);
        this.have = have;
        this.need = need;
    }

    public long have() {
        return have;
    }

    public long need() {
        return need;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.OUTPUT_TOO_SMALL;
    }
}
