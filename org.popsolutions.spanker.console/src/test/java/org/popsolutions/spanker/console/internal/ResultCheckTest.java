package org.popsolutions.spanker.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** bench-collective's #wrong: what counts as out of bounds against the reference collective. */
class ResultCheckTest {
    @Test
    void valuesEqualBitForBitAreInBoundsAndEachValueBeyondTheReorderingToleranceCounts() {
        int cards = 4;
        float[] want = new float[10_000];
        for (int i = 0; i < want.length; i++) {
            want[i] = (i % 7 - 3) * 1.37f * (1 << (i % 12));
        }
        want[5] = Float.POSITIVE_INFINITY;
        want[6] = Float.NEGATIVE_INFINITY;
        want[7] = Float.NaN;
        float[] got = want.clone();
        assertEquals(0, ResultCheck.wrong(List.of(want), List.of(got), cards), "the reference itself");
        // within (cards)·2⁻²³ relative: a sum of 4 terms in another order
        got[100] = Math.nextUp(want[100]);
        got[200] = Math.nextDown(want[200]);
        assertEquals(0, ResultCheck.wrong(List.of(want), List.of(got), cards), "an ulp off");
        // out of bounds: far off, a NaN where a number belongs, a number where a NaN belongs, an infinity lost or
        // turned
        got[1000] = want[1000] * 1.001f + 1;
        got[2000] = Float.NaN;
        got[7] = 0;
        got[5] = Float.MAX_VALUE;
        got[6] = Float.POSITIVE_INFINITY;
        got[9_999] = want[9_999] + 8;
        assertEquals(6, ResultCheck.wrong(List.of(want), List.of(got), cards));
    }

    @Test
    void aResultOfTheWrongLengthOrMissingCountsWhole() {
        float[] want = {1, 2, 3};
        assertEquals(3, ResultCheck.wrong(List.of(want), List.of(new float[] {1, 2}), 2));
        assertEquals(3, ResultCheck.wrong(List.of(want, want), List.of(want), 2), "card 1 gave nothing");
        assertEquals(0, ResultCheck.wrong(List.of(want, want), List.of(want, want.clone()), 2));
    }
}
