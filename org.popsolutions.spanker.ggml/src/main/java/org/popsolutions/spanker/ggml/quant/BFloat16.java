package org.popsolutions.spanker.ggml.quant;

/**
 * bfloat16 (the top half of a float32) as ggml converts it: round to nearest, ties to even, subnormals kept;
 * a NaN keeps its top bits and is forced quiet (bit 6 of the result set).
 */
public final class BFloat16 {
    private BFloat16() {
    }

    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 64);
        }
        return (short) ((bits + (0x7fff + ((bits >>> 16) & 1))) >>> 16);
    }

    public static float toFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }
}
