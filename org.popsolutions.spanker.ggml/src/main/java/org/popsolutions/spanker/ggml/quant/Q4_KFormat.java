package org.popsolutions.spanker.ggml.quant;

import java.nio.ByteBuffer;

/**
 * Q4_K: super-blocks of 256 as {fp16 d, fp16 dmin, scales[12], qs[128]}: eight sub-blocks of 32, each with a
 * 6-bit scale and 6-bit min; x = d·sc·q − dmin·m. Byte l of each 32-byte quarter of qs holds value l of the
 * quarter's first sub-block (low nibble) and of its second (high nibble).
 */
public final class Q4_KFormat implements QuantFormat {
    public static final int BLOCK = 256;
    public static final int BYTES = 144;
    /** Byte offsets in a block: fp16 d, fp16 dmin, 12 bytes of packed 6-bit scales and mins, 128 of nibbles. */
    public static final int D = 0;
    public static final int DMIN = 2;
    public static final int SCALES = 4;
    public static final int QS = 16;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    public void quantize(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        byte[] levels = new byte[BLOCK];
        byte[] scratch = new byte[32];
        float[] weights = new float[32];
        float[] mins = new float[8];
        float[] scales = new float[8];
        float[] theMin = new float[1];
        byte[] packedScales = new byte[12];
        for (int b = 0; b < count / BLOCK; b++) {
            int x = srcOffset + b * BLOCK;
            int out = dstOffset + b * BYTES;
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < 8; j++) {
                float sumX2 = 0;
                for (int l = 0; l < 32; l++) {
                    sumX2 += src[x + 32 * j + l] * src[x + 32 * j + l];
                }
                float avX = (float) Math.sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) {
                    weights[l] = avX + Math.abs(src[x + 32 * j + l]);
                }
                scales[j] = KQuants.makeQkx2Quants(32, 15, src, x + 32 * j, weights, levels, 32 * j, theMin, scratch,
                        -1.f, 0.1f, 20);
                mins[j] = theMin[0];
                if (scales[j] > maxScale) {
                    maxScale = scales[j];
                }
                if (mins[j] > maxMin) {
                    maxMin = mins[j];
                }
            }
            float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
            float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
            java.util.Arrays.fill(packedScales, (byte) 0);
            for (int j = 0; j < 8; j++) {
                int ls = Math.min(63, Rounding.nearestInt(invScale * scales[j]) & 0xff);
                int lm = Math.min(63, Rounding.nearestInt(invMin * mins[j]) & 0xff);
                if (j < 4) {
                    packedScales[j] = (byte) ls;
                    packedScales[j + 4] = (byte) lm;
                } else {
                    packedScales[j + 4] = (byte) ((ls & 0xf) | ((lm & 0xf) << 4));
                    packedScales[j - 4] |= (byte) ((ls >> 4) << 6);
                    packedScales[j] |= (byte) ((lm >> 4) << 6);
                }
            }
            short dBits = Half.fromFloat(maxScale / 63.f);
            short dminBits = Half.fromFloat(maxMin / 63.f);
            float d = Half.toFloat(dBits);
            float dmin = Half.toFloat(dminBits);
            for (int j = 0; j < 8; j++) {
                float subScale = d * scale(packedScales, 0, j);
                if (subScale == 0.0f) {
                    continue;
                }
                float subMin = dmin * min(packedScales, 0, j);
                for (int i = 0; i < 32; i++) {
                    int l = Rounding.nearestInt((src[x + 32 * j + i] + subMin) / subScale);
                    levels[32 * j + i] = (byte) Math.max(0, Math.min(15, l));
                }
            }
            dst.putShort(out, dBits);
            dst.putShort(out + 2, dminBits);
            for (int i = 0; i < 12; i++) {
                dst.put(out + SCALES + i, packedScales[i]);
            }
            for (int quarter = 0; quarter < 4; quarter++) {
                for (int l = 0; l < 32; l++) {
                    int lo = levels[64 * quarter + l];
                    int hi = levels[64 * quarter + 32 + l];
                    dst.put(out + QS + 32 * quarter + l, (byte) (lo | (hi << 4)));
                }
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
            float dmin = Half.toFloat(src.getShort(in + 2));
            for (int quarter = 0; quarter < 4; quarter++) {
                float d1 = d * scale(src, in + SCALES, 2 * quarter);
                float m1 = dmin * min(src, in + SCALES, 2 * quarter);
                float d2 = d * scale(src, in + SCALES, 2 * quarter + 1);
                float m2 = dmin * min(src, in + SCALES, 2 * quarter + 1);
                int q = in + QS + 32 * quarter;
                for (int l = 0; l < 32; l++) {
                    dst[y + 64 * quarter + l] = d1 * (src.get(q + l) & 0xf) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    dst[y + 64 * quarter + 32 + l] = d2 * ((src.get(q + l) & 0xff) >>> 4) - m2;
                }
            }
        }
    }

    /** 6-bit scale of sub-block j from the 12 packed bytes at {@code at} (ggml's get_scale_min_k4). */
    public static int scale(ByteBuffer buf, int at, int j) {
        if (j < 4) {
            return buf.get(at + j) & 63;
        }
        return (buf.get(at + j + 4) & 0xf) | (((buf.get(at + j - 4) & 0xff) >>> 6) << 4);
    }

    /** 6-bit min of sub-block j from the 12 packed bytes at {@code at}. */
    public static int min(ByteBuffer buf, int at, int j) {
        if (j < 4) {
            return buf.get(at + j + 4) & 63;
        }
        return ((buf.get(at + j + 4) & 0xff) >>> 4) | (((buf.get(at + j) & 0xff) >>> 6) << 4);
    }

    static int scale(byte[] packed, int at, int j) {
        return scale(ByteBuffer.wrap(packed), at, j);
    }

    static int min(byte[] packed, int at, int j) {
        return min(ByteBuffer.wrap(packed), at, j);
    }

    @Override
    public int firstNonFinite(ByteBuffer src, int srcOffset, int count) {
        return BlockScales.firstNonFinite(type(), src, srcOffset, count, D, DMIN);
    }
}
