package org.popsolutions.spanker.scheduler.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.collective.CollectiveProgram;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.device.mock.MockCardProvider;
import org.popsolutions.spanker.scheduler.link.LinkCalculator;

/**
 * The shape of the cards' programs, where it decides how often the data is passed over: a large collective's time
 * is its passes over memory. Results are checked bit for bit in {@link ScheduledCollectivesTest}.
 */
class CardProgramsTest {
    private final ScheduledCollectives engine = new ScheduledCollectives(new LinkCalculator(LinkParameters.REV_A),
            new MockCardProvider());
    private CardGroup group;

    @AfterEach
    void close() {
        if (group != null) {
            group.close();
        }
        engine.close();
    }

    private List<List<Op>> directAllReduce(TopologyKind cabling, int cards, ReduceOp op) {
        Topology shape = ScheduledCollectivesTest.topology(cabling, cards);
        List<Card> sized = shape.cards().stream().map(c -> new Card(c.index(), c.name(), c.provider(), 1 << 20)).toList();
        group = new MockCardProvider().open(CardGroupSpec.of(new Topology(cabling, sized, shape.links())));
        List<Slice> data = new ArrayList<>();
        for (int c = 0; c < cards; c++) {
            data.add(Slice.of(group.cards().get(c).allocate(4 * 1024 * Float.BYTES, "data")));
        }
        CollectiveProgram program = engine.allReduce(group, op, CollectiveAlgorithm.DIRECT, data);
        return program.opsPerCard();
    }

    /** Ops that pass over a chunk's values: every receive (a copy or a fold), every reduce and every copy. */
    private static long passes(List<List<Op>> ops) {
        return ops.stream().flatMap(List::stream)
                .filter(op -> op instanceof Op.Receive || op instanceof Op.Reduce || op instanceof Op.Copy).count();
    }

    @Test
    void aDirectFoldPassesOverEachMessageOnceAndEndsInTheReceiversRange() {
        // 4 cards on a ring: the opposite card's chunk comes through the middle card, behind that card's own, so a
        // fold in arrival order stages; taken in the order the fold wants (the links allowing), folding into the
        // receiver's range from its turn on, reduce-scatter passes 4+3+4+5 times, allgather 3 per card.
        List<List<Op>> ring = directAllReduce(TopologyKind.RING, 4, ReduceOp.SUM);
        assertEquals(16 + 12, passes(ring), "passes over a chunk, 4-card ring");
        assertTrue(ring.stream().flatMap(List::stream).noneMatch(op -> op instanceof Op.Copy),
                "no fold ends with a copy into the receiver's range");
        group.close();
        // a mesh: every message one hop, each link carrying one; cards 0 and 1 fold into their own range from the start
        List<List<Op>> mesh = directAllReduce(TopologyKind.MESH, 4, ReduceOp.SUM);
        assertEquals(3 + 3 + 4 + 4 + 12, passes(mesh), "passes over a chunk, 4-card mesh");
    }

    @Test
    void taggedMaxFoldsTheSameWayAndMovesTagsWithTheValues() {
        List<List<Op>> ring = directAllReduce(TopologyKind.RING, 4, ReduceOp.MAX);
        assertEquals(16 + 12, passes(ring));
        for (Op op : ring.stream().flatMap(List::stream).toList()) {
            if (op instanceof Op.Receive r) {
                assertTrue(!r.tags().isNone(), "a tagged receive carries its tags: " + r);
            } else if (op instanceof Op.Reduce r) {
                assertTrue(!r.intoTags().isNone() && !r.fromTags().isNone(), "a tagged reduce folds tags: " + r);
            }
        }
    }

    @Test
    void aCardRelaysWhatOthersWaitForBeforeItTakesItsOwnMessages() {
        // Within a step (its sends first), a receive comes before a forward only when the link makes it: it takes
        // a message that is ahead of the relayed one on the same port. Otherwise the other card would wait while
        // this one copies or folds.
        for (TopologyKind cabling : TopologyKind.values()) {
            for (int cards = 3; cards <= 6; cards++) {
                List<List<Op>> programs = directAllReduce(cabling, cards, ReduceOp.SUM);
                for (List<Op> card : programs) {
                    List<Op.Receive> sinceSends = new ArrayList<>();
                    for (Op op : card) {
                        if (op instanceof Op.Send) {
                            sinceSends.clear();
                        } else if (op instanceof Op.Receive r) {
                            sinceSends.add(r);
                        } else if (op instanceof Op.Forward f) {
                            for (Op.Receive r : sinceSends) {
                                assertEquals(f.fromPort(), r.port(), cabling + " of " + cards + ": a receive on port "
                                        + r.port() + " before relaying from port " + f.fromPort() + ": " + card);
                            }
                            sinceSends.clear();
                        }
                    }
                }
                group.close();
                group = null;
            }
        }
    }
}
