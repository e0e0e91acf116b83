package org.popsolutions.spanker.ggml.quant;

import java.nio.ByteBuffer;

/** Plain little-endian float32. */
public final class F32Format implements QuantFormat {
    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public void quantize(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count) {
        for (int i = 0; i < count; i++) {
            dst.putFloat(dstOffset + 4 * i, src[srcOffset + i]);
        }
    }

    @Override
    public void dequantize(ByteBuffer src, int srcOffset, float[] dst, int dstOffset, int count) {
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = src.getFloat(srcOffset + 4 * i);
        }
    }

    @Override
    public int firstNonFinite(ByteBuffer src, int srcOffset, int count) {
        for (int i = 0; i < count; i++) {
            if (!Float.isFinite(src.getFloat(srcOffset + 4 * i))) {
                return i;
            }
        }
        return -1;
    }
}
