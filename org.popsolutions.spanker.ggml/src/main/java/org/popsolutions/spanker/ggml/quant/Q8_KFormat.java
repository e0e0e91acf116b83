package org.popsolutions.spanker.ggml.quant;

import java.nio.ByteBuffer;

/**
 * Q8_K, ggml's activation format for k-quant dot products: blocks of 256 as {f32 d, int8 qs[256], int16
 * bsums[16]} where bsums are sums of 16 consecutive qs. max = the signed value of largest magnitude (first
 * wins), iscale = −127/max, q = min(127, round-half-even(iscale·x)), d = 1/iscale. An all-zero block gets
 * d = 0 and zero qs and bsums.
 */
public final class Q8_KFormat implements QuantFormat {
    public static final int BLOCK = 256;
    public static final int BYTES = 292;
    /** Byte offsets in a block: the f32 scale, 256 int8 values, sixteen int16 sums of 16 values each. */
    public static final int D = 0;
    public static final int QS = 4;
    public static final int BSUMS = 260;

    @Override
    public GgmlType type() {
        return GgmlType.Q8_K;
    }

    @Override
    public void quantize(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        for (int b = 0; b < count / BLOCK; b++) {
            int x = srcOffset + b * BLOCK;
            int out = dstOffset + b * BYTES;
            float max = 0;
            float amax = 0;
            for (int j = 0; j < BLOCK; j++) {
                float ax = Math.abs(src[x + j]);
                if (ax > amax) {
                    amax = ax;
                    max = src[x + j];
                }
            }
            if (amax == 0.0f) {
                for (int i = 0; i < BYTES; i++) {
                    dst.put(out + i, (byte) 0);
                }
                continue;
            }
            float iscale = -127.f / max;
            for (int j = 0; j < BLOCK; j++) {
                dst.put(out + QS + j, (byte) Math.min(127, Rounding.nearestInt(iscale * src[x + j])));
            }
            for (int j = 0; j < 16; j++) {
                int sum = 0;
                for (int i = 0; i < 16; i++) {
                    sum += dst.get(out + QS + 16 * j + i);
                }
                dst.putShort(out + BSUMS + 2 * j, (short) sum);
            }
            dst.putFloat(out, 1 / iscale);
        }
    }

    @Override
    public void dequantize(ByteBuffer src, int srcOffset, float[] dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        for (int b = 0; b < count / BLOCK; b++) {
            int in = srcOffset + b * BYTES;
            float d = src.getFloat(in);
            for (int j = 0; j < BLOCK; j++) {
                dst[dstOffset + b * BLOCK + j] = d * src.get(in + QS + j);
            }
        }
    }
}
