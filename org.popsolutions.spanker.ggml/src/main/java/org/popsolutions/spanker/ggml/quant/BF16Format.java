package org.popsolutions.spanker.ggml.quant;

import java.nio.ByteBuffer;

/** bfloat16, see {@link BFloat16} for rounding and NaN handling. */
public final class BF16Format implements QuantFormat {
    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public void quantize(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count) {
        for (int i = 0; i < count; i++) {
            dst.putShort(dstOffset + 2 * i, BFloat16.fromFloat(src[srcOffset + i]));
        }
    }

    @Override
    public void dequantize(ByteBuffer src, int srcOffset, float[] dst, int dstOffset, int count) {
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = BFloat16.toFloat(src.getShort(srcOffset + 2 * i));
        }
    }

    @Override
    public int firstNonFinite(ByteBuffer src, int srcOffset, int count) {
        for (int i = 0; i < count; i++) {
            if ((src.getShort(srcOffset + 2 * i) & 0x7f80) == 0x7f80) {
                return i;
            }
        }
        return -1;
    }
}
