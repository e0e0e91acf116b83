package org.popsolutions.spanker.protocol;

/** The kind carried by an ERROR message, with its fixed code (docs/protocol.md, "ERROR"). */
public enum WireError {
    MALFORMED(1),
    VERSION_MISMATCH(2),
    AUTH_FAILED(3),
    NOT_AUTHENTICATED(4),
    OUT_OF_MEMORY(5),
    BAD_HANDLE(6),
    BAD_RANGE(7),
    OP_FAILED(8),
    LINK(9),
    UNSUPPORTED(10),
    INTERNAL(11);

    private final int code;

    WireError(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The kind with this code; an unknown code (a newer card) reads as INTERNAL. */
    public static WireError fromCode(int code) {
        for (WireError e : values()) {
            if (e.code == code) {
                return e;
            }
        }
        return INTERNAL;
    }
}
