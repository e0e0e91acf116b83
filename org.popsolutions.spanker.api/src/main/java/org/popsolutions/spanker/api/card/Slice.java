package org.popsolutions.spanker.api.card;

/**
 * A byte range of a card buffer: {@code bytes} bytes from byte {@code offset} of the buffer whose handle is
 * {@code buffer}. Ops name their operands with slices; float32 operands hold {@code bytes / 4} values.
 * {@link #NONE} (handle 0) stands for an operand that is absent, e.g. the origin tags of an untagged reduce.
 */
public record Slice(long buffer, long offset, long bytes) {
    /** No operand. */
    public static final Slice NONE = new Slice(0, 0, 0);

    public Slice {
        if (buffer < 0 || offset < 0 || bytes < 0) {
            throw new IllegalArgumentException("a slice has a handle, offset and length >= 0, got buffer " + buffer
                    + " offset " + offset + " bytes " + bytes);
        }
        if (buffer == 0 && (offset != 0 || bytes != 0)) {
            throw new IllegalArgumentException("the absent slice (buffer 0) has no range");
        }
    }

    /** The whole of a buffer. */
    public static Slice of(CardBuffer buffer) {
        return new Slice(buffer.handle(), 0, buffer.bytes());
    }

    /** {@code count} float32 values from value {@code first} of a buffer. */
    public static Slice floats(CardBuffer buffer, long first, long count) {
        return new Slice(buffer.handle(), first * Float.BYTES, count * Float.BYTES);
    }

    public boolean isNone() {
        return buffer == 0;
    }

    /** Float32 values in the range. */
    public long floats() {
        return bytes / Float.BYTES;
    }

    /** {@code length} bytes from byte {@code from} of this slice. */
    public Slice sub(long from, long length) {
        if (from < 0 || length < 0 || from + length > bytes) {
            throw new IllegalArgumentException("bytes [" + from + ", " + (from + length) + ") are outside this slice of "
                    + bytes + " bytes");
        }
        return new Slice(buffer, offset + from, length);
    }
}
