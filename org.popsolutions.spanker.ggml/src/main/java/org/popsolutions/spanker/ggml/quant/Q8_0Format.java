package org.popsolutions.spanker.ggml.quant;

import java.nio.ByteBuffer;

/**
 * Q8_0: blocks of 32 as {fp16 d, int8 qs[32]}, x = q·d. Two encoders, as in ggml: the reference one
 * ({@link #quantize}: d = amax/127, q = roundf(x·(1/d)), half away from zero) that writes model files, and the
 * one ggml's x86 CPU backend uses for activations ({@link #quantizeActivations}: q = round-half-even(x·(127/amax))).
 */
public final class Q8_0Format implements QuantFormat {
    public static final int BLOCK = 32;
    public static final int BYTES = 34;
    /** Byte offsets in a block: the fp16 scale, then 32 int8 values. */
    public static final int D = 0;
    public static final int QS = 2;

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public void quantize(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        for (int b = 0; b < count / BLOCK; b++) {
            int x = srcOffset + b * BLOCK;
            int out = dstOffset + b * BYTES;
            float amax = absMax(src, x);
            float d = amax / 127;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            dst.putShort(out, Half.fromFloat(d));
            for (int j = 0; j < BLOCK; j++) {
                dst.put(out + 2 + j, (byte) (int) Rounding.roundAwayFromZero(src[x + j] * id));
            }
        }
    }

    /** ggml's x86 CPU activation quantizer (AVX2 path), the one its dot products see. */
    public void quantizeActivations(float[] src, int srcOffset, ByteBuffer dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        for (int b = 0; b < count / BLOCK; b++) {
            quantizeActivationBlock(src, srcOffset + b * BLOCK, dst, dstOffset + b * BYTES);
        }
    }

    /**
     * One block of {@link #quantizeActivations}, a method of its own: the JIT counts a method's calls before it
     * compiles it with its optimizing compiler, and a prompt calls this one per block (tens of thousands of times a
     * pass) where it calls the whole-vector loop per vector; on Java 25 the whole-vector loop still ran in C1's
     * profiling code for part of the first prompt, calling {@code StrictMath.rint} per value ({@code Math.rint} is an
     * intrinsic of C2 only). A float rounding by adding and subtracting 1.5·2^23 (the same bytes where |x·id| &lt; 2^22)
     * was tried: faster in C1, a third slower than C2's intrinsic once compiled.
     */
    private static void quantizeActivationBlock(float[] src, int x, ByteBuffer dst, int out) {
        float amax = absMax(src, x);
        float d = amax / 127.f;
        float id = amax != 0.0f ? 127.f / amax : 0.0f;
        dst.putShort(out, Half.fromFloat(d));
        for (int j = 0; j < BLOCK; j++) {
            dst.put(out + 2 + j, (byte) (int) Math.rint(src[x + j] * id));
        }
    }

    /** C's {@code MAX(amax, fabsf(v))} fold; a NaN is forgotten unless it is the last value, as in ggml. */
    static float absMax(float[] src, int from) {
        float amax = 0.0f;
        for (int j = 0; j < BLOCK; j++) {
            float a = Math.abs(src[from + j]);
            amax = amax > a ? amax : a;
        }
        return amax;
    }

    @Override
    public void dequantize(ByteBuffer src, int srcOffset, float[] dst, int dstOffset, int count) {
        QuantFormat.checkBlocks(type(), count);
        for (int b = 0; b < count / BLOCK; b++) {
            int in = srcOffset + b * BYTES;
            int y = dstOffset + b * BLOCK;
            float d = Half.toFloat(src.getShort(in));
            for (int j = 0; j < BLOCK; j++) {
                dst[y + j] = src.get(in + 2 + j) * d;
            }
        }
    }

    @Override
    public int firstNonFinite(ByteBuffer src, int srcOffset, int count) {
        return BlockScales.firstNonFinite(type(), src, srcOffset, count, D);
    }
}
