package org.popsolutions.spanker.scheduler.collective;

import org.popsolutions.spanker.api.collective.ReduceOp;

/**
 * Element-wise combination of a received range into a card's own. Sum and Avg add. Max and Min carry, per
 * element, the index of the card the value came from, and pick the larger (smaller) value with ties going
 * to the lower card; a NaN can only have come from card 0 (the other cards' NaNs were set aside at the
 * start, see {@link #prepareOrigins}) and wins. That makes Max/Min independent of the order an algorithm
 * combines in, and equal bit for bit to the original's strict fold from card 0.
 */
final class Combine {
    private Combine() {
    }

    static boolean tracksOrigin(ReduceOp op) {
        return op == ReduceOp.MAX || op == ReduceOp.MIN;
    }

    /**
     * Sets up card {@code card}'s origins and hides its NaNs unless it is card 0: the original's fold keeps a
     * NaN only when card 0 holds it, and skips a later card's NaN (every comparison with it is false).
     */
    static byte[] prepareOrigins(ReduceOp op, int card, float[] values) {
        byte[] origins = new byte[values.length];
        java.util.Arrays.fill(origins, (byte) card);
        if (card != 0) {
            float neutral = op == ReduceOp.MAX ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
            for (int i = 0; i < values.length; i++) {
                if (Float.isNaN(values[i])) {
                    values[i] = neutral;
                    // A hidden NaN loses every tie too, so a real ±∞ from any card keeps its own bits.
                    origins[i] = (byte) 0xFF;
                }
            }
        }
        return origins;
    }

    /** acc[offset + i] ⊕= in[inOffset + i] (and origins likewise) for i in [0, length). */
    static void into(ReduceOp op, float[] acc, byte[] accOrigins, int offset, float[] in, byte[] inOrigins,
            int inOffset, int length) {
        switch (op) {
            case SUM, AVG -> {
                for (int i = 0; i < length; i++) {
                    acc[offset + i] = acc[offset + i] + in[inOffset + i];
                }
            }
            case MAX -> {
                for (int i = 0; i < length; i++) {
                    float a = acc[offset + i];
                    float v = in[inOffset + i];
                    if (!Float.isNaN(a) && (Float.isNaN(v) || v > a
                            || v == a && (inOrigins[inOffset + i] & 0xFF) < (accOrigins[offset + i] & 0xFF))) {
                        acc[offset + i] = v;
                        accOrigins[offset + i] = inOrigins[inOffset + i];
                    }
                }
            }
            case MIN -> {
                for (int i = 0; i < length; i++) {
                    float a = acc[offset + i];
                    float v = in[inOffset + i];
                    if (!Float.isNaN(a) && (Float.isNaN(v) || v < a
                            || v == a && (inOrigins[inOffset + i] & 0xFF) < (accOrigins[offset + i] & 0xFF))) {
                        acc[offset + i] = v;
                        accOrigins[offset + i] = inOrigins[inOffset + i];
                    }
                }
            }
            default -> throw new IllegalArgumentException("unsupported reduce op " + op);
        }
    }
}
