package org.popsolutions.spanker.ggml.gguf;

import java.util.Arrays;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * One entry of the tensor table. {@code shape[0]} is the row length (ggml's ne[0]); {@code offset} is relative
 * to the data section.
 */
public record GgufTensorInfo(String name, GgmlType type, long[] shape, long offset, long byteSize) {
    public GgufTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int dimensions() {
        return shape.length;
    }

    public long dimension(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Values per row (ne[0]). */
    public long rowLength() {
        return shape[0];
    }

    /** Number of rows: the product of every dimension after the first. */
    public long rows() {
        return shape[0] == 0 ? 0 : elementCount() / shape[0];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && t.name.equals(name) && t.type == type && Arrays.equals(t.shape, shape)
                && t.offset == offset && t.byteSize == byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape) + " @" + offset + " (" + byteSize + " bytes)";
    }
}
