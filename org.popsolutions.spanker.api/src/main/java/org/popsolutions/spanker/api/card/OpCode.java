package org.popsolutions.spanker.api.card;

/** Every op a card may run, each with the fixed number a wire protocol uses for it. */
public enum OpCode {
    EMBEDDING_ROW(1),
    MAT_MUL(2),
    RMS_NORM(3),
    ROPE(4),
    ATTENTION(5),
    SWIGLU(6),
    ADD(7),
    COPY(8),
    SEND(9),
    RECEIVE(10),
    FORWARD(11),
    REDUCE(12),
    TAG_ORIGINS(13),
    DIVIDE(14);

    private final int code;

    OpCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static OpCode fromCode(int code) {
        for (OpCode op : values()) {
            if (op.code == code) {
                return op;
            }
        }
        throw new IllegalArgumentException("no op has code " + code);
    }
}
