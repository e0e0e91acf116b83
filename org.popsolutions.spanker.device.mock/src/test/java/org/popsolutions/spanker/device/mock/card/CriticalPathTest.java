package org.popsolutions.spanker.device.mock.card;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.Combine;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.PreparedJob;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * The order in which ready cards get a thread: the card whose next op starts the heaviest chain of its job first,
 * messages included. Watched through the order the workers pick cards in, not through time.
 */
class CriticalPathTest {
    private MockCardGroup group;
    /** What card 3 sends and where card 2 takes it, in {@link #chainThroughAMessage}. */
    private org.popsolutions.spanker.api.card.CardBuffer sent;
    private org.popsolutions.spanker.api.card.CardBuffer got;

    @AfterEach
    void close() {
        if (group != null) {
            group.close();
        }
    }

    private MockCardGroup ring(int cards) {
        group = new MockCardGroup(CardGroupSpec.of(Topology.uniform(TopologyKind.RING, cards, "mock", 1 << 20,
                500_000_000L, 1e-6)), "mock", (card, port, neighbour, state, previous) -> { }, 2_000_000_000L);
        return group;
    }

    private Slice buffer(int card, int bytes) {
        return Slice.of(group.cards().get(card).allocate(bytes, "b" + card));
    }

    private static Op divide(Slice s) {
        return new Op.Divide(s, 2f);
    }

    /** Card 3 sends a little to card 2, whose long fold chain waits on it; cards 0 and 1 have middling work alone. */
    private List<Program> chainThroughAMessage() {
        SailCard three = group.cards().get(3);
        SailCard two = group.cards().get(2);
        sent = three.allocate(64, "sent");
        got = two.allocate(64, "got");
        Slice long1 = buffer(2, 8192);
        return List.of(
                Program.of("middling", divide(buffer(0, 4096))),
                Program.of("less", divide(buffer(1, 2048))),
                Program.of("long chain", new Op.Receive(two.identity().portTo(3), Slice.of(got), Slice.NONE, Combine.COPY),
                        divide(long1), divide(long1)),
                Program.of("sends a little", new Op.Send(three.identity().portTo(2), Slice.of(sent), Slice.NONE)));
    }

    @Test
    void aChainCountsWhatWaitsOnItsMessagesOnOtherCards() {
        ring(4);
        List<Program> programs = chainThroughAMessage();
        MockCard[] cards = group.cards().stream().map(MockCard.class::cast).toArray(MockCard[]::new);
        long[][] ranks = CriticalPath.ranks(cards, programs.toArray(new Program[0]));
        // an op weighs 1 + the bytes it passes over; a small send carries a copy
        long chain = (1 + 64) + 2 * (1 + 8192);
        assertEquals(chain, ranks[2][0]);
        assertEquals((1 + 64) + chain, ranks[3][0], "the send carries the receiver's chain");
        assertEquals(1 + 4096, ranks[0][0]);
        assertEquals(1 + 2048, ranks[1][0]);
        assertEquals(1 + 8192, ranks[2][2]);
    }

    @Test
    void messagesThatCannotAllArriveGiveNoOrder() {
        ring(2);
        SailCard a = group.cards().get(0);
        SailCard b = group.cards().get(1);
        Slice x = buffer(0, 16);
        Slice y = buffer(1, 16);
        // each card waits for the other's message before sending its own
        Program[] programs = {
            Program.of("a", new Op.Receive(a.identity().portTo(1), x, Slice.NONE, Combine.COPY),
                    new Op.Send(a.identity().portTo(1), x, Slice.NONE)),
            Program.of("b", new Op.Receive(b.identity().portTo(0), y, Slice.NONE, Combine.COPY),
                    new Op.Send(b.identity().portTo(0), y, Slice.NONE))};
        MockCard[] cards = group.cards().stream().map(MockCard.class::cast).toArray(MockCard[]::new);
        assertNull(CriticalPath.ranks(cards, programs));
    }

    @Test
    void theCardWhoseMessageStartsTheLongestChainRunsFirst() {
        ring(4);
        List<Integer> picked = pickOrder();
        List<Program> programs = chainThroughAMessage();
        group.cards().get(3).write(sent, 0, ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 42f));
        try (PreparedJob job = group.prepare(programs)) {
            for (int run = 0; run < 2; run++) {
                picked.clear();
                job.run();
                // first come would be 0, 1, 2 (which waits), 3, 2; own work alone would be 2 (waits), 0, 1, 3, 2
                assertEquals(List.of(3, 2, 0, 1), picked, "run " + run);
            }
        }
        ByteBuffer arrived = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        group.cards().get(2).read(got, 0, arrived);
        assertEquals(42f, arrived.getFloat(0), "the message arrived whatever the order");
    }

    @Test
    void theHeavierGoesFirstAndEqualsInTheOrderTheyWereQueued() {
        ring(4);
        List<Integer> picked = pickOrder();
        List<Program> programs = new ArrayList<>();
        int[] bytes = {256, 64, 4096, 64};
        for (int c = 0; c < 4; c++) {
            programs.add(Program.of("card " + c, divide(buffer(c, bytes[c]))));
        }
        try (PreparedJob job = group.prepare(programs)) {
            job.run();
        }
        assertEquals(List.of(2, 0, 1, 3), picked);
    }

    /** The order the group's workers give cards a thread in, from now on. */
    private List<Integer> pickOrder() {
        List<Integer> picked = java.util.Collections.synchronizedList(new ArrayList<>());
        ((MockCard) group.cards().get(0)).workers().picked = picked::add;
        return picked;
    }
}
