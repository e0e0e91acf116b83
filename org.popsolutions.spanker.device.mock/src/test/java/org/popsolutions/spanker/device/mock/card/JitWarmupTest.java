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
     * A job prepared while the warm-up runs (a model's load prepares its decode job, and a large model's prompt pass,
     * while the weights are written) is ready once the warm-up has ended, so neither the load's own decode steps nor
     * the generation share the cores with it. However small: here one add.
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
            g.prepare(List.of(Program.of("add", new Op.Add(Slice.of(x), Slice.of(x), Slice.of(x)))));
            assertTrue(JitWarmup.ended(), "the warm-up had ended when the job was prepared");
        } finally {
            g.close();
        }
    }
}
