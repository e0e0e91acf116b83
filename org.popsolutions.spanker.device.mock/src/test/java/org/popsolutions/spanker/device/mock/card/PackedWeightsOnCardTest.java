package org.popsolutions.spanker.device.mock.card;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.PackedWeights;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * A mock card repacks Q4_0, Q4_1, Q8_0, Q4_K and Q6_K weights for the portable kernels at their first one-vector product
 * (issue 12: "repacked at load, counted in the card's memory"): the card's products are the packed kernels', the
 * packed copy is counted in its memory until the weights change or are freed, and a card without room for the copy
 * reads the ggml bytes.
 */
class PackedWeightsOnCardTest {
    private static final GgmlType[] PACKED = {GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0, GgmlType.Q4_K,
            GgmlType.Q6_K};
    private static final int ROWS = 8;
    private static final int COLS = 512;
    private final List<MockCardGroup> groups = new ArrayList<>();
    private final RowExecutor one = new RowExecutor(1);
    private final MatVec host = new MatVec(Kernels.best(), one);
    private final Random random = new Random(12);

    @AfterEach
    void close() {
        groups.forEach(MockCardGroup::close);
        one.close();
    }

    private SailCard card(long memory) {
        MockCardGroup g = new MockCardGroup(
                CardGroupSpec.of(Topology.uniform(TopologyKind.RING, 1, "mock", memory, 500_000_000L, 1e-6)), "mock",
                (card, port, neighbour, state, previous) -> { }, 2_000_000_000L);
        groups.add(g);
        return g.cards().get(0);
    }

    private float[] gaussian(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static ByteBuffer little(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer floats(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b;
    }

    private static float[] product(SailCard card, GgmlType type, CardBuffer weights, CardBuffer x, CardBuffer out) {
        card.submit(Program.of("mm", new Op.MatMul(type.id(), Slice.of(weights), ROWS, COLS, 1, Slice.of(x),
                Slice.of(out), ActivationMode.GGML))).join();
        float[] result = new float[ROWS];
        card.readFloats(out, 0, result, 0, ROWS);
        return result;
    }

    private PackedWeights packed(GgmlType type, byte[] q) {
        return PackedWeights.pack(type, little(q), ROWS, COLS).orElseThrow();
    }

    @Test
    void oneVectorProductsReadThePackedCopyWhichTheCardCountsUntilTheWeightsChangeOrAreFreed() {
        for (GgmlType type : PACKED) {
            assertTrue(host.readsPacked(type, DotMode.GGML), "the portable kernels read packed " + type + " here");
            SailCard card = card(1 << 24);
            byte[] first = QuantFormats.of(type).quantize(gaussian(ROWS * COLS));
            byte[] second = QuantFormats.of(type).quantize(gaussian(ROWS * COLS));
            float[] x = gaussian(COLS);
            CardBuffer weights = card.allocate(first.length, "w");
            card.write(weights, 0, ByteBuffer.wrap(first));
            CardBuffer xb = card.allocate(COLS * 4L, "x");
            card.write(xb, 0, floats(x));
            CardBuffer out = card.allocate(ROWS * 4L, "out");
            long buffers = card.memory().usedBytes();

            float[] expected = new float[ROWS];
            host.matvec(packed(type, first), x, expected, DotMode.GGML);
            assertArrayEquals(expected, product(card, type, weights, xb, out), type + ": the packed kernels' product");
            long copy = packed(type, first).packedBytes();
            assertTrue(copy > 0);
            assertEquals(buffers + copy, card.memory().usedBytes(), type + ": the packed copy is counted");
            product(card, type, weights, xb, out);
            assertEquals(buffers + copy, card.memory().usedBytes(), type + ": packed once");

            card.write(weights, 0, ByteBuffer.wrap(second));
            assertEquals(buffers, card.memory().usedBytes(), type + ": new weights drop the old copy");
            host.matvec(packed(type, second), x, expected, DotMode.GGML);
            assertArrayEquals(expected, product(card, type, weights, xb, out), type + ": the new weights' product");
            assertEquals(buffers + copy, card.memory().usedBytes());

            card.free(weights);
            assertEquals(buffers - first.length, card.memory().usedBytes(), type + ": freed with its buffer");
        }
    }

    @Test
    void aBufferAskedForTakesThePackedCopysRoomAndTheProductsThenReadTheGgmlBytes() {
        for (GgmlType type : PACKED) {
            byte[] q = QuantFormats.of(type).quantize(gaussian(ROWS * COLS));
            float[] x = gaussian(COLS);
            long copy = packed(type, q).packedBytes();
            long buffers = q.length + COLS * 4L + ROWS * 4L;
            SailCard card = card(buffers + copy);
            CardBuffer weights = card.allocate(q.length, "w");
            card.write(weights, 0, ByteBuffer.wrap(q));
            CardBuffer xb = card.allocate(COLS * 4L, "x");
            card.write(xb, 0, floats(x));
            CardBuffer out = card.allocate(ROWS * 4L, "out");
            product(card, type, weights, xb, out);
            assertEquals(buffers + copy, card.memory().usedBytes(), type + ": packed in the room there was");

            card.allocate(copy, "later");
            assertEquals(buffers + copy, card.memory().usedBytes(), type + ": the copy made way for the buffer");
            float[] expected = new float[ROWS];
            host.matvec(type, little(q), ROWS, COLS, x, expected, DotMode.GGML);
            assertArrayEquals(expected, product(card, type, weights, xb, out), type + ": the ggml bytes' product");
        }
    }

    @Test
    void aCardWithoutRoomForThePackedCopyReadsTheGgmlBytes() {
        for (GgmlType type : PACKED) {
            byte[] q = QuantFormats.of(type).quantize(gaussian(ROWS * COLS));
            float[] x = gaussian(COLS);
            SailCard card = card(q.length + COLS * 4L + ROWS * 4L);
            CardBuffer weights = card.allocate(q.length, "w");
            card.write(weights, 0, ByteBuffer.wrap(q));
            CardBuffer xb = card.allocate(COLS * 4L, "x");
            card.write(xb, 0, floats(x));
            CardBuffer out = card.allocate(ROWS * 4L, "out");
            float[] expected = new float[ROWS];
            host.matvec(type, little(q), ROWS, COLS, x, expected, DotMode.GGML);
            assertArrayEquals(expected, product(card, type, weights, xb, out), type + ": the ggml bytes' product");
            assertEquals(card.memory().capacityBytes(), card.memory().usedBytes(), type + ": nothing more counted");
        }
    }
}
