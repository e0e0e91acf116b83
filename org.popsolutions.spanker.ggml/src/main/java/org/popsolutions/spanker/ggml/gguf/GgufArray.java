package org.popsolutions.spanker.ggml.gguf;

import java.lang.reflect.Array;

/**
 * A metadata array: {@code values} is a primitive array of the element type's width (byte[], short[], int[],
 * long[] holding the raw bits of signed and unsigned types alike; float[], double[], boolean[]), a String[], or a
 * GgufArray[] for nested arrays.
 */
public record GgufArray(GgufValueType elementType, Object values) {
    public int size() {
        return Array.getLength(values);
    }

    public String[] strings() {
        return (String[]) values;
    }

    public float[] floats() {
        return (float[]) values;
    }

    public int[] ints() {
        return (int[]) values;
    }

    /** Element i widened to a long, unsigned types read as unsigned. */
    public long longAt(int i) {
        return switch (elementType) {
            case UINT8 -> ((byte[]) values)[i] & 0xffL;
            case INT8 -> ((byte[]) values)[i];
            case UINT16 -> ((short[]) values)[i] & 0xffffL;
            case INT16 -> ((short[]) values)[i];
            case UINT32 -> ((int[]) values)[i] & 0xffffffffL;
            case INT32 -> ((int[]) values)[i];
            case UINT64, INT64 -> ((long[]) values)[i];
            case BOOL -> ((boolean[]) values)[i] ? 1 : 0;
            default -> throw new IllegalStateException(elementType + " array has no integer elements");
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufArray a && a.elementType == elementType
                && java.util.Objects.deepEquals(new Object[] {values}, new Object[] {a.values});
    }

    @Override
    public int hashCode() {
        return elementType.hashCode() * 31 + java.util.Arrays.deepHashCode(new Object[] {values});
    }

    @Override
    public String toString() {
        return "array<" + elementType.name().toLowerCase(java.util.Locale.ROOT) + ">[" + size() + "]";
    }
}
