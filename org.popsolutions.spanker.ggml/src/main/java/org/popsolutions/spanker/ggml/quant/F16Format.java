package org.popsolutions.spanker.ggml.quant;

import java.nio.ByteBuffer;

/** IEEE binary16, see {@link Half} for rounding and NaN handling. */
public final class F16Format implements QuantFormat {
    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public void quantize(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count) {
        for (int i = 0; i < count; i++) {
            dst.putShort(dstOffset + 2 * i, Half.fromFloat(src[srcOffset + i]));
        }
    }

    @Override
    public void dequantize(ByteBuffer src, int srcOffset, float[] dst, int dstOffset, int count) {
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = Half.toFloat(src.getShort(srcOffset + 2 * i));
        }
    }

    @Override
    public int firstNonFinite(ByteBuffer src, int srcOffset, int count) {
        for (int i = 0; i < count; i++) {
            if (!Half.isFinite(src.getShort(srcOffset + 2 * i))) {
                return i;
            }
        }
        return -1;
    }
}
