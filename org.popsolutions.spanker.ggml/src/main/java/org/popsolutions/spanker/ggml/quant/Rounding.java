package org.popsolutions.spanker.ggml.quant;

/** The integer rounding rules ggml's quantizers use; each one named after its C counterpart. */
final class Rounding {
    private Rounding() {
    }

    /**
     * ggml's {@code nearest_int}: adds 1.5·2^23 and reads the low mantissa bits, i.e. round half to even for
     * |x| &lt; 2^22 (ggml asserts that range; outside it the same bit trick gives the same garbage as ggml).
     */
    static int nearestInt(float x) {
        float shifted = x + 12582912.0f;
        return (Float.floatToRawIntBits(shifted) & 0x007fffff) - 0x00400000;
    }

    /** C's {@code roundf}: half away from zero. */
    static float roundAwayFromZero(float x) {
        float t = (float) Math.floor(Math.abs(x)); // floor of a float is exact as a float
        float frac = Math.abs(x) - t;
        float r = frac >= 0.5f ? t + 1.0f : t;
        return Math.copySign(r, x);
    }

    /** C's conversion of a float to {@code int8_t}: truncation, then wrap to 8 bits (what x86 gcc produces). */
    static int truncToInt8(float x) {
        return (byte) (int) x;
    }
}
