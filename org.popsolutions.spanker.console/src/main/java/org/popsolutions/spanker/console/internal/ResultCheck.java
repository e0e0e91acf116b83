package org.popsolutions.spanker.console.internal;

import java.util.List;

/**
 * nccl-tests' {@code #wrong}: the elements of a collective's result that differ from the reference collective's
 * (the original's exact semantics) by more than reordering a sum of {@code cards} float32 terms can explain.
 */
final class ResultCheck {
    private ResultCheck() {
    }

    /** Elements out of bounds over every card's result; a card whose result has the wrong length counts whole. */
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
            for (int i = 0; i < want.length; i++) {
                double e = want[i];
                double a = got[i];
                if (Double.isNaN(e) ? !Double.isNaN(a) : !(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)))) {
                    wrong++;
                }
            }
        }
        return wrong;
    }
}
