package org.popsolutions.spanker.ggml.gguf;

import java.util.Optional;

/** The metadata value types of GGUF, with their on-disk id and fixed width (0 for string and array). */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
    STRING(8, 0), ARRAY(9, 0), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private static final GgufValueType[] BY_ID = values();

    private final int id;
    private final int width;

    GgufValueType(int id, int width) {
        this.id = id;
        this.width = width;
    }

    public int id() {
        return id;
    }

    /** Bytes of one value; 0 for the variable-length string and array. */
    public int width() {
        return width;
    }

    /** The fewest bytes one value can occupy in a file (a string's length field, an array's type and count). */
    int minimumBytes() {
        return this == STRING ? 8 : this == ARRAY ? 12 : width;
    }

    /** One of the eight integer types, signed or unsigned, 8 to 64 bits. */
    public boolean isInteger() {
        return width > 0 && this != FLOAT32 && this != FLOAT64 && this != BOOL;
    }

    public static Optional<GgufValueType> byId(int id) {
        return id >= 0 && id < BY_ID.length ? Optional.of(BY_ID[id]) : Optional.empty();
    }
}
