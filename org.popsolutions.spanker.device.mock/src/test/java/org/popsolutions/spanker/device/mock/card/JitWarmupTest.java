package org.popsolutions.spanker.device.mock.card;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

import org.junit.jupiter.api.Test;

class JitWarmupTest {
    /** The warm-up's own thread swallows failures (best effort); run here, any failure of its ops shows. */
    @Test
    void theWarmUpRunsEveryOpOnItsShapes() {
        assertDoesNotThrow(JitWarmup::run);
    }

    /**
     * A large job prepared while the warm-up runs (a model's load prepares its prompt and decode jobs while the
     * weights are written) is ready once the warm-up has ended, so the first prompt does not share the cores with it.
     * Here any job counts as large.
     */
    @Test
    void preparingAJobWaitsForTheWarmUp() {
        MockCardGroup g = new MockCardGroup(CardGroupSpec.of(Topology.uniform(TopologyKind.RING, 1, "mock", 1 << 20,
                500_000_000L, 1e-6)), "mock", (card, port, neighbour, state, previous) -> { }, 2_000_000_000L);
        try {
            SailCard card = g.cards().get(0);
            CardBuffer x = card.allocate(8, "x");
            // a write of bytes (how weights arrive) starts the warm-up, once per JVM
            card.write(x, 0, ByteBuffer.allocate(8));
            g.prepare(List.of(Program.of("add", new Op.Add(Slice.of(x), Slice.of(x), Slice.of(x)))), 0);
            assertTrue(JitWarmup.ended(), "the warm-up had ended when the job was prepared");
        } finally {
            g.close();
        }
    }

    /** What makes a job large enough to wait for: its products' multiply-adds, every card's, each vector's. */
    @Test
    void aJobsSizeIsItsProductsMultiplyAdds() {
        Slice w = new Slice(1, 0, 4L * 8 * 32);
        Op.MatMul product = new Op.MatMul(org.popsolutions.spanker.ggml.quant.GgmlType.F32.id(), w, 8, 32, 4,
                new Slice(2, 0, 4L * 32 * 4), new Slice(3, 0, 4L * 8 * 4),
                org.popsolutions.spanker.api.card.ActivationMode.FLOAT);
        java.util.List<Program> programs = new java.util.ArrayList<>();
        programs.add(Program.of("two products and an add", product, product,
                new Op.Add(new Slice(1, 0, 4), new Slice(1, 0, 4), new Slice(1, 0, 4))));
        programs.add(null);
        programs.add(Program.of("one product", product));
        org.junit.jupiter.api.Assertions.assertEquals(3L * 8 * 32 * 4, MockPreparedJob.multiplyAdds(programs));
        // a 64-token prompt pass of a billion-parameter model is large; one of its decode steps is not
        org.junit.jupiter.api.Assertions.assertTrue(64L * 1_000_000_000L >= MockCardGroup.WARMUP_WORTH_MULTIPLY_ADDS);
        org.junit.jupiter.api.Assertions.assertTrue(1_000_000_000L < MockCardGroup.WARMUP_WORTH_MULTIPLY_ADDS);
    }
}
