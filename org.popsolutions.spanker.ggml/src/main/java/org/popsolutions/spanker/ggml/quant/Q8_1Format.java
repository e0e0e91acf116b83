package org.popsolutions.spanker.ggml.quant;

import java.nio.ByteBuffer;

/**
 * Q8_1: blocks of 32 as {fp16 d, fp16 s, int8 qs[32]} where s = d·Σq. ggml quantizes activations to it for Q4_1
 * weights, so the dot product can add the weight block's minimum times the activation sum.
 */
public final class Q8_1Format implements QuantFormat {
    public static final int BLOCK = 32;
    public static final int BYTES = 36;
    /** Byte offsets in a block: the fp16 scale d, the fp16 s = d·Σq, then 32 int8 values. */
    public static final int D = 0;
    public static final int S = 2;
    public static final int QS = 4;

    @Override
    public GgmlType type() {
        return GgmlType.Q8_1;
    }

    /** ggml's reference rule: d = amax/127, q = roundf(x·(1/d)), s = fp16(Σq · d). */
    @Override
    public void quantize(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        for (int b = 0; b < count / BLOCK; b++) {
            int x = srcOffset + b * BLOCK;
            int out = dstOffset + b * BYTES;
            float amax = Q8_0Format.absMax(src, x);
            float d = amax / 127;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            int sum = 0;
            for (int j = 0; j < BLOCK; j++) {
                byte q = (byte) (int) Rounding.roundAwayFromZero(src[x + j] * id);
                dst.put(out + 4 + j, q);
                sum += q;
            }
            dst.putShort(out, Half.fromFloat(d));
            dst.putShort(out + 2, Half.fromFloat(sum * d));
        }
    }

    /** ggml's x86 CPU activation rule: q = round-half-even(x·(127/amax)), s = fp16(d·Σq). */
    public void quantizeActivations(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        for (int b = 0; b < count / BLOCK; b++) {
            int x = srcOffset + b * BLOCK;
            int out = dstOffset + b * BYTES;
            float amax = Q8_0Format.absMax(src, x);
            float d = amax / 127.f;
            float id = amax != 0.0f ? 127.f / amax : 0.0f;
            int sum = 0;
            for (int j = 0; j < BLOCK; j++) {
                byte q = (byte) (int) Math.rint(src[x + j] * id);
                dst.put(out + 4 + j, q);
                sum += q;
            }
            dst.putShort(out, Half.fromFloat(d));
            dst.putShort(out + 2, Half.fromFloat(d * sum));
        }
    }

    @Override
    public void dequantize(ByteBuffer src, int srcOffset, float[] dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        for (int b = 0; b < count / BLOCK; b++) {
            int in = srcOffset + b * BYTES;
            int y = dstOffset + b * BLOCK;
            float d = Half.toFloat(src.getShort(in));
            for (int j = 0; j < BLOCK; j++) {
                dst[y + j] = src.get(in + 4 + j) * d;
            }
        }
    }

    @Override
    public int firstNonFinite(ByteBuffer src, int srcOffset, int count) {
        return BlockScales.firstNonFinite(type(), src, srcOffset, count, D);
    }
}
