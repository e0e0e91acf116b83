package org.popsolutions.spanker.api.strategy;

/**
 * One matmul tile: an (m × k) weight operand times a (k × n) operand giving m × n, with elements of
 * {@code bytesPerElement} bytes. Every field is an unsigned 64-bit quantity ({@link Long#toUnsignedString}),
 * as in the original, so cost arithmetic must saturate rather than overflow.
 */
public record TileShape(long m, long n, long k, long bytesPerElement) {

    /** m·k·bpe, saturating at the unsigned 64-bit maximum. */
    public long weightBytes() {
        return saturatingMultiply(saturatingMultiply(m, k), bytesPerElement);
    }

    /** m·n·bpe, saturating at the unsigned 64-bit maximum. */
    public long activationBytes() {
        return saturatingMultiply(saturatingMultiply(m, n), bytesPerElement);
    }

    /** Unsigned 64-bit product, clamped to 2^64 − 1 (which reads as −1 when signed). */
    public static long saturatingMultiply(long a, long b) {
        // Math.unsignedMultiplyHigh arrives only in Java 18; derive it from the signed high word.
        long high = Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
        return high != 0 ? -1L : a * b;
    }

    /** The value of an unsigned 64-bit quantity as a double, rounded to nearest (for cost arithmetic). */
    public static double unsignedToDouble(long value) {
        if (value >= 0) {
            return value;
        }
        // Halve, keeping the low bit sticky so rounding stays correct, then double.
        return ((value >>> 1) | (value & 1)) * 2.0;
    }

    @Override
    public String toString() {
        return "TileShape[m=" + Long.toUnsignedString(m) + ", n=" + Long.toUnsignedString(n) + ", k="
                + Long.toUnsignedString(k) + ", bpe=" + Long.toUnsignedString(bytesPerElement) + "]";
    }
}
