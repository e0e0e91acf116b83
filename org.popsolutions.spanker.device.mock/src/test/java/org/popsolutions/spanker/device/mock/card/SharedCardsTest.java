package org.popsolutions.spanker.device.mock.card;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.Combine;
import org.popsolutions.spanker.api.card.LinkShaping;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.ProgramCompletion;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * The configured cards are one set of objects, however many groups use them at once (in Karaf a collective engine
 * keeps its group open while a model runs): claims share the cards, and their jobs never meet each other's messages.
 */
class SharedCardsTest {
    private final Topology topology = Topology.uniform(TopologyKind.RING, 2, "mock", 1 << 20, 500_000_000L, 1e-6);
    private final MockCardGroup owner = new MockCardGroup(CardGroupSpec.of(topology), "mock", null, 5_000_000_000L);

    @AfterEach
    void close() {
        owner.close();
    }

    @Test
    void everyGroupOverTheCardsGetsTheSameCardsAndTheLastToCloseFreesTheirMemory() {
        MockCardGroup first = owner.claim(CardGroupSpec.of(topology));
        MockCardGroup second = owner.claim(CardGroupSpec.of(topology));
        for (int c = 0; c < 2; c++) {
            assertSame(owner.cards().get(c), first.cards().get(c), "card " + c + " of the first group");
            assertSame(owner.cards().get(c), second.cards().get(c), "card " + c + " of the second group");
        }
        CardBuffer kept = second.cards().get(1).allocate(4096, "the second group's");
        first.cards().get(1).allocate(1024, "the first group's");
        first.close();
        assertEquals(1, owner.claims());
        assertEquals(4096 + 1024, owner.cards().get(1).memory().usedBytes(),
                "while a group holds the cards, their buffers stay");
        write(second.cards().get(1), kept, 7f);
        assertEquals(7f, read(second.cards().get(1), kept, 1)[0], "the second group's buffer still works");
        second.close();
        assertEquals(0, owner.claims());
        assertEquals(0, owner.cards().get(1).memory().usedBytes(), "the last group to close freed the cards' buffers");
    }

    @Test
    void aGroupUnderAnotherLinkShapingIsRefusedWhileTheCardsAreHeldAndServedAfter() {
        LinkShaping shaped = new LinkShaping(1e-6, 500e6, 667e6, 0, 0);
        MockCardGroup unshaped = owner.claim(CardGroupSpec.of(topology));
        DeviceException e = assertThrows(DeviceException.class,
                () -> owner.claim(new CardGroupSpec(topology, shaped, 0)));
        assertTrue(e.getMessage().contains("in use by another group without link shaping")
                && e.getMessage().contains("shaped to the link model"), e.getMessage());
        unshaped.close();
        try (MockCardGroup nowShaped = owner.claim(new CardGroupSpec(topology, shaped, 0))) {
            assertSame(owner.cards().get(0), nowShaped.cards().get(0));
        }
    }

    @Test
    void jobsOfTwoGroupsOnTheSameCardsNeverTakeEachOthersMessages() throws Exception {
        int rounds = 300;
        int messages = 4;
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int g = 0; g < 2; g++) {
                float mark = g + 1;
                MockCardGroup group = owner.claim(CardGroupSpec.of(topology));
                runs.add(threads.submit(() -> {
                    try (group) {
                        exchange(group, mark, rounds, messages);
                    }
                    return null;
                }));
            }
            for (Future<?> run : runs) {
                run.get(120, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * Card 0 sends {@code messages} small messages to card 1 per job, each of the group's own mark and the round; card
     * 1 takes them; what it took must be this group's, in order.
     */
    private static void exchange(MockCardGroup group, float mark, int rounds, int messages) {
        SailCard sender = group.cards().get(0);
        SailCard receiver = group.cards().get(1);
        int toReceiver = sender.identity().portTo(1);
        int fromSender = receiver.identity().portTo(0);
        CardBuffer out = sender.allocate(messages * 4L * Float.BYTES, "out " + mark);
        CardBuffer in = receiver.allocate(messages * 4L * Float.BYTES, "in " + mark);
        List<Op> sends = new ArrayList<>();
        List<Op> receives = new ArrayList<>();
        for (int m = 0; m < messages; m++) {
            Slice range = Slice.of(out).sub(m * 4L * Float.BYTES, 4L * Float.BYTES);
            sends.add(new Op.Send(toReceiver, range, Slice.NONE));
            receives.add(new Op.Receive(fromSender, Slice.of(in).sub(m * 4L * Float.BYTES, 4L * Float.BYTES),
                    Slice.NONE, Combine.COPY));
        }
        List<Program> job = List.of(new Program("send " + mark, sends), new Program("receive " + mark, receives));
        float[] expected = new float[messages * 4];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < expected.length; i++) {
                expected[i] = mark * 1000 + r + i / 4 * 0.25f;
            }
            ByteBuffer values = ByteBuffer.allocate(expected.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            values.asFloatBuffer().put(expected);
            sender.write(out, 0, values);
            for (CompletableFuture<ProgramCompletion> done : group.submitAll(job)) {
                done.join();
            }
            assertArrayEquals(expected, read(receiver, in, expected.length), "group " + mark + " round " + r);
        }
    }

    private static void write(SailCard card, CardBuffer buffer, float value) {
        ByteBuffer b = ByteBuffer.allocate(Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat(0, value);
        card.write(buffer, 0, b);
    }

    private static float[] read(SailCard card, CardBuffer buffer, int count) {
        ByteBuffer b = ByteBuffer.allocate(count * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        card.read(buffer, 0, b);
        float[] f = new float[count];
        b.asFloatBuffer().get(f);
        return f;
    }
}
