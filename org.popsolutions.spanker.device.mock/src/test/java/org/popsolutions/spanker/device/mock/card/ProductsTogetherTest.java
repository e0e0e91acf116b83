package org.popsolutions.spanker.device.mock.card;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * One-vector products of one activation (a block's q, k and v) run as one call on the card's threads: each output
 * bit for bit the product's own, run alone; products that write what another of them reads or writes stay one by one.
 */
class ProductsTogetherTest {
    private static final int COLS = 512;
    private static final int[] ROWS = {96, 16, 16};
    private final List<MockCardGroup> groups = new ArrayList<>();
    private final Random random = new Random(21);

    @AfterEach
    void close() {
        groups.forEach(MockCardGroup::close);
    }

    private MockCard card(int threads) {
        MockCardGroup g = new MockCardGroup(
                new CardGroupSpec(Topology.uniform(TopologyKind.RING, 1, "mock", 1 << 26, 500_000_000L, 1e-6), null, threads),
                "mock", (card, port, neighbour, state, previous) -> { }, 2_000_000_000L);
        groups.add(g);
        return (MockCard) g.cards().get(0);
    }

    private float[] gaussian(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static ByteBuffer floats(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b;
    }

    private static Op.MatMul product(GgmlType type, CardBuffer w, int rows, CardBuffer x, Slice out) {
        return new Op.MatMul(type.id(), Slice.of(w), rows, COLS, 1, Slice.of(x), out, ActivationMode.GGML);
    }

    private static float[] read(MockCard card, CardBuffer b, int values) {
        float[] v = new float[values];
        card.readFloats(b, 0, v, 0, values);
        return v;
    }

    @Test
    void qkvRunTogetherGiveEachProductsOwnOutput() {
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K}) {
            for (int threads : new int[] {1, 2, 3}) {
                MockCard card = card(threads);
                CardBuffer x = card.allocate(COLS * 4L, "x");
                card.write(x, 0, floats(gaussian(COLS)));
                CardBuffer[] w = new CardBuffer[ROWS.length];
                for (int i = 0; i < ROWS.length; i++) {
                    byte[] q = QuantFormats.of(type).quantize(gaussian(ROWS[i] * COLS));
                    w[i] = card.allocate(q.length, "w" + i);
                    card.write(w[i], 0, ByteBuffer.wrap(q));
                }
                int all = Arrays.stream(ROWS).sum();
                CardBuffer out = card.allocate(all * 4L, "qkv");
                List<Op> ops = new ArrayList<>();
                float[] expected = new float[all];
                for (int i = 0, at = 0; i < ROWS.length; at += ROWS[i], i++) {
                    ops.add(product(type, w[i], ROWS[i], x, Slice.of(out).sub(at * 4L, ROWS[i] * 4L)));
                    CardBuffer alone = card.allocate(ROWS[i] * 4L, "alone" + i);
                    card.submit(Program.of("alone", product(type, w[i], ROWS[i], x, Slice.of(alone)))).join();
                    System.arraycopy(read(card, alone, ROWS[i]), 0, expected, at, ROWS[i]);
                }
                Program qkv = new Program("qkv", ops);
                String what = type + ", " + threads + " threads";
                assertEquals(MockProgram.FUSE_PRODUCTS ? 1 : 0, card.compileAhead(qkv).productsTogether(), what);
                for (int round = 0; round < 3; round++) {
                    card.write(out, 0, floats(new float[all]));
                    card.submit(qkv).join();
                    assertArrayEquals(expected, read(card, out, all), what + ", round " + round);
                }
            }
        }
    }

    /**
     * The second product writes where the first does (its output overlapping the first's), or the first writes the
     * second's weights: run together they would race, so they run one by one and the later write wins.
     */
    @Test
    void productsThatWriteWhatAnotherTouchesRunOneByOne() {
        GgmlType type = GgmlType.Q8_0;
        MockCard card = card(2);
        CardBuffer x = card.allocate(COLS * 4L, "x");
        card.write(x, 0, floats(gaussian(COLS)));
        byte[] q0 = QuantFormats.of(type).quantize(gaussian(32 * COLS));
        byte[] q1 = QuantFormats.of(type).quantize(gaussian(32 * COLS));
        CardBuffer w0 = card.allocate(q0.length, "w0");
        card.write(w0, 0, ByteBuffer.wrap(q0));
        CardBuffer w1 = card.allocate(q1.length, "w1");
        card.write(w1, 0, ByteBuffer.wrap(q1));
        CardBuffer out = card.allocate(48 * 4L, "out");
        CardBuffer alone = card.allocate(32 * 4L, "alone");
        card.submit(Program.of("alone", product(type, w1, 32, x, Slice.of(alone)))).join();
        float[] second = read(card, alone, 32);
        // the second's 32 rows over the first's last 16 and 16 more
        Program overlapping = new Program("overlap", List.of(
                product(type, w0, 32, x, Slice.of(out).sub(0, 32 * 4L)),
                product(type, w1, 32, x, Slice.of(out).sub(16 * 4L, 32 * 4L))));
        assertEquals(0, card.compileAhead(overlapping).productsTogether());
        for (int round = 0; round < 5; round++) {
            card.submit(overlapping).join();
            assertArrayEquals(second, Arrays.copyOfRange(read(card, out, 48), 16, 48), "round " + round);
        }
        Program intoWeights = new Program("into weights", List.of(
                product(type, w0, 32, x, Slice.of(w1).sub(0, 32 * 4L)),
                product(type, w1, 32, x, Slice.of(alone))));
        assertEquals(0, card.compileAhead(intoWeights).productsTogether());
    }
}
