package org.popsolutions.spanker.protocol;

import java.util.Objects;

/**
 * One protocol frame. {@code major}/{@code minor} are the sender's protocol version; {@code requestId} pairs a reply
 * with its request (0 for messages nobody asked for, such as LINK_EVENT).
 */
public record Frame(int major, int minor, MessageType type, long requestId, byte[] payload) {
    public Frame {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(payload, "payload");
        if (major < 0 || major > 255 || minor < 0 || minor > 255) {
            throw new IllegalArgumentException("a protocol version is two bytes, got " + major + "." + minor);
        }
        if (requestId < 0 || requestId > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("a request id is an unsigned 32-bit number, got " + requestId);
        }
        if (payload.length > Wire.MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("a payload holds at most " + Wire.MAX_PAYLOAD_BYTES + " bytes, got "
                    + payload.length);
        }
    }

    /** A frame in this implementation's own protocol version. */
    public static Frame of(MessageType type, long requestId, byte[] payload) {
        return new Frame(Wire.MAJOR, Wire.MINOR, type, requestId, payload);
    }

    public String version() {
        return major + "." + minor;
    }
}
