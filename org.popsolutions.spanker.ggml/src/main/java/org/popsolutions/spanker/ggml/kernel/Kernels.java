package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * Row dot products of one weight row (little-endian blocks in a buffer, usually a memory mapping) with a
 * {@link PreparedActivation}. Every implementation gives bit-identical results: the sum is defined with eight
 * float lanes (element i goes to lane i mod 8; block integer sums are exact), lanes added in order at the end.
 */
public interface Kernels {
    int LANES = 8;

    String name();

    /** Σ w·a over the activation's length; {@code weightsOffset} is the row's first byte in {@code weights}. */
    float dot(ByteBuffer weights, int weightsOffset, PreparedActivation activation);

    /** The weight types with a dot product. */
    static boolean supports(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q4_K, Q6_K -> true;
            default -> false;
        };
    }

    static void checkRow(GgmlType type, int length) {
        if (!supports(type)) {
            throw new IllegalArgumentException("no dot product for weight type " + type);
        }
        if (length < 0 || length % type.blockSize() != 0) {
            throw new IllegalArgumentException(type + " rows need a multiple of " + type.blockSize()
                    + " values, got " + length);
        }
    }

    /** The fastest implementation this runtime has: the Vector API one when jdk.incubator.vector is there. */
    static Kernels best() {
        return KernelSelector.BEST;
    }

    static Kernels scalar() {
        return KernelSelector.SCALAR;
    }
}
