package org.popsolutions.spanker.protocol;

/** Every message of the host-link protocol with its fixed type code (docs/protocol.md, "Messages"). */
public enum MessageType {
    HELLO(0x01),
    HELLO_REPLY(0x02),
    AUTH(0x03),
    AUTH_OK(0x04),
    ALLOC(0x10),
    ALLOC_REPLY(0x11),
    FREE(0x12),
    WRITE(0x13),
    READ(0x14),
    READ_REPLY(0x15),
    MEMORY(0x16),
    MEMORY_REPLY(0x17),
    SUBMIT(0x20),
    COMPLETE(0x21),
    PROGRAM_EPOCH(0x22),
    LINK_STATUS(0x30),
    LINK_STATUS_REPLY(0x31),
    LINK_ENABLE(0x32),
    LINK_EVENT(0x33),
    LINK_CABLE(0x34),
    TELEMETRY(0x38),
    TELEMETRY_REPLY(0x39),
    RESET(0x40),
    SHUTDOWN(0x41),
    OK(0x7E),
    ERROR(0x7F);

    private static final MessageType[] BY_CODE = new MessageType[256];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    MessageType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The type with this code, or null when no message has it. */
    public static MessageType fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
