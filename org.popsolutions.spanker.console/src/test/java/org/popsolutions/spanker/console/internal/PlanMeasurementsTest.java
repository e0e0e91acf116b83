package org.popsolutions.spanker.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * plan --measure warms a plan up until its tokens stop getting faster: the first plan of a table ran while the
 * emulators' code was still compiled and measured 1.11x its prediction, the same layout right after it 1.00x.
 */
class PlanMeasurementsTest {
    @Test
    void warmUpGoesOnWhileTokensGetFasterAndStopsOnceTheyDoNot() {
        long[] compiling = {900, 600, 400, 300, 250, 200};
        for (int count = 2; count <= compiling.length; count++) {
            assertFalse(PlanMeasurements.WarmUp.settled(compiling, count), "still faster at token " + count);
        }
        assertTrue(PlanMeasurements.WarmUp.settled(new long[] {900, 300, 298}, 3), "within 5 % of the one before");
        assertTrue(PlanMeasurements.WarmUp.settled(new long[] {900, 300, 330}, 3), "slower: no longer warming up");
        assertFalse(PlanMeasurements.WarmUp.settled(new long[] {900}, 1), "one token says nothing");
        assertEquals(14, PlanMeasurements.WarmUp.limit(2), "bounded: 12 tokens past the minimum");
    }
}
