package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Weights on the Java heap. The vector kernels read a heap buffer's backing array in place; a direct or memory
 * mapped buffer costs them a copy of every row (the Vector API's only load common to Java 17 and 25 is from
 * arrays). Copying a model's matrices once at load time therefore makes every later matrix-vector product faster.
 */
public final class HeapWeights {
    private HeapWeights() {
    }

    /**
     * The buffer itself when it is already a little-endian heap buffer, else a little-endian heap copy of its
     * whole capacity (at most 2 GiB, Java's array limit).
     */
    public static ByteBuffer copyOf(ByteBuffer weights) {
        if (weights.hasArray() && weights.order() == ByteOrder.LITTLE_ENDIAN) {
            return weights;
        }
        byte[] copy = new byte[weights.capacity()];
        weights.get(0, copy);
        return ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN);
    }
}
