package org.popsolutions.spanker.ggml.quant;

/**
 * IEEE binary16 conversions as ggml does them: encoding rounds to nearest, ties to even (subnormals included,
 * overflow to infinity); every NaN encodes as the quiet NaN {@code 0x7E00} with the input's sign, like ggml's
 * portable {@code ggml_compute_fp32_to_fp16}. Decoding is exact.
 */
public final class Half {
    private static final float[] DECODED = new float[1 << 16];

    static {
        for (int h = 0; h < DECODED.length; h++) {
            DECODED[h] = decode((short) h);
        }
    }

    private Half() {
    }

    public static float toFloat(short h) {
        return DECODED[h & 0xffff];
    }

    /** Whether {@code h} is neither infinite nor NaN (its exponent bits are not all ones). */
    public static boolean isFinite(short h) {
        return (h & 0x7c00) != 0x7c00;
    }

    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs > 0x7f800000) {
            return (short) (sign | 0x7e00);
        }
        if (abs >= 0x477ff000) { // at or above 65520 (halfway past 65504): infinity, as RNE gives
            return (short) (sign | 0x7c00);
        }
        if (abs >= 0x38800000) { // normal half: rebias the exponent, round the 13 dropped bits
            int rebased = abs - 0x38000000;
            return (short) (sign | ((rebased + 0xfff + ((rebased >>> 13) & 1)) >>> 13));
        }
        int exponent = abs >>> 23;
        int shift = 126 - exponent; // value / 2^-24 = mantissa / 2^shift
        if (shift > 24) {
            return (short) sign;
        }
        int mantissa = (abs & 0x7fffff) | 0x800000;
        int quotient = mantissa >>> shift;
        int remainder = mantissa & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (remainder > half || (remainder == half && (quotient & 1) != 0)) {
            quotient++;
        }
        return (short) (sign | quotient);
    }

    private static float decode(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f; // exact: at most 10 significant bits
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
