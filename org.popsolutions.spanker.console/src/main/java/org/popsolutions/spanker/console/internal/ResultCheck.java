package org.popsolutions.spanker.console.internal;

import java.util.Arrays;
import java.util.List;

/**
 * nccl-tests' {@code #wrong}: the elements of a collective's result that differ from the reference collective's
 * (the original's exact semantics) by more than reordering a sum of {@code cards} float32 terms can explain.
 */
final class ResultCheck {
    private ResultCheck() {
    }

    /**
     * Elements out of bounds over every card's result; a card whose result has the wrong length counts whole. A value
     * equal to the reference's bit for bit (an infinity too, or a NaN where the reference has one) is in bounds; the
     * equal stretches are skipped by a vectorized comparison, so a result that is the reference's costs one pass.
     */
    static long wrong(List<float[]> expected, List<float[]> actual, int cards) {
        long wrong = 0;
        // each of the cards-1 additions may round differently in another order: half an ulp each, relative
        double tolerance = Math.max(1, cards) * 0x1p-23;
        for (int c = 0; c < expected.size(); c++) {
            float[] want = expected.get(c);
            float[] got = c < actual.size() ? actual.get(c) : new float[0];
            if (got.length != want.length) {
                wrong += Math.max(got.length, want.length);
                continue;
            }
            int i = 0;
            while (i < want.length) {
                int differs = Arrays.mismatch(want, i, want.length, got, i, got.length);
                if (differs < 0) {
                    break;
                }
                i += differs;
                if (outOfBounds(want[i], got[i], tolerance)) {
                    wrong++;
                }
                i++;
            }
        }
        return wrong;
    }

    /**
     * Whether {@code got} is further from {@code want} than {@code tolerance}, relative (absolute below 1); an infinity
     * is in bounds only as itself (relative to it, any other value would be).
     */
    static boolean outOfBounds(float want, float got, double tolerance) {
        double e = want;
        double a = got;
        if (Double.isNaN(e) || Double.isInfinite(e)) {
            return Double.compare(a, e) != 0;
        }
        return !(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)));
    }
}
