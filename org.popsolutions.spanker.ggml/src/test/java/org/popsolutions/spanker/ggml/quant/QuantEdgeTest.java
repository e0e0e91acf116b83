package org.popsolutions.spanker.ggml.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Edge cases of the reference quantizers. NaN/Inf behaviour (documented here because ggml does not define it):
 * a NaN or infinite input poisons its block's scale (Q4_0/Q4_1/Q8_0/Q8_1/K-quants compute the scale from the
 * block's extremes, so the block decodes to NaN/Inf or zeros) and never throws; levels of a NaN input become 0
 * (the Java float-to-int conversion; ggml's C conversion is undefined there). F16/BF16 keep NaN (as a quiet NaN)
 * and infinities.
 */
class QuantEdgeTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q8_0", "Q8_1", "Q4_K", "Q6_K",
            "Q8_K"})
    void zerosStayZeros(GgmlType type) {
        QuantFormat f = QuantFormats.of(type);
        float[] zeros = new float[512];
        float[] back = f.dequantize(f.quantize(zeros));
        for (float v : back) {
            assertEquals(0.0f, Math.abs(v), type.name());
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16", "Q4_0", "Q4_1", "Q8_0", "Q8_1", "Q4_K", "Q6_K", "Q8_K"})
    void roundTripErrorIsBoundedByTheFormatsStep(GgmlType type) {
        QuantFormat f = QuantFormats.of(type);
        SplittableRandom random = new SplittableRandom(type.id());
        float[] x = new float[1024];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextDouble(-1, 1) * (1 + (i / 256)));
        }
        float[] back = f.dequantize(f.quantize(x));
        double bound = switch (type) {
            case F16 -> 4e-3;
            case BF16 -> 3e-2;
            case Q8_0, Q8_1, Q8_K -> 4 * 0.5 / 127 * 1.01;
            case Q6_K -> 4 * 0.08;
            default -> 4 * 0.2;
        };
        for (int i = 0; i < x.length; i++) {
            assertTrue(Math.abs(x[i] - back[i]) <= bound, type + " value " + i + ": " + x[i] + " -> " + back[i]);
        }
    }

    @Test
    void q4_0UsesTheSignedExtremeFirstOneWinsOnTies() {
        float[] x = new float[32];
        x[3] = -4f;
        x[7] = 4f; // same magnitude later: ignored, so d = -4/-8 = 0.5
        byte[] q = new Q4_0Format().quantize(x);
        assertEquals(0.5f, Half.toFloat((short) ((q[0] & 0xff) | (q[1] << 8))));
        float[] back = new Q4_0Format().dequantize(q);
        assertEquals(-4f, back[3]);
        assertEquals(3.5f, back[7]); // +4 is q=16, clamped to 15: (15-8)*0.5
    }

    @Test
    void q8_0ReferenceRoundsHalfAwayButCpuRoundsHalfEven() {
        float[] x = new float[32];
        x[0] = 127f; // d = 1, id = 1
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 3.5f;
        byte[] ref = new Q8_0Format().quantize(x);
        assertEquals(3, ref[2 + 1]);
        assertEquals(-3, ref[2 + 2]);
        assertEquals(4, ref[2 + 3]);
        byte[] cpu = new byte[34];
        new Q8_0Format().quantizeActivations(x, 0, GoldenQuantTest.le(cpu), 0, 32);
        assertEquals(2, cpu[2 + 1]);
        assertEquals(-2, cpu[2 + 2]);
        assertEquals(4, cpu[2 + 3]);
    }

    @Test
    void q8_KRoundsHalfEvenAndClampsAt127() {
        float[] x = new float[256];
        x[0] = -127f; // max is -127, iscale = 1
        x[1] = 2.5f;
        x[2] = 3.5f;
        x[3] = 127f;
        byte[] q = new Q8_KFormat().quantize(x);
        assertEquals(-127, q[4]);
        assertEquals(2, q[5]);
        assertEquals(4, q[6]);
        assertEquals(127, q[7]);
        assertEquals((short) (-127 + 2 + 4 + 127), (short) ((q[260] & 0xff) | (q[261] << 8)));
    }

    @Test
    void subnormalHalfScalesDecodeExactly() {
        float[] x = new float[32];
        Arrays.fill(x, 1e-4f); // d = 1e-4/127 is a binary16 subnormal
        byte[] q = new Q8_0Format().quantize(x);
        float d = Half.toFloat((short) ((q[0] & 0xff) | (q[1] << 8)));
        assertTrue(d > 0 && d < 0x1p-14f, "subnormal scale " + d);
        float[] back = new Q8_0Format().dequantize(q);
        assertEquals(127 * d, back[0]);
        Arrays.fill(x, 1e-9f); // scale underflows binary16 to zero: the block decodes to zeros
        assertEquals(0f, new Q8_0Format().dequantize(new Q8_0Format().quantize(x))[5]);
    }

    @Test
    void hugeValuesOverflowTheHalfScaleToInfinity() {
        float[] x = new float[32];
        Arrays.fill(x, 1e7f); // d = 1e7/127 > 65504
        float[] back = new Q8_0Format().dequantize(new Q8_0Format().quantize(x));
        assertEquals(Float.POSITIVE_INFINITY, back[0]);
        Arrays.fill(x, 60000f); // d fits: the block survives within one step
        back = new Q8_0Format().dequantize(new Q8_0Format().quantize(x));
        assertEquals(60000f, back[0], 60000f / 127);
    }

    @Test
    void nanInputsNeverThrow() {
        float[] x = Golden.xorshift(3, 256);
        x[10] = Float.NaN;
        x[100] = Float.POSITIVE_INFINITY;
        for (GgmlType t : new GgmlType[] {GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0,
                GgmlType.Q8_1, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q8_K}) {
            QuantFormat f = QuantFormats.of(t);
            assertEquals(256, f.dequantize(f.quantize(x)).length, t.name());
        }
        assertTrue(Float.isNaN(new F16Format().dequantize(new F16Format().quantize(x))[10]));
        assertEquals(Float.POSITIVE_INFINITY, new BF16Format().dequantize(new BF16Format().quantize(x))[100]);
    }

    @Test
    void partialBlocksAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Q4_0Format().quantize(new float[31]));
        assertThrows(IllegalArgumentException.class, () -> new Q4_KFormat().dequantize(new byte[143]));
    }

    @Test
    void typeTableMatchesGgml() {
        assertEquals(18, GgmlType.Q4_0.typeSize());
        assertEquals(GgmlType.Q6_K, GgmlType.byId(14).orElseThrow());
        assertEquals("q4_K", GgmlType.Q4_K.ggmlName());
        assertEquals(-1, GgmlType.Q4_K.bytesFor(255));
        assertEquals(-1, GgmlType.F32.bytesFor(Long.MAX_VALUE));
        assertArrayEquals(new byte[] {0, 0x3c}, new F16Format().quantize(new float[] {1f}));
    }

    /**
     * The activation quantizer gives the bytes of {@code (byte) (int) Math.rint(x·(127/amax))} (ggml's AVX2 round,
     * half to even) on every kind of block: random values, exact halves of the scale (ties), the extremes, zeros,
     * subnormals, ±∞, and a NaN that makes the max fold forget the block's larger values (values up to 10^6 times the
     * kept maximum: past the 2^22 below which a float rounding by adding 1.5·2^23 would give the same bytes; it failed
     * here when tried without a range check).
     */
    @Test
    void activationBytesAreThoseOfMathRintOnEveryKindOfBlock() {
        SplittableRandom random = new SplittableRandom(12);
        Q8_0Format f = new Q8_0Format();
        for (int trial = 0; trial < 4000; trial++) {
            float[] x = new float[32];
            int kind = trial % 8;
            float scale = (float) Math.pow(10, random.nextInt(-40, 39));
            for (int j = 0; j < 32; j++) {
                x[j] = switch (kind) {
                    case 0 -> (float) random.nextGaussian() * scale;
                    // multiples of amax/254 around amax = 127: x·id lands on or near .5
                    case 1 -> (random.nextInt(-254, 255) + (random.nextBoolean() ? 0f : 1e-3f)) / 2f;
                    case 2 -> j % 3 == 0 ? Float.MIN_VALUE * random.nextInt(1, 1000) : 0f;
                    case 3 -> j == 5 ? Float.POSITIVE_INFINITY : (float) random.nextGaussian();
                    case 4 -> j == 7 ? Float.NEGATIVE_INFINITY : j == 9 ? Float.NaN : (float) random.nextGaussian();
                    // a NaN before the last value: the fold ends at the last value, the larger ones are forgotten
                    case 5 -> j == 30 ? Float.NaN : j == 31 ? 1e-3f : (float) random.nextGaussian() * 1e3f * (1 + j);
                    case 6 -> j == 31 ? Float.NaN : (float) random.nextGaussian();
                    default -> random.nextBoolean() ? Float.MAX_VALUE : -Float.MAX_VALUE;
                };
            }
            byte[] got = new byte[34];
            f.quantizeActivations(x, 0, GoldenQuantTest.le(got), 0, 32);
            float amax = 0;
            for (float v : x) {
                float a = Math.abs(v);
                amax = amax > a ? amax : a;
            }
            float id = amax != 0 ? 127f / amax : 0f;
            for (int j = 0; j < 32; j++) {
                assertEquals((byte) (int) Math.rint(x[j] * id), got[2 + j], "trial " + trial + " value " + j + ": "
                        + x[j] + " x " + id);
            }
        }
    }
}
