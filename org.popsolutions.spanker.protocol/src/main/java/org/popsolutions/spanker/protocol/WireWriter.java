package org.popsolutions.spanker.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds a little-endian payload. */
public final class WireWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public WireWriter u8(int v) {
        out.write(v);
        return this;
    }

    public WireWriter u16(int v) {
        out.write(v);
        out.write(v >>> 8);
        return this;
    }

    public WireWriter i32(int v) {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
        return this;
    }

    public WireWriter u32(long v) {
        return i32((int) v);
    }

    public WireWriter u64(long v) {
        i32((int) v);
        return i32((int) (v >>> 32));
    }

    public WireWriter f32(float v) {
        return i32(Float.floatToRawIntBits(v));
    }

    public WireWriter bool(boolean v) {
        return u8(v ? 1 : 0);
    }

    public WireWriter bytes(byte[] v) {
        out.write(v, 0, v.length);
        return this;
    }

    public WireWriter bytes(byte[] v, int offset, int length) {
        out.write(v, offset, length);
        return this;
    }

    /** u16 length and UTF-8 bytes; a longer string is cut to {@link WireReader#MAX_STRING_BYTES} on a character. */
    public WireWriter string(String v) {
        byte[] raw = v.getBytes(StandardCharsets.UTF_8);
        int length = raw.length;
        if (length > WireReader.MAX_STRING_BYTES) {
            length = WireReader.MAX_STRING_BYTES;
            while (length > 0 && (raw[length] & 0xC0) == 0x80) {
                length--; // never cut inside a UTF-8 sequence
            }
        }
        u16(length);
        out.write(raw, 0, length);
        return this;
    }

    public byte[] toBytes() {
        return out.toByteArray();
    }
}
