package org.popsolutions.spanker.ggml.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
