package org.popsolutions.spanker.ggml.quant;

import java.nio.ByteBuffer;

/**
 * Q4_1: blocks of 32 as {fp16 d, fp16 m, qs[16]} with x = q·d + m, same nibble order as Q4_0; d = (max − min)/15
 * and m = min, over the block.
 */
public final class Q4_1Format implements QuantFormat {
    public static final int BLOCK = 32;
    public static final int BYTES = 20;
    /** Byte offsets in a block: the fp16 scale, the fp16 minimum, 16 bytes of nibbles. */
    public static final int D = 0;
    public static final int M = 2;
    public static final int QS = 4;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_1;
    }

    @Override
    public void quantize(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        for (int b = 0; b < count / BLOCK; b++) {
            int x = srcOffset + b * BLOCK;
            int out = dstOffset + b * BYTES;
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < BLOCK; j++) {
                float v = src[x + j];
                if (v < min) {
                    min = v;
                }
                if (v > max) {
                    max = v;
                }
            }
            float d = (max - min) / 15;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            dst.putShort(out, Half.fromFloat(d));
            dst.putShort(out + 2, Half.fromFloat(min));
            for (int j = 0; j < BLOCK / 2; j++) {
                int lo = Math.min(15, Rounding.truncToInt8((src[x + j] - min) * id + 0.5f));
                int hi = Math.min(15, Rounding.truncToInt8((src[x + BLOCK / 2 + j] - min) * id + 0.5f));
                dst.put(out + 4 + j, (byte) ((lo & 0xff) | (hi << 4)));
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
            float m = Half.toFloat(src.getShort(in + 2));
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = src.get(in + 4 + j) & 0xff;
                dst[y + j] = (q & 0x0f) * d + m;
                dst[y + j + BLOCK / 2] = (q >>> 4) * d + m;
            }
        }
    }

    @Override
    public int firstNonFinite(ByteBuffer src, int srcOffset, int count) {
        return BlockScales.firstNonFinite(type(), src, srcOffset, count, D, M);
    }
}
