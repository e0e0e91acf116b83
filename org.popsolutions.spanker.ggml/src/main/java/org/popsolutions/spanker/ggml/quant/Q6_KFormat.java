package org.popsolutions.spanker.ggml.quant;

import java.nio.ByteBuffer;

/**
 * Q6_K: super-blocks of 256 as {ql[128], qh[64], int8 scales[16], fp16 d}; sixteen sub-blocks of 16 with an
 * 8-bit signed scale each, x = d·sc·(q − 32) with q six bits: four from ql, two from qh. Each 128-value half
 * uses 64 bytes of ql and 32 of qh: value l, l+32, l+64, l+96 of the half share qh[l] (two bits each).
 */
public final class Q6_KFormat implements QuantFormat {
    public static final int BLOCK = 256;
    public static final int BYTES = 210;
    /** Byte offsets in a block: low four bits, high two bits, int8 sub-block scales, the fp16 scale. */
    public static final int QL = 0;
    public static final int QH = 128;
    public static final int SCALES = 192;
    public static final int D = 208;

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public void quantize(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        byte[] levels = new byte[BLOCK];
        float[] scales = new float[16];
        for (int b = 0; b < count / BLOCK; b++) {
            int x = srcOffset + b * BLOCK;
            int out = dstOffset + b * BYTES;
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++) {
                float scale = KQuants.makeQxQuants(16, 32, src, x + 16 * ib, levels, 16 * ib);
                scales[ib] = scale;
                float absScale = Math.abs(scale);
                if (absScale > maxAbsScale) {
                    maxAbsScale = absScale;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < KQuants.GROUP_MAX_EPS) {
                for (int i = 0; i < BYTES; i++) {
                    dst.put(out + i, (byte) 0);
                }
                continue;
            }
            float iscale = -128.f / maxScale;
            short dBits = Half.fromFloat(1 / iscale);
            dst.putShort(out + D, dBits);
            float d = Half.toFloat(dBits);
            for (int ib = 0; ib < 16; ib++) {
                byte sc = (byte) Math.min(127, Rounding.nearestInt(iscale * scales[ib]));
                dst.put(out + SCALES + ib, sc);
                float subScale = d * sc;
                if (subScale == 0.0f) {
                    continue;
                }
                for (int i = 0; i < 16; i++) {
                    int l = Rounding.nearestInt(src[x + 16 * ib + i] / subScale);
                    levels[16 * ib + i] = (byte) (Math.max(-32, Math.min(31, l)) + 32);
                }
            }
            for (int half = 0; half < 2; half++) {
                int ql = out + QL + 64 * half;
                int qh = out + QH + 32 * half;
                int j = 128 * half;
                for (int l = 0; l < 32; l++) {
                    int q1 = levels[j + l] & 0xff;
                    int q2 = levels[j + l + 32] & 0xff;
                    int q3 = levels[j + l + 64] & 0xff;
                    int q4 = levels[j + l + 96] & 0xff;
                    dst.put(ql + l, (byte) ((q1 & 0xf) | ((q3 & 0xf) << 4)));
                    dst.put(ql + l + 32, (byte) ((q2 & 0xf) | ((q4 & 0xf) << 4)));
                    dst.put(qh + l, (byte) ((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)));
                }
            }
        }
    }

    @Override
    public void dequantize(ByteBuffer src, int srcOffset, float[] dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        for (int b = 0; b < count / BLOCK; b++) {
            int in = srcOffset + b * BYTES;
            float d = Half.toFloat(src.getShort(in + D));
            for (int half = 0; half < 2; half++) {
                int y = dstOffset + b * BLOCK + 128 * half;
                int ql = in + QL + 64 * half;
                int qh = in + QH + 32 * half;
                int sc = in + SCALES + 8 * half;
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int h = src.get(qh + l) & 0xff;
                    int lo = src.get(ql + l) & 0xff;
                    int hi = src.get(ql + l + 32) & 0xff;
                    int q1 = ((lo & 0xf) | ((h & 3) << 4)) - 32;
                    int q2 = ((hi & 0xf) | (((h >> 2) & 3) << 4)) - 32;
                    int q3 = ((lo >> 4) | (((h >> 4) & 3) << 4)) - 32;
                    int q4 = ((hi >> 4) | (((h >> 6) & 3) << 4)) - 32;
                    dst[y + l] = d * src.get(sc + is) * q1;
                    dst[y + l + 32] = d * src.get(sc + is + 2) * q2;
                    dst[y + l + 64] = d * src.get(sc + is + 4) * q3;
                    dst[y + l + 96] = d * src.get(sc + is + 6) * q4;
                }
            }
        }
    }

    /** Six-bit level (0..63) of value {@code i} (0..255) of the block at {@code in}. */
    public static int level(ByteBuffer src, int in, int i) {
        int half = i >> 7;
        int r = i & 127;
        int l = r & 31;
        int group = r >> 5; // 0..3: which of l, l+32, l+64, l+96
        int qlByte = src.get(in + QL + 64 * half + l + ((group & 1) << 5)) & 0xff;
        int low = group < 2 ? qlByte & 0xf : qlByte >> 4;
        int high = ((src.get(in + QH + 32 * half + l) & 0xff) >> (2 * group)) & 3;
        return low | (high << 4);
    }

    @Override
    public int firstNonFinite(ByteBuffer src, int srcOffset, int count) {
        return BlockScales.firstNonFinite(type(), src, srcOffset, count, D);
    }
}
