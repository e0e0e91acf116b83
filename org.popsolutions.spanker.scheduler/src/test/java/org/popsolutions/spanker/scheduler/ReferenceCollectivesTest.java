package org.popsolutions.spanker.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.ShapeMismatchException;
import org.popsolutions.spanker.api.TopologyMismatchException;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

/** SPEC §4 collectives, one rule per test. */
class ReferenceCollectivesTest {
    private final ReferenceCollectives collectives = new ReferenceCollectives();

    static Topology mesh(int cards) {
        List<Card> list = new ArrayList<>();
        for (int i = 0; i < cards; i++) {
            list.add(new Card(i, "c" + i, "test", 0));
        }
        List<Link> links = new ArrayList<>();
        for (int[] p : TopologyKind.MESH.directedPairs(cards)) {
            links.add(new Link(p[0], p[1], LinkState.UP, 1, 0));
        }
        return new Topology(TopologyKind.MESH, list, links);
    }

    private static List<float[]> buffers(float[]... perCard) {
        return new ArrayList<>(List.of(perCard));
    }

    @Test
    void bufferCountIsCheckedBeforeShapes() {
        // Wrong count AND wrong shapes: the count is reported.
        TopologyMismatchException e = assertThrows(TopologyMismatchException.class,
                () -> collectives.allReduce(mesh(3), ReduceOp.SUM, buffers(new float[2], new float[5])));
        assertEquals(3, e.expected());
        assertEquals(2, e.actual());
    }

    @Test
    void shapeMismatchNamesTheFirstOffendingCard() {
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class, () -> collectives.allReduce(mesh(4),
                ReduceOp.SUM, buffers(new float[3], new float[3], new float[2], new float[1])));
        assertEquals(2, e.sail());
        assertEquals(3, e.expected());
        assertEquals(2, e.actual());
    }

    @Test
    void failedCheckLeavesEveryBufferUntouched() {
        List<float[]> bufs = buffers(new float[] {1, 2}, new float[] {3});
        assertThrows(ShapeMismatchException.class, () -> collectives.allReduce(mesh(2), ReduceOp.SUM, bufs));
        assertArrayEquals(new float[] {1, 2}, bufs.get(0));
        assertArrayEquals(new float[] {3}, bufs.get(1));
    }

    @Test
    void zeroLengthBuffersAreANoOp() {
        List<float[]> bufs = buffers(new float[0], new float[0], new float[0]);
        collectives.allReduce(mesh(3), ReduceOp.AVG, bufs);
        bufs.forEach(b -> assertEquals(0, b.length));
        assertEquals(0, collectives.allGather(mesh(3), bufs).length);
    }

    @Test
    void sumIsWrittenToEveryCard() {
        List<float[]> bufs = buffers(new float[] {1, 2, 3}, new float[] {10, 20, 30});
        collectives.allReduce(mesh(2), ReduceOp.SUM, bufs);
        assertArrayEquals(new float[] {11, 22, 33}, bufs.get(0));
        assertArrayEquals(new float[] {11, 22, 33}, bufs.get(1));
    }

    @Test
    void sumFoldsLeftFromCardZeroInCardOrder() {
        // ((1e8 + 1) + -1e8) + 1 == 1 in float32; a pairwise tree or the reverse card order gives 0.
        List<float[]> bufs = buffers(new float[] {1e8f}, new float[] {1f}, new float[] {-1e8f}, new float[] {1f});
        collectives.allReduce(mesh(4), ReduceOp.SUM, bufs);
        assertEquals(0f, (1e8f + 1f) + (-1e8f + 1f));
        assertEquals(0f, ((1f + -1e8f) + 1f) + 1e8f);
        for (float[] b : bufs) {
            assertEquals(1f, b[0]);
        }
    }

    @Test
    void avgOfOneTwoThreeFourIsTwoPointFiveOnEveryCard() {
        List<float[]> bufs = buffers(new float[] {1}, new float[] {2}, new float[] {3}, new float[] {4});
        collectives.allReduce(mesh(4), ReduceOp.AVG, bufs);
        for (float[] b : bufs) {
            assertEquals(2.5f, b[0]);
        }
    }

    @Test
    void avgDividesTheFloat32SumByTheCardCount() {
        float a = 0.1f;
        float b = 0.2f;
        float c = 0.7f;
        List<float[]> bufs = buffers(new float[] {a}, new float[] {b}, new float[] {c});
        collectives.allReduce(mesh(3), ReduceOp.AVG, bufs);
        float expected = ((a + b) + c) / 3f;
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(bufs.get(2)[0]));
    }

    @Test
    void maxAndMinAreElementWise() {
        List<float[]> bufs = buffers(new float[] {1, 9, -3}, new float[] {5, 2, -7}, new float[] {3, 4, 0});
        List<float[]> copy = buffers(bufs.get(0).clone(), bufs.get(1).clone(), bufs.get(2).clone());
        collectives.allReduce(mesh(3), ReduceOp.MAX, bufs);
        collectives.allReduce(mesh(3), ReduceOp.MIN, copy);
        assertArrayEquals(new float[] {5, 9, 0}, bufs.get(1));
        assertArrayEquals(new float[] {1, 2, -7}, copy.get(0));
    }

    @Test
    void maxKeepsANanOnCardZero() {
        List<float[]> bufs = buffers(new float[] {Float.NaN}, new float[] {1}, new float[] {2});
        collectives.allReduce(mesh(3), ReduceOp.MAX, bufs);
        bufs.forEach(b -> assertTrue(Float.isNaN(b[0])));
    }

    @Test
    void minKeepsANanOnCardZero() {
        List<float[]> bufs = buffers(new float[] {Float.NaN}, new float[] {-1});
        collectives.allReduce(mesh(2), ReduceOp.MIN, bufs);
        bufs.forEach(b -> assertTrue(Float.isNaN(b[0])));
    }

    @Test
    void maxSkipsANanOnALaterCard() {
        List<float[]> bufs = buffers(new float[] {1}, new float[] {Float.NaN}, new float[] {2});
        collectives.allReduce(mesh(3), ReduceOp.MAX, bufs);
        bufs.forEach(b -> assertEquals(2f, b[0]));
    }

    @Test
    void allGatherConcatenatesInTopologyOrder() {
        float[] gathered = collectives.allGather(mesh(3),
                buffers(new float[] {1, 2}, new float[] {3, 4}, new float[] {5, 6}));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, gathered);
    }

    @Test
    void allGatherChecksCountThenShape() {
        assertThrows(TopologyMismatchException.class,
                () -> collectives.allGather(mesh(2), buffers(new float[] {1}, new float[] {2}, new float[] {3})));
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                () -> collectives.allGather(mesh(2), buffers(new float[] {1}, new float[] {2, 3})));
        assertEquals(1, e.sail());
    }

    @Test
    void singleCardAllReduceLeavesTheBufferAsItIs() {
        List<float[]> bufs = buffers(new float[] {Float.NaN, -0f, 7});
        collectives.allReduce(mesh(1), ReduceOp.SUM, bufs);
        assertTrue(Float.isNaN(bufs.get(0)[0]));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(bufs.get(0)[1]));
    }
}
