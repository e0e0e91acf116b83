package org.popsolutions.spanker.ggml.quant;

import java.nio.ByteBuffer;

/**
 * One ggml tensor format: rows of float32 to blocks and back. Buffers are addressed absolutely (position and
 * limit are ignored) and must be little-endian; counts are whole blocks.
 */
public interface QuantFormat {
    GgmlType type();

    /** Encodes {@code count} floats of {@code src} from {@code srcOffset} into {@code dst} at byte {@code dstOffset}. */
    void quantize(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count);

    /** Decodes {@code count} values stored at byte {@code srcOffset} of {@code src}. */
    void dequantize(ByteBuffer src, int srcOffset, float[] dst, int dstOffset, int count);

    /**
     * Index of the first of {@code count} values at byte {@code srcOffset} that {@link #dequantize} decodes as NaN or
     * infinite, or -1 when all are finite. This decodes block by block; formats whose values are finite exactly when
     * their block scales are answer from the scales.
     */
    default int firstNonFinite(ByteBuffer src, int srcOffset, int count) {
        GgmlType t = type();
        checkBlocks(t, count);
        float[] block = new float[t.blockSize()];
        for (int b = 0; b < count / t.blockSize(); b++) {
            dequantize(src, srcOffset + b * t.typeSize(), block, 0, block.length);
            for (int j = 0; j < block.length; j++) {
                if (!Float.isFinite(block[j])) {
                    return b * t.blockSize() + j;
                }
            }
        }
        return -1;
    }

    default byte[] quantize(float[] src) {
        GgmlType t = type();
        checkBlocks(t, src.length);
        byte[] out = new byte[Math.toIntExact(t.bytesFor(src.length))];
        quantize(src, 0, ByteBuffer.wrap(out).order(java.nio.ByteOrder.LITTLE_ENDIAN), 0, src.length);
        return out;
    }

    default float[] dequantize(byte[] src) {
        GgmlType t = type();
        if (src.length % t.typeSize() != 0) {
            throw new IllegalArgumentException(t + " data must be a whole number of " + t.typeSize()
                    + "-byte blocks, got " + src.length + " bytes");
        }
        float[] out = new float[src.length / t.typeSize() * t.blockSize()];
        dequantize(ByteBuffer.wrap(src).order(java.nio.ByteOrder.LITTLE_ENDIAN), 0, out, 0, out.length);
        return out;
    }

    static void checkBlocks(GgmlType type, int count) {
        if (count % type.blockSize() != 0) {
            throw new IllegalArgumentException(type + " needs a multiple of " + type.blockSize() + " values, got " + count);
        }
    }
}
