package org.popsolutions.spanker.ggml.quant;

import java.nio.ByteBuffer;

/**
 * Q4_0: blocks of 32 as {fp16 d, qs[16]}; value j is the low nibble of qs[j], value j+16 the high nibble, and
 * x = (q − 8)·d. The scale is the signed value of largest magnitude over −8 (first one wins on ties).
 */
public final class Q4_0Format implements QuantFormat {
    public static final int BLOCK = 32;
    public static final int BYTES = 18;
    /** Byte offsets in a block: the fp16 scale, then 16 bytes of nibbles. */
    public static final int D = 0;
    public static final int QS = 2;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public void quantize(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        for (int b = 0; b < count / BLOCK; b++) {
            int x = srcOffset + b * BLOCK;
            int out = dstOffset + b * BYTES;
            float amax = 0.0f;
            float max = 0.0f;
            for (int j = 0; j < BLOCK; j++) {
                float v = src[x + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            dst.putShort(out, Half.fromFloat(d));
            for (int j = 0; j < BLOCK / 2; j++) {
                int lo = Math.min(15, Rounding.truncToInt8(src[x + j] * id + 8.5f));
                int hi = Math.min(15, Rounding.truncToInt8(src[x + BLOCK / 2 + j] * id + 8.5f));
                dst.put(out + 2 + j, (byte) ((lo & 0xff) | (hi << 4)));
            }
        }
    }

    @Override
    public void dequantize(ByteBuffer src, int srcOffset, float[] dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        for (int b = 0; b < count / BLOCK; b++) {
            int in = srcOffset + b * BYTES;
            int y = dstOffset + b * BLOCK;
            float d = Half.toFloat(src.getShort(in));
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = src.get(in + 2 + j) & 0xff;
                dst[y + j] = ((q & 0x0f) - 8) * d;
                dst[y + j + BLOCK / 2] = ((q >>> 4) - 8) * d;
            }
        }
    }

    @Override
    public int firstNonFinite(ByteBuffer src, int srcOffset, int count) {
        return BlockScales.firstNonFinite(type(), src, srcOffset, count, D);
    }
}
