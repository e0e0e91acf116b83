package org.popsolutions.spanker.ggml.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.Combine;

/** The ops' arithmetic, where every card computes it: each rule against its definition. */
class CardOpsTest {
    /** SPEC §4: MAX/MIN fold from card 0 with {@code b > acc} (resp. {@code <}): card 0's NaN wins, later NaNs are skipped, a tie keeps the earlier card's value. */
    private static float specFold(Combine op, float[] column) {
        float acc = column[0];
        for (int c = 1; c < column.length; c++) {
            float b = column[c];
            acc = (op == Combine.MAX ? b > acc : b < acc) ? b : acc;
        }
        return acc;
    }

    /** The tagged fold the cards run, with the cards' values combined in the order given (any order). */
    private static float taggedFold(Combine op, float[] column, int[] order) {
        float[][] values = new float[column.length][1];
        byte[][] tags = new byte[column.length][1];
        for (int c = 0; c < column.length; c++) {
            values[c][0] = column[c];
            CardOps.tagOrigins(op, values[c], 0, tags[c], 0, 1, c);
        }
        float[] acc = values[order[0]].clone();
        byte[] accTags = tags[order[0]].clone();
        for (int i = 1; i < order.length; i++) {
            CardOps.combine(op, acc, 0, accTags, 0, values[order[i]], 0, tags[order[i]], 0, 1);
        }
        return acc[0];
    }

    @Test
    void taggedMaxAndMinGiveSpecFoldsResultInAnyOrder() {
        float nan = Float.NaN;
        float[][] columns = {{nan, 1, 2, 3}, {1, nan, 5, 2}, {-0f, 0f, -1, -2}, {0f, -0f, 0f, -0f},
            {Float.NEGATIVE_INFINITY, nan, nan, nan}, {-5, -0f, 0f, nan}, {Float.POSITIVE_INFINITY, nan, Float.POSITIVE_INFINITY, 1}};
        int[][] orders = {{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}};
        for (Combine op : new Combine[] {Combine.MAX, Combine.MIN}) {
            for (float[] column : columns) {
                int expected = Float.floatToRawIntBits(specFold(op, column));
                for (int[] order : orders) {
                    assertEquals(expected, Float.floatToRawIntBits(taggedFold(op, column, order)),
                            op + " of " + java.util.Arrays.toString(column) + " in order "
                                    + java.util.Arrays.toString(order));
                }
            }
        }
    }

    @Test
    void rmsNormIsXOverRootMeanSquareTimesWeight() {
        float[] x = {1, -2, 3, 0.5f};
        float[] w = {1, 2, 0.5f, -1};
        float[] out = new float[4];
        CardOps.rmsNorm(x, 0, w, 0, out, 0, 4, 1e-5f);
        double ms = (1 + 4 + 9 + 0.25) / 4;
        for (int i = 0; i < 4; i++) {
            assertEquals(x[i] / Math.sqrt(ms + 1e-5) * w[i], out[i], 1e-6, "value " + i);
        }
    }

    @Test
    void ropeRotatesEachPairByItsAngleAndPositionZeroIsTheIdentity() {
        float[] cos = new float[2];
        float[] sin = new float[2];
        float[] v = {1, 2, 3, 4, 5, 6, 7, 8};
        CardOps.ropeAngles(0, 10000f, 4, cos, sin);
        float[] same = v.clone();
        CardOps.rope(same, 0, 2, 4, cos, sin);
        assertArrayEquals(v, same);
        CardOps.ropeAngles(3, 10000f, 4, cos, sin);
        CardOps.rope(v, 0, 2, 4, cos, sin);
        double theta1 = 3 * Math.pow(10000, -2.0 / 4);
        assertEquals(3 * Math.cos(theta1) - 4 * Math.sin(theta1), v[2], 1e-5);
        assertEquals(1 * Math.cos(3) - 2 * Math.sin(3), v[0], 1e-5);
    }

    /**
     * A thread's angles kept from its last call are {@link CardOps#ropeAngles}' own, bit for bit, whatever changes
     * between calls (position, base, head dimension, pair count, more pairs than before) and on another thread.
     */
    @Test
    void ropeAnglesKeptFromTheThreadsLastCallAreTheAnglesOfThisCall() throws InterruptedException {
        int[][] calls = {{7, 64, 32}, {7, 64, 32}, {8, 64, 32}, {8, 64, 32}, {8, 128, 32}, {8, 128, 64}, {8, 64, 2},
                {8, 64, 32}, {0, 64, 32}, {8, 64, 32}};
        float[] bases = {10000f, 10000f, 10000f, 500000f, 500000f, 500000f, 500000f, 10000f, 10000f, 10000f};
        for (int c = 0; c < calls.length; c++) {
            int[] call = calls[c];
            float[] cos = new float[call[2]];
            float[] sin = new float[call[2]];
            float[] cosKept = new float[call[2]];
            float[] sinKept = new float[call[2]];
            CardOps.ropeAngles(call[0], bases[c], call[1], cos, sin);
            CardOps.ropeAnglesOfThread(call[0], bases[c], call[1], cosKept, sinKept);
            assertArrayEquals(cos, cosKept, "call " + c);
            assertArrayEquals(sin, sinKept, "call " + c);
        }
        // this thread last asked for position 8: another thread's first call at position 9 is its own
        float[][] other = new float[2][32];
        Thread t = new Thread(() -> CardOps.ropeAnglesOfThread(9, 10000f, 64, other[0], other[1]));
        t.start();
        t.join();
        float[] cos = new float[32];
        float[] sin = new float[32];
        CardOps.ropeAngles(9, 10000f, 64, cos, sin);
        assertArrayEquals(cos, other[0]);
        assertArrayEquals(sin, other[1]);
    }

    @Test
    void attentionWeighsTheValuesBySoftmaxOfScaledScores() {
        // one head, d = 2, two cache rows
        float[] q = {1, 0};
        FloatBuffer keys = FloatBuffer.wrap(new float[] {1, 0, 0, 1});
        FloatBuffer values = FloatBuffer.wrap(new float[] {10, 0, 0, 10});
        float[] out = new float[2];
        float scale = (float) (1 / Math.sqrt(2));
        CardOps.attentionHead(q, 0, keys, values, 2, 0, 2, 1, scale, new float[2], 0, out, 0);
        double e0 = Math.exp(scale);
        double p0 = e0 / (e0 + 1);
        assertEquals(10 * p0, out[0], 1e-5);
        assertEquals(10 * (1 - p0), out[1], 1e-5);
    }

    /** Attention's definition, the plain loops: each score a sum over i in order, the values added in position order. */
    private static void plainAttentionHead(float[] q, int qAt, float[] keys, float[] values, int kvWidth, int kvAt,
            int d, int position, float scale, float[] out, int outAt) {
        float[] scores = new float[position + 1];
        for (int t = 0; t <= position; t++) {
            float s = 0;
            for (int i = 0; i < d; i++) {
                s += q[qAt + i] * keys[t * kvWidth + kvAt + i];
            }
            scores[t] = s * scale;
        }
        CardOps.softmax(scores, 0, position + 1);
        for (int t = 0; t <= position; t++) {
            for (int i = 0; i < d; i++) {
                out[outAt + i] += scores[t] * values[t * kvWidth + kvAt + i];
            }
        }
    }

    /**
     * The query heads that share a kv head, attended together (their cache rows read once), give each head the plain
     * loops' values bit for bit: random data, kv heads at an offset in wider cache rows, every position from 0 on.
     */
    @Test
    void groupedHeadsGiveThePlainLoopsBitForBit() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(12);
        int d = 64;
        int kvHeads = 3;
        int group = 4;
        int kvWidth = kvHeads * d;
        int capacity = 77;
        float[] keys = new float[capacity * kvWidth];
        float[] values = new float[capacity * kvWidth];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (float) random.nextGaussian();
            values[i] = (float) (random.nextGaussian() * 3);
        }
        float scale = (float) (1 / Math.sqrt(d));
        for (int position = 0; position < capacity; position += 1 + position / 8) {
            float[] q = new float[kvHeads * group * d + 5];
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) random.nextGaussian();
            }
            float[] expected = new float[q.length];
            float[] grouped = new float[q.length];
            float[] scores = new float[kvHeads * group * capacity];
            for (int kv = 0; kv < kvHeads; kv++) {
                for (int j = 0; j < group; j++) {
                    int head = kv * group + j;
                    plainAttentionHead(q, 5 + head * d, keys, values, kvWidth, kv * d, d, position, scale, expected,
                            5 + head * d);
                }
                CardOps.attentionHeads(q, 5 + kv * group * d, group, FloatBuffer.wrap(keys), FloatBuffer.wrap(values),
                        kvWidth, kv * d, d, position, scale, scores, kv * group * capacity, capacity, grouped,
                        5 + kv * group * d);
            }
            for (int i = 0; i < q.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(grouped[i]),
                        "position " + position + ", value " + i + ": plain " + expected[i] + ", grouped " + grouped[i]);
            }
        }
    }

    /**
     * The lanes this runtime attends with (the Vector API's where readable, else the plain loops) give the plain
     * loops' scores and weighted values bit for bit, for every count of positions around the lane widths.
     */
    @Test
    void attentionLanesGiveThePlainLoopsBitForBit() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        AttentionLanes plain = new AttentionLanes.Plain();
        for (int d : new int[] {64, 40, 3}) {
            for (int rows = 1; rows <= 70; rows++) {
                // keys transposed with room for more positions than are scored (a prompt pass's rows copied once)
                int stride = rows + rows % 3;
                float[] q = new float[d + 2];
                float[] keys = new float[d * stride + 1];
                float[] values = new float[rows * d + 1];
                float[] w = new float[rows + 4];
                for (float[] a : new float[][] {q, keys, values, w}) {
                    for (int i = 0; i < a.length; i++) {
                        a[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-3, 4)));
                    }
                }
                float[] expected = new float[rows + 3];
                float[] lanes = new float[rows + 3];
                plain.scores(q, 2, keys, 1, rows, stride, d, 0.125f, expected, 3);
                AttentionLanes.BEST.scores(q, 2, keys, 1, rows, stride, d, 0.125f, lanes, 3);
                float[] outExpected = new float[d + 1];
                float[] outLanes = new float[d + 1];
                java.util.Arrays.fill(outExpected, 0.5f);
                java.util.Arrays.fill(outLanes, 0.5f);
                plain.addWeighted(w, 4, rows, values, 1, d, outExpected, 1);
                AttentionLanes.BEST.addWeighted(w, 4, rows, values, 1, d, outLanes, 1);
                String what = AttentionLanes.BEST.getClass().getSimpleName() + ", d " + d + ", " + rows + " positions";
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(lanes[i]), what + ", score " + i);
                }
                for (int i = 0; i < outExpected.length; i++) {
                    assertEquals(Float.floatToIntBits(outExpected[i]), Float.floatToIntBits(outLanes[i]),
                            what + ", value " + i);
                }
            }
        }
    }

    /**
     * SwiGLU's e^x: within 2 ulp of the exact value over the range silu reads (|x| up to 88), and the vector lanes give
     * the plain loop's values bit for bit for every length around the lane width, ±∞, NaN, the range's ends and zeros.
     */
    @Test
    void swiGluLanesGiveThePlainLoopBitForBitAndExpIsWithinTwoUlp() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(9);
        for (int i = 0; i < 200_000; i++) {
            float x = (float) (random.nextDouble(-87, 88));
            float e = AttentionLanes.Plain.exp(x);
            double exact = Math.exp(x);
            assertTrue(Math.abs(e - exact) <= 2 * Math.ulp((float) exact), x + ": " + e + " against " + exact);
        }
        assertEquals(Float.POSITIVE_INFINITY, AttentionLanes.Plain.exp(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, AttentionLanes.Plain.exp(89f));
        assertTrue(Float.isNaN(AttentionLanes.Plain.exp(Float.NaN)));
        assertTrue(AttentionLanes.Plain.exp(Float.NEGATIVE_INFINITY) < 1.2e-38f);
        float[] special = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 0f, -0f, 88.37626f, 88.37627f,
            -88.37626f, -88.37627f, 87.33654f, -87.33654f, -87.4f, 87.4f, 100f, -100f, Float.MAX_VALUE, -Float.MAX_VALUE,
            Float.MIN_VALUE, 1e-30f};
        AttentionLanes plain = new AttentionLanes.Plain();
        for (int length = 1; length <= 40; length++) {
            float[] gate = new float[length + 3];
            float[] up = new float[length + 3];
            for (int i = 0; i < gate.length; i++) {
                gate[i] = random.nextInt(4) == 0 ? special[random.nextInt(special.length)]
                        : (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-2, 3)));
                up[i] = (float) random.nextGaussian();
            }
            float[] expected = new float[length + 2];
            float[] lanes = new float[length + 2];
            plain.swiGlu(gate, 3, up, 1, expected, 2, length);
            AttentionLanes.BEST.swiGlu(gate, 3, up, 1, lanes, 2, length);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(lanes[i]),
                        AttentionLanes.BEST.getClass().getSimpleName() + ", length " + length + ", value " + i
                                + " (gate " + (i >= 2 ? gate[i + 1] : 0) + ")");
            }
        }
    }

    /**
     * Softmax's max and e^(x − max) in the vector lanes give the plain loops' values bit for bit for every length
     * around the lane width, with ±∞, NaN and zeros among the scores; and the softmax is within a few ulp of the
     * definition's with {@code Math.exp} (the sum in double) on scores as attention makes them.
     */
    @Test
    void softmaxLanesGiveThePlainLoopsBitForBitAndStayNearMathExp() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(21);
        float[] special = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 0f, -0f, 88.4f, -88.4f,
            -87.4f, 100f, -100f};
        AttentionLanes plain = new AttentionLanes.Plain();
        for (int n = 0; n <= 40; n++) {
            for (int round = 0; round < 20; round++) {
                float[] x = new float[n + 3];
                for (int i = 0; i < x.length; i++) {
                    x[i] = round % 4 == 0 && random.nextInt(6) == 0 ? special[random.nextInt(special.length)]
                            : (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-2, 3)));
                }
                String what = AttentionLanes.BEST.getClass().getSimpleName() + ", " + n + " values, round " + round;
                float max = plain.max(x, 2, n);
                assertEquals(Float.floatToIntBits(max), Float.floatToIntBits(AttentionLanes.BEST.max(x, 2, n)), what);
                float[] expected = x.clone();
                float[] lanes = x.clone();
                plain.expMinus(expected, 2, n, max);
                AttentionLanes.BEST.expMinus(lanes, 2, n, max);
                for (int i = 0; i < x.length; i++) {
                    assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(lanes[i]), what + ", value " + i);
                }
            }
        }
        for (int n : new int[] {1, 7, 150, 2048}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) (random.nextGaussian() * 4);
            }
            float max = Float.NEGATIVE_INFINITY;
            for (float v : x) {
                max = Math.max(max, v);
            }
            double[] exact = new double[n];
            double sum = 0;
            for (int i = 0; i < n; i++) {
                exact[i] = (float) Math.exp(x[i] - max);
                sum += exact[i];
            }
            CardOps.softmax(x, 0, n);
            for (int i = 0; i < n; i++) {
                double p = exact[i] / sum;
                assertTrue(Math.abs(x[i] - p) <= 4 * Math.ulp((float) p), n + " values, " + i + ": " + x[i] + " " + p);
            }
        }
    }

    @Test
    void swiGluAddAndDivide() {
        float[] g = {0, 1, -2};
        float[] u = {2, 3, 4};
        float[] out = new float[3];
        CardOps.swiGlu(g, 0, u, 0, out, 0, 3);
        assertEquals(0f, out[0]);
        assertEquals(1 / (1 + Math.exp(-1)) * 3, out[1], 1e-6);
        CardOps.add(g, 0, u, 0, out, 0, 3);
        assertArrayEquals(new float[] {2, 4, 2}, out);
        CardOps.divide(out, 1, 2, 2);
        assertArrayEquals(new float[] {2, 2, 1}, out);
    }
}
