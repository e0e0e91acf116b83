package org.popsolutions.spanker.device.mock.card;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.CardOpException;
import org.popsolutions.spanker.api.card.Combine;
import org.popsolutions.spanker.api.card.LinkShaping;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.OpCode;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.ProgramCompletion;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.ops.CardOps;

/**
 * A fold of several messages into one range, as a collective's reduce-scatter folds in card order (SPEC §4) when the
 * receiver's own data is not first: card 3 of 4 computes own = ((a0 + a1) + a2) + own through a staging area. The
 * mock card takes such a run of receives and reduces as one pass over memory ({@link FoldRun}); every value, staging
 * included, must be what the ops give one by one.
 */
class FoldRunTest {
    /** Values per message: more than one block, not a whole number of blocks, and lent (above the carry size). */
    private static final int N = 3 * FoldRun.BLOCK + 37;
    private final List<MockCardGroup> groups = new ArrayList<>();

    @AfterEach
    void close() {
        groups.forEach(MockCardGroup::close);
    }

    private MockCardGroup mesh(LinkShaping shaping) {
        MockCardGroup g = new MockCardGroup(new CardGroupSpec(
                Topology.uniform(TopologyKind.MESH, 4, "mock", 1 << 24, 500_000_000L, 1e-6), shaping, 0), "mock",
                (card, port, neighbour, state, previous) -> {
                }, 2_000_000_000L);
        groups.add(g);
        return g;
    }

    private static float[] random(long seed, int n) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            // magnitudes 1 to 2^20: the order of the additions shows in the last bits
            values[i] = (random.nextFloat() * 2 - 1) * (1 << random.nextInt(21));
        }
        return values;
    }

    private static void write(SailCard card, CardBuffer buffer, long offset, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        card.write(buffer, offset, b);
    }

    private static float[] read(SailCard card, CardBuffer buffer, long offset, int n) {
        ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        card.read(buffer, offset, b);
        float[] f = new float[n];
        b.asFloatBuffer().get(f);
        return f;
    }

    private static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    what + " value " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }

    /** Cards 0..2 each send their values to card 3 (a direct reduce-scatter's last chunk). */
    private static List<CompletableFuture<ProgramCompletion>> send(MockCardGroup g, List<float[]> inputs, int n) {
        List<CompletableFuture<ProgramCompletion>> sent = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            SailCard card = g.cards().get(c);
            CardBuffer b = card.allocate((long) n * 4, "input");
            write(card, b, 0, inputs.get(c));
            sent.add(card.submit(Program.of("send", new Op.Send(card.identity().portTo(3), Slice.of(b), Slice.NONE))));
        }
        return sent;
    }

    /** Card 3's fold: own = ((a0 + a1) + a2) + own, a0 and a2 staged first (a1 comes last on its link). */
    private static List<Op> cardThreeFold(SailCard three, Slice own, Slice slot0, Slice slot1) {
        return List.of(new Op.Receive(three.identity().portTo(0), slot0, Slice.NONE, Combine.COPY),
                new Op.Receive(three.identity().portTo(2), slot1, Slice.NONE, Combine.COPY),
                new Op.Receive(three.identity().portTo(1), slot0, Slice.NONE, Combine.SUM),
                new Op.Reduce(Combine.SUM, slot0, Slice.NONE, slot1, Slice.NONE),
                new Op.Reduce(Combine.SUM, own, Slice.NONE, slot0, Slice.NONE));
    }

    private float[][] foldOnCardThree(LinkShaping shaping, List<float[]> inputs, int n, long[] passes) {
        MockCardGroup g = mesh(shaping);
        SailCard three = g.cards().get(3);
        // the receiver's range sits at an offset of its buffer, as a chunk of a working buffer does
        CardBuffer work = three.allocate((long) 2 * n * 4, "working buffer");
        CardBuffer staging = three.allocate((long) 2 * n * 4, "staging");
        write(three, work, (long) n * 4, inputs.get(3));
        Slice own = Slice.of(work).sub((long) n * 4, (long) n * 4);
        Slice slot0 = Slice.of(staging).sub(0, (long) n * 4);
        Slice slot1 = Slice.of(staging).sub((long) n * 4, (long) n * 4);
        List<CompletableFuture<ProgramCompletion>> sent = send(g, inputs, n);
        ProgramCompletion done = three.submit(new Program("fold", cardThreeFold(three, own, slot0, slot1))).join();
        sent.forEach(CompletableFuture::join);
        assertEquals(5, done.ops(), "every op of the fold counts as run");
        passes[0] = ((MockCard) three).foldPasses;
        return new float[][] {read(three, work, (long) n * 4, n), read(three, staging, 0, n),
                read(three, staging, (long) n * 4, n)};
    }

    @Test
    void aFoldOfSeveralMessagesTakenAsOnePassIsTheOpByOpFoldBitForBit() {
        for (int n : new int[] {N, 37}) {
            List<float[]> inputs = List.of(random(1, n), random(2, n), random(3, n), random(4, n));
            float[] a0 = inputs.get(0);
            float[] a1 = inputs.get(1);
            float[] a2 = inputs.get(2);
            float[] own = inputs.get(3);
            float[] slot0 = new float[n];
            float[] slot1 = new float[n];
            float[] expected = new float[n];
            for (int i = 0; i < n; i++) {
                slot0[i] = a0[i] + a1[i];
                slot1[i] = a2[i];
                slot0[i] = slot0[i] + slot1[i];
                expected[i] = own[i] + slot0[i];
            }
            long[] passes = new long[1];
            float[][] got = foldOnCardThree(null, inputs, n, passes);
            assertEquals(1, passes[0], n + " values: the five ops are one pass");
            assertBits(expected, got[0], n + " values: the receiver's range");
            assertBits(slot0, got[1], n + " values: the first staging slot");
            assertBits(slot1, got[2], n + " values: the second staging slot");
            // a shaped card holds each op to its own deadline: op by op, the same values
            float[][] opByOp = foldOnCardThree(new LinkShaping(1e-6, 5e9, 5e9, 0, 0), inputs, n, passes);
            assertEquals(0, passes[0], "shaped: op by op");
            for (int r = 0; r < 3; r++) {
                assertBits(got[r], opByOp[r], n + " values: range " + r + " op by op");
            }
        }
    }

    @Test
    void aTaggedMaxFoldTakenAsOnePassIsTheOpByOpFold() {
        MockCardGroup g = mesh(null);
        SailCard three = g.cards().get(3);
        int n = N;
        List<float[]> inputs = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            float[] v = random(10 + c, n);
            for (int i = 0; i < n; i += 97) {
                v[i] = i % 2 == 0 ? Float.NaN : 5f; // ties and NaNs: the tags decide
            }
            inputs.add(v);
        }
        List<byte[]> tags = new ArrayList<>();
        List<CompletableFuture<ProgramCompletion>> sent = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            SailCard card = g.cards().get(c);
            CardBuffer v = card.allocate((long) n * 4, "values");
            CardBuffer t = card.allocate(n, "tags");
            write(card, v, 0, inputs.get(c));
            sent.add(card.submit(Program.of("tag and send", new Op.TagOrigins(Combine.MAX, Slice.of(v), Slice.of(t), c),
                    new Op.Send(card.identity().portTo(3), Slice.of(v), Slice.of(t)))));
        }
        CardBuffer own = three.allocate((long) n * 4, "own");
        CardBuffer ownTags = three.allocate(n, "own tags");
        CardBuffer slot = three.allocate((long) n * 4, "slot");
        CardBuffer slotTags = three.allocate(n, "slot tags");
        write(three, own, 0, inputs.get(3));
        List<Op> ops = List.of(new Op.TagOrigins(Combine.MAX, Slice.of(own), Slice.of(ownTags), 3),
                new Op.Receive(three.identity().portTo(0), Slice.of(slot), Slice.of(slotTags), Combine.COPY),
                new Op.Receive(three.identity().portTo(1), Slice.of(slot), Slice.of(slotTags), Combine.MAX),
                new Op.Receive(three.identity().portTo(2), Slice.of(slot), Slice.of(slotTags), Combine.MAX),
                new Op.Reduce(Combine.MAX, Slice.of(own), Slice.of(ownTags), Slice.of(slot), Slice.of(slotTags)));
        three.submit(new Program("tagged fold", ops)).join();
        sent.forEach(CompletableFuture::join);
        assertEquals(1, ((MockCard) three).foldPasses);
        // the same ops one by one on the host, with the card ops' own arithmetic
        float[][] values = new float[4][];
        for (int c = 0; c < 4; c++) {
            values[c] = inputs.get(c).clone();
            byte[] t = new byte[n];
            CardOps.tagOrigins(Combine.MAX, values[c], 0, t, 0, n, c);
            tags.add(t);
        }
        float[] acc = values[0].clone();
        byte[] accTags = tags.get(0).clone();
        CardOps.combine(Combine.MAX, acc, 0, accTags, 0, values[1], 0, tags.get(1), 0, n);
        CardOps.combine(Combine.MAX, acc, 0, accTags, 0, values[2], 0, tags.get(2), 0, n);
        CardOps.combine(Combine.MAX, values[3], 0, tags.get(3), 0, acc, 0, accTags, 0, n);
        assertBits(values[3], read(three, own, 0, n), "tagged MAX");
        ByteBuffer gotTags = ByteBuffer.allocate(n);
        three.read(ownTags, 0, gotTags);
        assertTrue(java.util.Arrays.equals(tags.get(3), gotTags.array()), "the winners' tags come along");
    }

    @Test
    void rangesThatOverlapWithoutBeingTheSameRunOpByOp() {
        MockCardGroup g = mesh(null);
        SailCard one = g.cards().get(1);
        int n = N;
        float[] fromZero = random(5, n);
        float[] fromTwo = random(6, n);
        List<CompletableFuture<ProgramCompletion>> sent = new ArrayList<>();
        for (int c : new int[] {0, 2}) {
            SailCard card = g.cards().get(c);
            CardBuffer out = card.allocate((long) n * 4, "out");
            write(card, out, 0, c == 0 ? fromZero : fromTwo);
            sent.add(card.submit(Program.of("send", new Op.Send(card.identity().portTo(1), Slice.of(out), Slice.NONE))));
        }
        CardBuffer b = one.allocate((long) (n + 1) * 4, "in");
        float[] before = random(7, n + 1);
        write(one, b, 0, before);
        // the second receive adds into the first's range shifted by one value: taken block by block, the first value
        // of each next block would get its two additions in the other order
        one.submit(Program.of("shifted",
                new Op.Receive(one.identity().portTo(0), Slice.of(b).sub(0, (long) n * 4), Slice.NONE, Combine.SUM),
                new Op.Receive(one.identity().portTo(2), Slice.of(b).sub(4, (long) n * 4), Slice.NONE, Combine.SUM)))
                .join();
        sent.forEach(CompletableFuture::join);
        assertEquals(0, ((MockCard) one).foldPasses, "op by op");
        float[] expected = before.clone();
        for (int i = 0; i < n; i++) {
            expected[i] = expected[i] + fromZero[i];
        }
        for (int i = 0; i < n; i++) {
            expected[i + 1] = expected[i + 1] + fromTwo[i];
        }
        assertBits(expected, read(one, b, 0, n + 1), "the ops one by one");
    }

    @Test
    void aPreparedFoldRunsAgainAndAMessageOfTheWrongSizeFailsAtItsOwnOp() {
        MockCardGroup g = mesh(null);
        int n = N;
        List<float[]> inputs = List.of(random(7, n), random(8, n), random(9, n), random(10, n));
        List<CardBuffer> in = new ArrayList<>();
        List<Program> programs = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            SailCard card = g.cards().get(c);
            CardBuffer b = card.allocate((long) n * 4, "input");
            write(card, b, 0, inputs.get(c));
            in.add(b);
            programs.add(Program.of("send", new Op.Send(card.identity().portTo(3), Slice.of(b), Slice.NONE)));
        }
        SailCard three = g.cards().get(3);
        CardBuffer own = three.allocate((long) n * 4, "own");
        CardBuffer staging = three.allocate((long) 2 * n * 4, "staging");
        programs.add(new Program("fold", cardThreeFold(three, Slice.of(own), Slice.of(staging).sub(0, (long) n * 4),
                Slice.of(staging).sub((long) n * 4, (long) n * 4))));
        var job = g.prepare(programs);
        float[] expected = inputs.get(3).clone();
        write(three, own, 0, expected);
        for (int run = 1; run <= 3; run++) {
            job.run();
            for (int i = 0; i < n; i++) {
                expected[i] = expected[i] + ((inputs.get(0)[i] + inputs.get(1)[i]) + inputs.get(2)[i]);
            }
            assertBits(expected, read(three, own, 0, n), "run " + run);
        }
        assertEquals(3, ((MockCard) three).foldPasses);
        job.close();
        // card 2 sends one value short: card 3's second receive (op 1) fails, naming it
        SailCard two = g.cards().get(2);
        two.submit(Program.of("short", new Op.Send(two.identity().portTo(3), Slice.of(in.get(2)).sub(0, (long) (n - 1) * 4),
                Slice.NONE)));
        g.cards().get(0).submit(programs.get(0));
        g.cards().get(1).submit(programs.get(1));
        CardOpException failed = assertThrows(CardOpException.class, () -> {
            try {
                three.submit(programs.get(3)).join();
            } catch (java.util.concurrent.CompletionException e) {
                throw e.getCause();
            }
        });
        assertEquals(1, failed.opIndex(), failed.getMessage());
        assertEquals(OpCode.RECEIVE, failed.op());
    }
}
