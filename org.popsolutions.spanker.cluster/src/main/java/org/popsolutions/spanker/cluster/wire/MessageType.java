package org.popsolutions.spanker.cluster.wire;

/** Message types: Linqu's 0 to 7 and this protocol's additions from 8 (docs/cluster-wire.md). */
public enum MessageType {
    HEARTBEAT(0),
    REG_CODE(1),
    REG_DATA(2),
    CALL_TASK(3),
    SCOPE_EXIT(4),
    RETRY_WITH_CODE(5),
    TASK_COMPLETE(6),
    SHUTDOWN(7),
    TENSOR_LOOKUP(8),
    TENSOR_DATA(9),
    TENSOR_FREE(10);

    private final int code;

    MessageType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static MessageType ofCode(int code) {
        for (MessageType type : values()) {
            if (type.code == code) {
                return type;
            }
        }
        throw new WireException("message type " + code + " is unknown (expected 0 to 10)");
    }
}
