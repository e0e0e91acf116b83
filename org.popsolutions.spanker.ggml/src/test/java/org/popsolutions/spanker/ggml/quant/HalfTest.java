package org.popsolutions.spanker.ggml.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Method;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfTest {
    @Test
    void everyHalfRoundTrips() {
        for (int h = 0; h < 0x10000; h++) {
            if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) {
                continue; // NaNs are canonicalised, see nanBecomesQuietNaNWithSign
            }
            assertEquals(h, Half.fromFloat(Half.toFloat((short) h)) & 0xffff, "half 0x" + Integer.toHexString(h));
        }
    }

    /** Midpoints between neighbours go to the even one, anything past them to the nearer one; subnormals included. */
    @Test
    void roundsToNearestEvenBetweenEveryPairOfNeighbours() {
        for (int h = 0; h < 0x7bff; h++) {
            float lo = Half.toFloat((short) h);
            float hi = Half.toFloat((short) (h + 1));
            float mid = (float) (((double) lo + hi) / 2); // exact: both have at most 11 significant bits
            int even = (h & 1) == 0 ? h : h + 1;
            assertEquals(even, Half.fromFloat(mid), "tie above 0x" + Integer.toHexString(h));
            assertEquals(h, Half.fromFloat(Math.nextDown(mid)));
            assertEquals(h + 1, Half.fromFloat(Math.nextUp(mid)));
            assertEquals(even | 0x8000, Half.fromFloat(-mid) & 0xffff);
        }
    }

    @Test
    void overflowUnderflowInfinityAndNaN() {
        assertEquals(0x7bff, Half.fromFloat(65504f));
        assertEquals(0x7bff, Half.fromFloat(Math.nextDown(65520f)));
        assertEquals(0x7c00, Half.fromFloat(65520f)); // the tie rounds to even, which is infinity
        assertEquals(0x7c00, Half.fromFloat(1e30f));
        assertEquals(0xfc00, Half.fromFloat(Float.NEGATIVE_INFINITY) & 0xffff);
        assertEquals(0x0000, Half.fromFloat(0x1p-25f)); // half of the smallest subnormal ties to zero
        assertEquals(0x0001, Half.fromFloat(Math.nextUp(0x1p-25f)));
        assertEquals(0x8000, Half.fromFloat(-1e-30f) & 0xffff);
        assertEquals(0x0000, Half.fromFloat(Float.MIN_VALUE));
        assertEquals(Float.POSITIVE_INFINITY, Half.toFloat((short) 0x7c00));
        assertEquals(0x1p-24f, Half.toFloat((short) 1));
    }

    @Test
    void nanBecomesQuietNaNWithSign() {
        assertEquals(0x7e00, Half.fromFloat(Float.NaN));
        assertEquals(0xfe00, Half.fromFloat(Float.intBitsToFloat(0xff800001)) & 0xffff);
        assertEquals(true, Float.isNaN(Half.toFloat((short) 0x7e00)));
    }

    /** On Java 20+ the JDK has its own binary16 encoder: compare on random bit patterns (skipped silently on 17). */
    @Test
    void agreesWithTheJdkWhereItHasOne() throws Exception {
        Method jdk;
        try {
            jdk = Float.class.getMethod("floatToFloat16", float.class);
        } catch (NoSuchMethodException e) {
            return; // Java 17: the exhaustive neighbour test above is the proof
        }
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 1_000_000; i++) {
            float f = Float.intBitsToFloat(random.nextInt());
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals((short) jdk.invoke(null, f), Half.fromFloat(f), "float " + f);
        }
    }

    @Test
    void bfloat16RoundsToNearestEvenAndQuietsNaN() {
        assertEquals(0x3f80, BFloat16.fromFloat(Float.intBitsToFloat(0x3f808000)));
        assertEquals(0x3f82, BFloat16.fromFloat(Float.intBitsToFloat(0x3f818000)));
        assertEquals(0x3f81, BFloat16.fromFloat(Float.intBitsToFloat(0x3f808001)));
        assertEquals(0x0001, BFloat16.fromFloat(Float.intBitsToFloat(0x00010000))); // subnormals are kept
        assertEquals(0x7f80, BFloat16.fromFloat(Float.POSITIVE_INFINITY));
        assertEquals(0x7f80, BFloat16.fromFloat(Float.MAX_VALUE)); // rounds up to infinity
        assertEquals(0x7fc1, BFloat16.fromFloat(Float.intBitsToFloat(0x7f810000)) & 0xffff);
        assertEquals(Float.intBitsToFloat(0x12340000), BFloat16.toFloat((short) 0x1234));
    }
}
