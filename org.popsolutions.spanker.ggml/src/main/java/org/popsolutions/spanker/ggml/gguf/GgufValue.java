package org.popsolutions.spanker.ggml.gguf;

import org.popsolutions.spanker.api.InvalidModelException;

/**
 * One metadata value and its declared type. Integers are held as the Java type of their width (Byte, Short,
 * Integer, Long) with raw bits, so unsigned values round-trip; {@link #asLong()} reads them as unsigned.
 */
public record GgufValue(GgufValueType type, Object value) {
    public static GgufValue u32(long v) {
        return new GgufValue(GgufValueType.UINT32, (int) v);
    }

    public static GgufValue i32(int v) {
        return new GgufValue(GgufValueType.INT32, v);
    }

    public static GgufValue u64(long v) {
        return new GgufValue(GgufValueType.UINT64, v);
    }

    public static GgufValue f32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, v);
    }

    public static GgufValue string(String v) {
        return new GgufValue(GgufValueType.STRING, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, v);
    }

    public static GgufValue array(GgufValueType elementType, Object values) {
        return new GgufValue(GgufValueType.ARRAY, new GgufArray(elementType, values));
    }

    public boolean isInteger() {
        return type.isInteger();
    }

    /** An integer value widened to long (unsigned types as unsigned; a UINT64 above 2^63 comes back negative). */
    public long asLong() {
        return switch (type) {
            case UINT8 -> (Byte) value & 0xffL;
            case INT8 -> (Byte) value;
            case UINT16 -> (Short) value & 0xffffL;
            case INT16 -> (Short) value;
            case UINT32 -> (Integer) value & 0xffffffffL;
            case INT32 -> (Integer) value;
            case UINT64, INT64 -> (Long) value;
            case BOOL -> (Boolean) value ? 1 : 0;
            default -> throw new InvalidModelException("expected an integer, found a " + type + " value");
        };
    }

    public double asDouble() {
        return switch (type) {
            case FLOAT32 -> (Float) value;
            case FLOAT64 -> (Double) value;
            default -> asLong();
        };
    }

    public String asString() {
        if (type != GgufValueType.STRING) {
            throw new InvalidModelException("expected a string, found a " + type + " value");
        }
        return (String) value;
    }

    public GgufArray asArray() {
        if (type != GgufValueType.ARRAY) {
            throw new InvalidModelException("expected an array, found a " + type + " value");
        }
        return (GgufArray) value;
    }

    @Override
    public String toString() {
        return switch (type) {
            case UINT8, UINT16, UINT32 -> Long.toString(asLong());
            case UINT64 -> Long.toUnsignedString((Long) value);
            case STRING -> '"' + (String) value + '"';
            default -> String.valueOf(value);
        };
    }
}
