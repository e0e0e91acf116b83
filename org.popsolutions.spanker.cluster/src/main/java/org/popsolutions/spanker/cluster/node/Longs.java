package org.popsolutions.spanker.cluster.node;

import java.nio.ByteBuffer;

/** Tensors of 64-bit integers, big-endian like the rest of the wire. */
public final class Longs {
    private Longs() {
    }

    public static byte[] toBytes(long[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 8);
        for (long value : values) {
            buffer.putLong(value);
        }
        return buffer.array();
    }

    public static long[] fromBytes(byte[] bytes) {
        if (bytes.length % 8 != 0) {
            throw new IllegalArgumentException("a tensor of 64-bit integers cannot be " + bytes.length + " bytes");
        }
        long[] values = new long[bytes.length / 8];
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        for (int i = 0; i < values.length; i++) {
            values[i] = buffer.getLong();
        }
        return values;
    }
}
