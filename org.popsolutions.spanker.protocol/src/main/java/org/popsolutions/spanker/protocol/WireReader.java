package org.popsolutions.spanker.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Reads a payload field by field; every read checks what is left first, so no field reads past the payload. */
public final class WireReader {
    /** Longest string any message carries (labels, purposes, messages), in UTF-8 bytes. */
    public static final int MAX_STRING_BYTES = 4096;

    private final ByteBuffer buffer;

    public WireReader(byte[] payload) {
        this.buffer = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
    }

    public int remaining() {
        return buffer.remaining();
    }

    private void need(int bytes, String field) throws MalformedFrameException {
        if (buffer.remaining() < bytes) {
            throw new MalformedFrameException(field + ": needs " + bytes + " bytes, " + buffer.remaining()
                    + " left in the payload");
        }
    }

    public int u8(String field) throws MalformedFrameException {
        need(1, field);
        return buffer.get() & 0xFF;
    }

    public int u16(String field) throws MalformedFrameException {
        need(2, field);
        return buffer.getShort() & 0xFFFF;
    }

    public long u32(String field) throws MalformedFrameException {
        need(4, field);
        return buffer.getInt() & 0xFFFF_FFFFL;
    }

    public int i32(String field) throws MalformedFrameException {
        need(4, field);
        return buffer.getInt();
    }

    /** An unsigned 32-bit value that must lie in [min, max]. */
    public int u32In(String field, long min, long max) throws MalformedFrameException {
        long v = u32(field);
        if (v < min || v > max) {
            throw new MalformedFrameException(field + " " + v + " outside [" + min + ", " + max + "]");
        }
        return (int) v;
    }

    /** A 64-bit value that must lie in [0, max]. */
    public long u64(String field, long max) throws MalformedFrameException {
        need(8, field);
        long v = buffer.getLong();
        if (v < 0 || v > max) {
            throw new MalformedFrameException(field + " " + Long.toUnsignedString(v) + " outside [0, " + max + "]");
        }
        return v;
    }

    /** A signed 64-bit value (a clock reading: any value is one). */
    public long i64(String field) throws MalformedFrameException {
        need(8, field);
        return buffer.getLong();
    }

    public float f32(String field) throws MalformedFrameException {
        need(4, field);
        return buffer.getFloat();
    }

    public boolean bool(String field) throws MalformedFrameException {
        int v = u8(field);
        if (v > 1) {
            throw new MalformedFrameException(field + " is a boolean (0 or 1), got " + v);
        }
        return v == 1;
    }

    public byte[] bytes(int count, String field) throws MalformedFrameException {
        if (count < 0) {
            throw new MalformedFrameException(field + ": negative length " + count);
        }
        need(count, field);
        byte[] out = new byte[count];
        buffer.get(out);
        return out;
    }

    /** The rest of the payload. */
    public byte[] rest() {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    /** A u16 length, then that many bytes of valid UTF-8 (at most {@link #MAX_STRING_BYTES}). */
    public String string(String field) throws MalformedFrameException {
        int length = u16(field + " length");
        if (length > MAX_STRING_BYTES) {
            throw new MalformedFrameException(field + " is " + length + " bytes, longer than " + MAX_STRING_BYTES);
        }
        byte[] raw = bytes(length, field);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedFrameException(field + " is not valid UTF-8");
        }
    }

    /** Requires the payload to be used up: trailing bytes are a malformed message too. */
    public void end(String message) throws MalformedFrameException {
        if (buffer.hasRemaining()) {
            throw new MalformedFrameException(message + ": " + buffer.remaining() + " unexpected trailing bytes");
        }
    }
}
