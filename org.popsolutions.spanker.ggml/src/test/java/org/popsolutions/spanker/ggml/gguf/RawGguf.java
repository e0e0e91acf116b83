package org.popsolutions.spanker.ggml.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Hand-assembles GGUF bytes field by field, so tests can write what no honest writer would. */
final class RawGguf {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static RawGguf header(int version, long tensors, long kvs) {
        return new RawGguf().i32(GgufReader.MAGIC).i32(version).i64(tensors).i64(kvs);
    }

    RawGguf i8(int v) {
        out.write(v);
        return this;
    }

    RawGguf i32(int v) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
        return this;
    }

    RawGguf i64(long v) {
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        return this;
    }

    RawGguf str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        i64(b.length);
        out.writeBytes(b);
        return this;
    }

    /** A key with a uint32 value. */
    RawGguf kvU32(String key, int value) {
        return str(key).i32(GgufValueType.UINT32.id()).i32(value);
    }

    /** A tensor info: name, dims, shape, type, offset. */
    RawGguf tensor(String name, int type, long offset, long... shape) {
        str(name).i32(shape.length);
        for (long d : shape) {
            i64(d);
        }
        return i32(type).i64(offset);
    }

    RawGguf padTo(int alignment) {
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        return this;
    }

    RawGguf zeros(int n) {
        out.writeBytes(new byte[n]);
        return this;
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
