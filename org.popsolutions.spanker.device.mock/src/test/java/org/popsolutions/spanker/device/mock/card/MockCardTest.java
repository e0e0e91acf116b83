package org.popsolutions.spanker.device.mock.card;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.CardOpException;
import org.popsolutions.spanker.api.card.Combine;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.OpCode;
import org.popsolutions.spanker.api.card.OutOfCardMemoryException;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.ops.CardOps;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.PackedWeights;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

class MockCardTest {
    private final List<MockCardGroup> groups = new ArrayList<>();
    private final List<String> events = new ArrayList<>();

    @AfterEach
    void close() {
        groups.forEach(MockCardGroup::close);
    }

    /** One 64 MiB card whose ops run on two threads, closed after the test. */
    private SailCard oneCardOnTwoThreads() {
        MockCardGroup g = new MockCardGroup(new CardGroupSpec(Topology.uniform(TopologyKind.RING, 1, "mock", 1 << 26,
                500_000_000L, 1e-6), null, 2), "mock", (card, port, neighbour, state, previous) -> { }, 2_000_000_000L);
        groups.add(g);
        return g.cards().get(0);
    }

    private MockCardGroup open(TopologyKind kind, int cards, long memory) {
        MockCardGroup g = new MockCardGroup(
                CardGroupSpec.of(Topology.uniform(kind, cards, "mock", memory, 500_000_000L, 1e-6)), "mock",
                (card, port, neighbour, state, previous) -> {
                    synchronized (events) {
                        events.add(card + ":" + port + "->" + neighbour + " " + previous + ">" + state);
                    }
                }, 2_000_000_000L);
        groups.add(g);
        return g;
    }

    private static ByteBuffer floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b;
    }

    private static float[] readFloats(SailCard card, CardBuffer buffer) {
        ByteBuffer b = ByteBuffer.allocate((int) buffer.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        card.read(buffer, 0, b);
        float[] f = new float[(int) buffer.bytes() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }

    @Test
    void theConfiguredCapacityCountsAndARefusalNamesCardRequestAndFree() {
        SailCard card = open(TopologyKind.RING, 2, 1000).cards().get(1);
        card.allocate(600, "a");
        OutOfCardMemoryException e = assertThrows(OutOfCardMemoryException.class, () -> card.allocate(500, "b"));
        assertEquals(1, e.card());
        assertEquals(500, e.requested());
        assertEquals(400, e.free());
        assertEquals(600, card.memory().usedBytes());
    }

    @Test
    void hostLinkTransfersLandAtTheirOffsetAndAreCounted() {
        SailCard card = open(TopologyKind.RING, 1, 1 << 20).cards().get(0);
        CardBuffer b = card.allocate(16, "x");
        card.write(b, 4, floats(1.5f, -2f));
        assertArrayEquals(new float[] {0, 1.5f, -2f, 0}, readFloats(card, b));
        assertEquals(8, card.telemetry().hostWriteBytes());
        assertEquals(16, card.telemetry().hostReadBytes());
        assertThrows(IllegalArgumentException.class, () -> card.write(b, 12, floats(1, 2)));
    }

    @Test
    void floatTransfersAreTheSameBytesAsByteTransfersInEitherFormAndAreCounted() {
        SailCard card = open(TopologyKind.RING, 1, 1 << 20).cards().get(0);
        // a fresh buffer (becomes floats), and one first written as bytes (kept as bytes: an odd size)
        CardBuffer fresh = card.allocate(16, "fresh");
        CardBuffer raw = card.allocate(17, "raw");
        card.write(raw, 0, ByteBuffer.allocate(17));
        for (CardBuffer b : List.of(fresh, raw)) {
            long writes = card.telemetry().hostWriteBytes();
            long reads = card.telemetry().hostReadBytes();
            card.writeFloats(b, 4, new float[] {9f, 1.5f, -2f, 9f}, 1, 2);
            ByteBuffer bytes = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            card.read(b, 0, bytes);
            assertEquals(0f, bytes.getFloat(0), b.purpose());
            assertEquals(1.5f, bytes.getFloat(4), b.purpose());
            assertEquals(-2f, bytes.getFloat(8), b.purpose());
            card.write(b, 12, floats(Float.NaN));
            float[] back = {7f, 7f, 7f, 7f, 7f};
            card.readFloats(b, 4, back, 1, 3);
            assertArrayEquals(new float[] {7f, 1.5f, -2f, Float.NaN, 7f}, back, b.purpose());
            assertEquals(writes + 8 + 4, card.telemetry().hostWriteBytes(), b.purpose());
            assertEquals(reads + 12 + 12, card.telemetry().hostReadBytes(), b.purpose());
            assertThrows(IllegalArgumentException.class, () -> card.writeFloats(b, 12, new float[2], 0, 2));
            assertThrows(IllegalArgumentException.class, () -> card.readFloats(b, 12, new float[2], 0, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> card.writeFloats(b, 0, new float[2], 1, 2));
        }
    }

    @Test
    void aMatMulOnTheCardIsTheHostKernelsProduct() {
        SailCard card = open(TopologyKind.RING, 1, 1 << 24).cards().get(0);
        int rows = 8;
        int cols = 64;
        Random random = new Random(7);
        float[] w = new float[rows * cols];
        float[] x = new float[cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        byte[] q = QuantFormats.of(GgmlType.Q8_0).quantize(w);
        CardBuffer weights = card.allocate(q.length, "w");
        card.write(weights, 0, ByteBuffer.wrap(q));
        CardBuffer xb = card.allocate(cols * 4L, "x");
        card.write(xb, 0, floats(x));
        CardBuffer out = card.allocate(rows * 4L, "out");
        card.submit(Program.of("mm", new Op.MatMul(GgmlType.Q8_0.id(), Slice.of(weights), rows, cols, 1,
                Slice.of(xb), Slice.of(out), ActivationMode.GGML))).join();
        float[] expected = new float[rows];
        try (RowExecutor one = new RowExecutor(1)) {
            // as the card reads them: repacked for the portable kernels, the ggml bytes for any other
            new MatVec(Kernels.best(), one).matvec(PackedWeights.pack(GgmlType.Q8_0,
                    ByteBuffer.wrap(q).order(ByteOrder.LITTLE_ENDIAN), rows, cols).orElseThrow(), x, expected,
                    DotMode.GGML);
        }
        assertArrayEquals(expected, readFloats(card, out));
    }

    /**
     * A prompt pass's shapes on a card of two threads: three products of one activation back to back (q, k, v: the
     * second and third run on the activation the first quantized), then a SwiGLU and an add over more values than
     * {@link MockProgram#PARALLEL_ELEMENTS} (spread over the threads) — each result the host's own, bit for bit.
     */
    @Test
    void productsOfOneActivationAndLongElementWiseOpsOnTwoThreadsAreTheHostsResults() {
        SailCard card = oneCardOnTwoThreads();
        int cols = 256;
        int vectors = 6;
        int[] rows = {96, 32, 40};
        Random random = new Random(11);
        float[] x = gaussian(random, vectors * cols);
        CardBuffer xb = card.allocate(x.length * 4L, "x");
        card.write(xb, 0, floats(x));
        List<Op> ops = new ArrayList<>();
        List<byte[]> quantized = new ArrayList<>();
        List<CardBuffer> outs = new ArrayList<>();
        for (int r : rows) {
            byte[] q = QuantFormats.of(GgmlType.Q4_0).quantize(gaussian(random, r * cols));
            CardBuffer w = card.allocate(q.length, "w");
            card.write(w, 0, ByteBuffer.wrap(q));
            CardBuffer out = card.allocate((long) vectors * r * 4, "out");
            ops.add(new Op.MatMul(GgmlType.Q4_0.id(), Slice.of(w), r, cols, vectors, Slice.of(xb), Slice.of(out),
                    ActivationMode.GGML));
            quantized.add(q);
            outs.add(out);
        }
        int n = MockProgram.PARALLEL_ELEMENTS + 1000;
        float[] gate = gaussian(random, n);
        float[] up = gaussian(random, n);
        CardBuffer gb = card.allocate(n * 4L, "gate");
        CardBuffer ub = card.allocate(n * 4L, "up");
        CardBuffer sb = card.allocate(n * 4L, "swiglu");
        CardBuffer ab = card.allocate(n * 4L, "sum");
        card.write(gb, 0, floats(gate));
        card.write(ub, 0, floats(up));
        ops.add(new Op.SwiGlu(Slice.of(gb), Slice.of(ub), Slice.of(sb)));
        ops.add(new Op.Add(Slice.of(sb), Slice.of(gb), Slice.of(ab)));
        card.submit(new Program("prompt pass", ops)).join();

        try (RowExecutor one = new RowExecutor(1)) {
            MatVec host = new MatVec(Kernels.best(), one);
            for (int i = 0; i < rows.length; i++) {
                float[] expected = new float[vectors * rows[i]];
                host.product(GgmlType.Q4_0, rows[i], cols, vectors, DotMode.GGML).run(
                        ByteBuffer.wrap(quantized.get(i)).order(ByteOrder.LITTLE_ENDIAN), x, 0, vectors, expected, 0);
                assertArrayEquals(expected, readFloats(card, outs.get(i)), "product " + i);
            }
        }
        float[] swiglu = new float[n];
        org.popsolutions.spanker.ggml.ops.CardOps.swiGlu(gate, 0, up, 0, swiglu, 0, n);
        float[] sum = new float[n];
        org.popsolutions.spanker.ggml.ops.CardOps.add(swiglu, 0, gate, 0, sum, 0, n);
        assertArrayEquals(swiglu, readFloats(card, sb));
        assertArrayEquals(sum, readFloats(card, ab));
    }

    private static float[] gaussian(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    @Test
    void aSendReachesTheNeighbourAndReduceOnReceiveFoldsIntoTheReceiver() {
        MockCardGroup g = open(TopologyKind.RING, 3, 1 << 20);
        SailCard a = g.cards().get(0);
        SailCard b = g.cards().get(1);
        CardBuffer ab = a.allocate(8, "a");
        CardBuffer bb = b.allocate(8, "b");
        a.write(ab, 0, floats(1, Float.NaN));
        b.write(bb, 0, floats(2, 5));
        int aToB = a.identity().portTo(1);
        int bFromA = b.identity().portTo(0);
        var sent = a.submit(Program.of("send", new Op.Send(aToB, Slice.of(ab), Slice.NONE)));
        b.submit(Program.of("recv", new Op.Receive(bFromA, Slice.of(bb), Slice.NONE, Combine.MAX))).join();
        sent.join();
        // strict MAX with the receiver as accumulator: an incoming NaN is skipped
        assertArrayEquals(new float[] {2, 5}, readFloats(b, bb));
        assertEquals(8, a.telemetry().ports().get(aToB).sentBytes());
        assertEquals(8, b.telemetry().ports().get(bFromA).receivedBytes());
    }

    @Test
    void aMessageForACardTwoHopsAwayIsForwardedByTheOneBetween() {
        MockCardGroup g = open(TopologyKind.RING, 5, 1 << 20);
        SailCard c0 = g.cards().get(0);
        SailCard c1 = g.cards().get(1);
        SailCard c2 = g.cards().get(2);
        CardBuffer from = c0.allocate(4, "x");
        CardBuffer into = c2.allocate(4, "y");
        c0.write(from, 0, floats(42));
        c0.submit(Program.of("s", new Op.Send(c0.identity().portTo(1), Slice.of(from), Slice.NONE)));
        c1.submit(Program.of("f", new Op.Forward(c1.identity().portTo(0), c1.identity().portTo(2), 4)));
        c2.submit(Program.of("r", new Op.Receive(c2.identity().portTo(1), Slice.of(into), Slice.NONE,
                Combine.COPY))).join();
        assertArrayEquals(new float[] {42}, readFloats(c2, into));
    }

    @Test
    void dataMovesOnlyWhileTheLinkIsUpAndEveryChangeIsReported() {
        MockCardGroup g = open(TopologyKind.RING, 2, 1 << 20);
        SailCard a = g.cards().get(0);
        CardBuffer ab = a.allocate(4, "a");
        a.enablePort(0, false);
        assertEquals(LinkState.DOWN, a.ports().get(0).state());
        assertEquals(LinkState.DOWN, g.cards().get(1).ports().get(0).state());
        CompletionException e = assertThrows(CompletionException.class,
                () -> a.submit(Program.of("send", new Op.Send(0, Slice.of(ab), Slice.NONE))).join());
        CardOpException op = assertInstanceOf(CardOpException.class, e.getCause());
        assertEquals(OpCode.SEND, op.op());
        assertTrue(op.getMessage().contains("DOWN"), op.getMessage());
        a.enablePort(0, true);
        assertEquals(LinkState.UP, a.ports().get(0).state());
        assertEquals(List.of("0:0->1 UP>DOWN", "1:0->0 UP>DOWN", "0:0->1 DOWN>TRAINING", "1:0->0 DOWN>TRAINING",
                "0:0->1 TRAINING>UP", "1:0->0 TRAINING>UP"), events);
    }

    @Test
    void aPreparedJobRunsAgainAndAgainAndAFailedRunsStragglersEndBeforeTheNextRun() {
        MockCardGroup g = open(TopologyKind.RING, 2, 1 << 20);
        SailCard a = g.cards().get(0);
        SailCard b = g.cards().get(1);
        CardBuffer table = a.allocate(16, "table");
        CardBuffer row = a.allocate(4, "row");
        CardBuffer ab = a.allocate(8, "a");
        CardBuffer bb = b.allocate(8, "b");
        a.write(table, 0, floats(1.5f, -2f, 10f, 20f));
        ByteBuffer first = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0);
        a.write(row, 0, first);
        // a looks up the row its memory names and sends it; b folds what arrives into its own: each run adds it once
        var job = g.prepare(java.util.Arrays.asList(
                Program.of("lookup and send", new Op.EmbeddingRow(GgmlType.F32.id(), Slice.of(table), 2, Slice.of(row),
                        Slice.of(ab)), new Op.Send(a.identity().portTo(1), Slice.of(ab), Slice.NONE)),
                Program.of("recv", new Op.Receive(b.identity().portTo(0), Slice.of(bb), Slice.NONE, Combine.SUM))));
        assertNull(job.completion(0), "no run has ended yet");
        for (int run = 1; run <= 3; run++) {
            job.run();
            assertArrayEquals(new float[] {1.5f * run, -2f * run}, readFloats(b, bb), "after run " + run);
            // each card's end is told for the last run, as a submitted program's completion tells it
            assertEquals(0, job.completion(0).card());
            assertEquals(2, job.completion(0).ops());
            assertEquals(1, job.completion(1).ops());
            assertFalse(job.completion(1).deviceTimed(), "the mock keeps no clock of its own");
        }
        assertNull(job.completion(2), "no such card in the job");
        // a row outside the table: a's lookup fails and ends the run at once, while b waits for the message (2 s)
        a.write(row, 0, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 7));
        long start = System.nanoTime();
        CardOpException failed = assertThrows(CardOpException.class, job::run);
        assertEquals(OpCode.EMBEDDING_ROW, failed.op());
        assertTrue(System.nanoTime() - start < 1_500_000_000L, "the first failure ends the wait");
        assertNull(job.completion(0), "the card whose program failed tells no completion");
        assertNull(job.completion(1), "nor does the card still waiting for the failed card's message");
        a.write(row, 0, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 1));
        // the next run starts once b's receive of the failed run has timed out, so it does not take this run's message
        job.run();
        assertTrue(System.nanoTime() - start >= 2_000_000_000L, "the straggler's receive timed out first");
        assertArrayEquals(new float[] {1.5f * 3 + 10f, -2f * 3 + 20f}, readFloats(b, bb), "the second row, folded once");
    }

    /**
     * A prepared job's programs are compiled when it is prepared (a prompt pass's, prepared while a model loads, is not
     * compiled inside the first prompt); one that does not compile, or names a buffer freed after preparing, still
     * fails at its run with its op named, as an unprepared one does.
     */
    @Test
    void aPreparedJobIsCompiledWhenPreparedAndFailsAtItsRunAsWithout() {
        MockCardGroup g = open(TopologyKind.RING, 1, 1 << 20);
        SailCard card = g.cards().get(0);
        CardBuffer x = card.allocate(8, "x");
        CardBuffer y = card.allocate(8, "y");
        card.write(x, 0, floats(1f, 2f));
        card.write(y, 0, floats(10f, 20f));
        Program add = Program.of("add", new Op.Add(Slice.of(x), Slice.of(y), Slice.of(y)));
        MockPreparedJob job = (MockPreparedJob) g.prepare(List.of(add));
        assertTrue(job.compiledAhead(0) != null, "compiled when prepared");
        job.run();
        job.run();
        assertArrayEquals(new float[] {12f, 24f}, readFloats(card, y), "and run twice as compiled");

        // an op over a buffer shorter than it says: not compiled ahead, and its run fails at that op
        CardBuffer shortOne = card.allocate(4, "short");
        MockPreparedJob bad = (MockPreparedJob) g.prepare(List.of(Program.of("bad", new Op.Copy(Slice.of(x),
                Slice.of(y)), new Op.Add(Slice.of(x), new Slice(shortOne.handle(), 0, 8), Slice.of(y)))));
        assertNull(bad.compiledAhead(0));
        CardOpException e = assertThrows(CardOpException.class, bad::run);
        assertEquals(1, e.opIndex());
        assertEquals(OpCode.ADD, e.op());

        // a buffer freed after preparing: the program compiled ahead is not run over it
        CardBuffer gone = card.allocate(8, "gone");
        MockPreparedJob stale = (MockPreparedJob) g.prepare(List.of(Program.of("stale",
                new Op.Add(Slice.of(x), Slice.of(gone), Slice.of(y)))));
        assertTrue(stale.compiledAhead(0) != null);
        card.free(gone);
        CardOpException freed = assertThrows(CardOpException.class, stale::run);
        assertTrue(freed.getMessage().contains("not live"), freed.getMessage());
        assertArrayEquals(new float[] {12f, 24f}, readFloats(card, y), "nothing ran");
    }

    @Test
    void aReceiveWithNothingComingFailsInsteadOfHanging() {
        MockCardGroup g = open(TopologyKind.RING, 2, 1 << 20);
        SailCard b = g.cards().get(1);
        CardBuffer bb = b.allocate(4, "b");
        CompletionException e = assertThrows(CompletionException.class,
                () -> b.submit(Program.of("recv", new Op.Receive(0, Slice.of(bb), Slice.NONE, Combine.SUM))).join());
        assertTrue(e.getCause().getMessage().contains("nothing arrived"), e.getCause().getMessage());
    }

    @Test
    void aReceiveParkedWhileTheWorkersIdleStillFailsByItsTimeout() throws Exception {
        MockCardGroup g = open(TopologyKind.RING, 2, 1 << 20);
        SailCard a = g.cards().get(0);
        SailCard b = g.cards().get(1);
        CardBuffer ab = a.allocate(8, "a");
        CardBuffer bb = b.allocate(8, "b");
        var job = g.prepare(java.util.Arrays.asList(
                Program.of("send", new Op.Send(a.identity().portTo(1), Slice.of(ab), Slice.NONE)),
                Program.of("recv", new Op.Receive(b.identity().portTo(0), Slice.of(bb), Slice.NONE, Combine.SUM))));
        // small runs park cards on the submitting thread: the workers go idle watching a receive timeout ahead
        for (int run = 0; run < 50; run++) {
            job.run();
        }
        Thread.sleep(100);
        long start = System.nanoTime();
        // a lost deadline would hang here: the wait is bounded well past the 2 s timeout
        java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> b.submit(Program.of("recv", new Op.Receive(0, Slice.of(bb), Slice.NONE, Combine.SUM)))
                        .get(20, java.util.concurrent.TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("nothing arrived"), e.getCause().getMessage());
        assertTrue(System.nanoTime() - start >= 2_000_000_000L, "it waited its whole timeout");
    }

    /**
     * A prompt pass's per-token ropes and attention ops, one after the other (taken together by the card, spread over
     * its threads), give each op's values alone bit for bit: rising positions, positions that do not rise (then the
     * ops run one by one), and a position outside the cache fails at its own op.
     */
    @Test
    void aPassOfPerTokenOpsGivesEachOpsOwnValuesAndFailsAtItsOwnOp() {
        SailCard card = oneCardOnTwoThreads();
        int tokens = 5;
        int heads = 4;
        int kvHeads = 2;
        int hd = 8;
        int capacity = 16;
        Random random = new Random(3);
        float[] q = gaussian(random, tokens * heads * hd);
        float[] k = gaussian(random, tokens * kvHeads * hd);
        float[] v = gaussian(random, tokens * kvHeads * hd);
        for (int[] positions : new int[][] {{0, 1, 2, 3, 4}, {7, 9, 10, 12, 15}, {3, 1, 4, 1, 5}}) {
            float[][] outs = new float[2][];
            float[][] caches = new float[2][];
            for (int together = 0; together < 2; together++) {
                CardBuffer qb = card.allocate(q.length * 4L, "q");
                CardBuffer kb = card.allocate(k.length * 4L, "k");
                CardBuffer vb = card.allocate(v.length * 4L, "v");
                CardBuffer ob = card.allocate(q.length * 4L, "out");
                CardBuffer kc = card.allocate((long) capacity * kvHeads * hd * 4, "key cache");
                CardBuffer vc = card.allocate((long) capacity * kvHeads * hd * 4, "value cache");
                CardBuffer pb = card.allocate(tokens * 4L, "positions");
                card.write(qb, 0, floats(q));
                card.write(kb, 0, floats(k));
                card.write(vb, 0, floats(v));
                ByteBuffer p = ByteBuffer.allocate(tokens * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (int position : positions) {
                    p.putInt(position);
                }
                card.write(pb, 0, p.flip());
                List<Op> ops = new ArrayList<>();
                for (int t = 0; t < tokens; t++) {
                    ops.add(new Op.Rope(new Slice(qb.handle(), t * heads * hd * 4L, heads * hd * 4L), heads, hd, hd,
                            10000f, new Slice(pb.handle(), 4L * t, 4)));
                }
                for (int t = 0; t < tokens; t++) {
                    ops.add(new Op.Attention(new Slice(qb.handle(), t * heads * hd * 4L, heads * hd * 4L),
                            new Slice(kb.handle(), t * kvHeads * hd * 4L, kvHeads * hd * 4L),
                            new Slice(vb.handle(), t * kvHeads * hd * 4L, kvHeads * hd * 4L), Slice.of(kc), Slice.of(vc),
                            new Slice(pb.handle(), 4L * t, 4), heads, kvHeads, hd,
                            new Slice(ob.handle(), t * heads * hd * 4L, heads * hd * 4L)));
                }
                if (together == 1) {
                    card.submit(new Program("pass", ops)).join();
                } else {
                    for (Op op : ops) {
                        card.submit(Program.of("one op", op)).join();
                    }
                }
                outs[together] = readFloats(card, ob);
                caches[together] = readFloats(card, kc);
            }
            String what = "positions " + java.util.Arrays.toString(positions);
            assertArrayEquals(outs[0], outs[1], what);
            assertArrayEquals(caches[0], caches[1], what);
        }
        CardBuffer x = card.allocate(heads * hd * 4L * 4, "x");
        CardBuffer kc = card.allocate((long) capacity * kvHeads * hd * 4, "key cache");
        CardBuffer pb = card.allocate(12, "positions");
        ByteBuffer p = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(0).putInt(1).putInt(capacity);
        card.write(pb, 0, p.flip());
        List<Op> ops = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            Slice kv = new Slice(x.handle(), 0, kvHeads * hd * 4L);
            ops.add(new Op.Attention(new Slice(x.handle(), 0, heads * hd * 4L), kv, kv, Slice.of(kc), Slice.of(kc),
                    new Slice(pb.handle(), 4L * t, 4), heads, kvHeads, hd,
                    new Slice(x.handle(), (t + 1) * heads * hd * 4L, heads * hd * 4L)));
        }
        CompletionException e = assertThrows(CompletionException.class,
                () -> card.submit(new Program("bad pass", ops)).join());
        CardOpException op = assertInstanceOf(CardOpException.class, e.getCause());
        assertEquals(2, op.opIndex(), op.getMessage());
        assertTrue(op.getMessage().contains("outside the KV cache"), op.getMessage());
    }

    /**
     * A decode step's attention op run again and again (as a decode program is) keeps each kv head's cache rows copied
     * from step to step and copies only the row it wrote: its values are {@link CardOps#attentionHeads}' over the
     * caches as they are, bit for bit, on two threads, while the positions rise past the sizes the copy grows at (64,
     * 128), go back to a position written before, and after the caches were changed by something else (a host write
     * into a row the copy holds, another program's attention op writing a row).
     */
    @Test
    void aDecodeStepsAttentionIsTheCachesOwnAfterEveryChangeToThem() {
        SailCard card = oneCardOnTwoThreads();
        int heads = 8;
        int kvHeads = 2;
        int hd = 16;
        int kvWidth = kvHeads * hd;
        int capacity = 160;
        Random random = new Random(11);
        CardBuffer qb = card.allocate(heads * hd * 4L, "q");
        CardBuffer kb = card.allocate(kvWidth * 4L, "k");
        CardBuffer vb = card.allocate(kvWidth * 4L, "v");
        CardBuffer ob = card.allocate(heads * hd * 4L, "out");
        CardBuffer kc = card.allocate((long) capacity * kvWidth * 4, "key cache");
        CardBuffer vc = card.allocate((long) capacity * kvWidth * 4, "value cache");
        CardBuffer pb = card.allocate(4, "position");
        Program step = Program.of("decode step", new Op.Attention(Slice.of(qb), Slice.of(kb), Slice.of(vb), Slice.of(kc),
                Slice.of(vc), Slice.of(pb), heads, kvHeads, hd, Slice.of(ob)));
        // another program's attention op on the same caches (as a prompt pass writes them)
        CardBuffer pb2 = card.allocate(4, "other position");
        CardBuffer ob2 = card.allocate(heads * hd * 4L, "other out");
        Program other = Program.of("other", new Op.Attention(Slice.of(qb), Slice.of(kb), Slice.of(vb), Slice.of(kc),
                Slice.of(vc), Slice.of(pb2), heads, kvHeads, hd, Slice.of(ob2)));
        float[] keys = new float[capacity * kvWidth];
        float[] values = new float[capacity * kvWidth];
        float[] scores = new float[heads * capacity];
        List<Integer> positions = new ArrayList<>();
        for (int p = 0; p < 140; p++) {
            positions.add(p);
        }
        positions.addAll(List.of(70, 71, 140, -1, 141, -2, 142, 5, 143));
        for (int position : positions) {
            if (position == -1) {
                // a host write into a row the kept copy holds
                float[] row = gaussian(random, kvWidth);
                card.write(kc, 30L * kvWidth * 4, floats(row));
                System.arraycopy(row, 0, keys, 30 * kvWidth, kvWidth);
                continue;
            }
            float[] k = gaussian(random, kvWidth);
            float[] v = gaussian(random, kvWidth);
            card.write(qb, 0, floats(gaussian(random, heads * hd)));
            card.write(kb, 0, floats(k));
            card.write(vb, 0, floats(v));
            System.arraycopy(k, 0, keys, Math.abs(position == -2 ? 20 : position) * kvWidth, kvWidth);
            System.arraycopy(v, 0, values, Math.abs(position == -2 ? 20 : position) * kvWidth, kvWidth);
            if (position == -2) {
                card.write(pb2, 0, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 20));
                card.submit(other).join();
                continue;
            }
            card.write(pb, 0, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, position));
            card.submit(step).join();
            float[] q = readFloats(card, qb);
            float[] expected = new float[heads * hd];
            java.nio.FloatBuffer kf = java.nio.FloatBuffer.wrap(keys);
            java.nio.FloatBuffer vf = java.nio.FloatBuffer.wrap(values);
            int group = heads / kvHeads;
            for (int kv = 0; kv < kvHeads; kv++) {
                CardOps.attentionHeads(q, kv * group * hd, group, kf, vf, kvWidth, kv * hd, hd, position,
                        (float) (1.0 / Math.sqrt(hd)), scores, kv * group * capacity, capacity, expected,
                        kv * group * hd);
            }
            assertArrayEquals(expected, readFloats(card, ob), "position " + position);
        }
        assertArrayEquals(keys, readFloats(card, kc));
    }

    /**
     * The kept copy of a decode step's cache rows is the card's memory, as packed weights are: reserved once, at the
     * first decode step, for every row of the cache (no position after allocates it again), shown in the card's used
     * memory and given back with the key cache. A card one byte short of it keeps none and runs the same steps to the
     * same values, copying the rows at every step; a buffer asked for later takes the copy's room, and the steps after
     * go on, copying, to the same values.
     */
    @Test
    void keptCacheRowsAreCountedInTheCardsMemoryAndACardWithoutRoomCopiesAtEveryStep() {
        int heads = 8;
        int kvHeads = 2;
        int hd = 16;
        int kvWidth = kvHeads * hd;
        int capacity = 96;
        long kept = (long) kvHeads * CardOps.kvHeadRowsLength(hd, capacity) * Float.BYTES;
        long cacheBytes = (long) capacity * kvWidth * Float.BYTES;
        long buffers = 2 * heads * hd * 4L + 2 * kvWidth * 4L + 2 * cacheBytes + 4;
        float[][] outs = new float[2][];
        for (int room = 0; room < 2; room++) {
            MockCardGroup g = new MockCardGroup(new CardGroupSpec(Topology.uniform(TopologyKind.RING, 1, "mock",
                    buffers + kept - 1 + room, 500_000_000L, 1e-6), null, 2), "mock",
                    (card, port, neighbour, state, previous) -> { }, 2_000_000_000L);
            groups.add(g);
            SailCard card = g.cards().get(0);
            Random random = new Random(17);
            CardBuffer qb = card.allocate(heads * hd * 4L, "q");
            CardBuffer kb = card.allocate(kvWidth * 4L, "k");
            CardBuffer vb = card.allocate(kvWidth * 4L, "v");
            CardBuffer ob = card.allocate(heads * hd * 4L, "out");
            CardBuffer kc = card.allocate(cacheBytes, "key cache");
            CardBuffer vc = card.allocate(cacheBytes, "value cache");
            CardBuffer pb = card.allocate(4, "position");
            assertEquals(buffers, card.memory().usedBytes());
            Program step = Program.of("decode step", new Op.Attention(Slice.of(qb), Slice.of(kb), Slice.of(vb),
                    Slice.of(kc), Slice.of(vc), Slice.of(pb), heads, kvHeads, hd, Slice.of(ob)));
            float[] keys = new float[capacity * kvWidth];
            float[] values = new float[capacity * kvWidth];
            float[] scores = new float[heads * capacity];
            int steps = 90;
            float[] all = new float[steps * heads * hd];
            CardBuffer late = null;
            for (int position = 0; position < steps; position++) {
                if (room == 1 && position == 70) {
                    // a buffer that needs the kept copy's room: the card gives the copy up for it
                    late = card.allocate(kept, "late buffer");
                    assertEquals(buffers + kept, card.memory().usedBytes(), "after the late buffer");
                }
                float[] k = gaussian(random, kvWidth);
                float[] v = gaussian(random, kvWidth);
                card.write(qb, 0, floats(gaussian(random, heads * hd)));
                card.write(kb, 0, floats(k));
                card.write(vb, 0, floats(v));
                System.arraycopy(k, 0, keys, position * kvWidth, kvWidth);
                System.arraycopy(v, 0, values, position * kvWidth, kvWidth);
                card.write(pb, 0, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, position));
                card.submit(step).join();
                long expectedUse = buffers + (room == 1 ? kept : 0);
                assertEquals(expectedUse, card.memory().usedBytes(), "room " + room + ", position " + position);
                float[] q = readFloats(card, qb);
                float[] expected = new float[heads * hd];
                int group = heads / kvHeads;
                for (int kv = 0; kv < kvHeads; kv++) {
                    CardOps.attentionHeads(q, kv * group * hd, group, java.nio.FloatBuffer.wrap(keys),
                            java.nio.FloatBuffer.wrap(values), kvWidth, kv * hd, hd, position,
                            (float) (1.0 / Math.sqrt(hd)), scores, kv * group * capacity, capacity, expected,
                            kv * group * hd);
                }
                float[] out = readFloats(card, ob);
                assertArrayEquals(expected, out, "room " + room + ", position " + position);
                System.arraycopy(out, 0, all, position * heads * hd, heads * hd);
            }
            outs[room] = all;
            if (late != null) {
                // room again: the next step keeps a copy again, and freeing the key cache gives it back
                card.free(late);
                card.write(pb, 0, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, steps));
                card.submit(step).join();
                assertEquals(buffers + kept, card.memory().usedBytes(), "a copy kept again");
            }
            card.free(kc);
            assertEquals(buffers - cacheBytes, card.memory().usedBytes(), "the key cache (and its kept copy) freed");
        }
        assertArrayEquals(outs[0], outs[1]);
    }

    /**
     * Runs of per-token ops that depend on each other are not taken together where they depend: a norm reading the
     * one before's output, an attention whose key is the one before's output (taken together, every key would be
     * written to the cache before any token attends). Each value is the op-by-op one.
     */
    @Test
    void perTokenOpsThatReadWhatAnotherWritesRunInTheirOrder() {
        SailCard card = oneCardOnTwoThreads();
        int tokens = 4;
        int heads = 4;
        int kvHeads = 2;
        int hd = 8;
        int width = heads * hd;
        int capacity = 8;
        Random random = new Random(5);
        float[] x = gaussian(random, 2 * tokens * width);
        float[] w = gaussian(random, width);
        float[][] outs = new float[2][];
        float[][] caches = new float[2][];
        for (int together = 0; together < 2; together++) {
            CardBuffer xb = card.allocate(x.length * 4L, "x");
            CardBuffer wb = card.allocate(w.length * 4L, "w");
            CardBuffer kc = card.allocate((long) capacity * kvHeads * hd * 4, "key cache");
            CardBuffer vc = card.allocate((long) capacity * kvHeads * hd * 4, "value cache");
            CardBuffer pb = card.allocate(tokens * 4L, "positions");
            card.write(xb, 0, floats(x));
            card.write(wb, 0, floats(w));
            ByteBuffer p = ByteBuffer.allocate(tokens * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int t = 0; t < tokens; t++) {
                p.putInt(t);
            }
            card.write(pb, 0, p.flip());
            List<Op> ops = new ArrayList<>();
            // a chain of norms: token t's reads what token t - 1's wrote
            for (int t = 1; t < tokens; t++) {
                ops.add(new Op.RmsNorm(slice(xb, (t - 1) * width, width), Slice.of(wb), slice(xb, t * width, width),
                        1e-5f));
            }
            // attention of tokens 0..3 at positions 0..3: token t's key and value are token t - 1's output
            int outs0 = tokens * width;
            for (int t = 0; t < tokens; t++) {
                Slice kv = t == 0 ? slice(xb, 0, kvHeads * hd) : slice(xb, outs0 + (t - 1) * width, kvHeads * hd);
                ops.add(new Op.Attention(slice(xb, t * width, width), kv, kv, Slice.of(kc), Slice.of(vc),
                        new Slice(pb.handle(), 4L * t, 4), heads, kvHeads, hd, slice(xb, outs0 + t * width, width)));
            }
            if (together == 1) {
                card.submit(new Program("pass", ops)).join();
            } else {
                for (Op op : ops) {
                    card.submit(Program.of("one op", op)).join();
                }
            }
            outs[together] = readFloats(card, xb);
            caches[together] = readFloats(card, kc);
        }
        assertArrayEquals(outs[0], outs[1]);
        assertArrayEquals(caches[0], caches[1]);
    }

    /** Floats [at, at + count) of a buffer. */
    private static Slice slice(CardBuffer b, int at, int count) {
        return new Slice(b.handle(), 4L * at, 4L * count);
    }

    @Test
    void anOperandOutsideItsBufferIsANamedErrorOnTheCompletion() {
        SailCard card = open(TopologyKind.RING, 1, 1 << 20).cards().get(0);
        CardBuffer x = card.allocate(16, "x");
        CompletionException e = assertThrows(CompletionException.class, () -> card.submit(Program.of("bad",
                new Op.Copy(Slice.of(x), Slice.of(x)), new Op.Add(Slice.of(x), new Slice(x.handle(), 8, 16),
                        Slice.of(x)))).join());
        CardOpException op = assertInstanceOf(CardOpException.class, e.getCause());
        assertEquals(1, op.opIndex());
        assertEquals(OpCode.ADD, op.op());
        assertTrue(op.getMessage().contains("fall outside x"), op.getMessage());
    }

    /** Above the carry size a message reads the sender's memory in place: these sizes take both roads. */
    private static final int[] MESSAGE_FLOATS = {16, (int) (MockProgram.CARRY_BYTES / 4) * 4};

    @Test
    void aSentRangeTheSenderOverwritesBeforeItIsTakenArrivesAsItWasWhenSent() {
        for (int n : MESSAGE_FLOATS) {
            MockCardGroup g = open(TopologyKind.RING, 2, 1 << 24);
            SailCard a = g.cards().get(0);
            SailCard b = g.cards().get(1);
            CardBuffer ab = a.allocate(n * 4L, "a");
            CardBuffer bb = b.allocate(n * 4L, "b");
            float[] sent = new float[n];
            float[] later = new float[n];
            for (int i = 0; i < n; i++) {
                sent[i] = i + 0.5f;
                later[i] = -i;
            }
            a.write(ab, 0, floats(sent));
            CardBuffer other = a.allocate(n * 4L, "other");
            a.write(other, 0, floats(later));
            // the send, then the sender's own op overwrites the range, all before the receiver runs
            a.submit(Program.of("send then change", new Op.Send(a.identity().portTo(1), Slice.of(ab), Slice.NONE),
                    new Op.Copy(Slice.of(other), Slice.of(ab)))).join();
            b.submit(Program.of("recv", new Op.Receive(b.identity().portTo(0), Slice.of(bb), Slice.NONE,
                    Combine.COPY))).join();
            assertArrayEquals(sent, readFloats(b, bb), n + " floats");
            assertArrayEquals(later, readFloats(a, ab), n + " floats");
            // and a host-link write over a sent range that is not taken yet
            a.write(ab, 0, floats(sent));
            a.submit(Program.of("send", new Op.Send(a.identity().portTo(1), Slice.of(ab), Slice.NONE))).join();
            a.write(ab, 0, floats(later));
            b.submit(Program.of("recv", new Op.Receive(b.identity().portTo(0), Slice.of(bb), Slice.NONE,
                    Combine.SUM))).join();
            float[] doubled = new float[n];
            for (int i = 0; i < n; i++) {
                doubled[i] = sent[i] + sent[i];
            }
            assertArrayEquals(doubled, readFloats(b, bb), n + " floats");
        }
    }

    @Test
    void twoCardsSwappingWholeBuffersEachFoldTheOthersOriginal() {
        // recursive doubling's step: each sends its buffer and sums the other's into the same range
        for (int n : MESSAGE_FLOATS) {
            MockCardGroup g = open(TopologyKind.RING, 2, 1 << 24);
            SailCard a = g.cards().get(0);
            SailCard b = g.cards().get(1);
            CardBuffer ab = a.allocate(n * 4L, "a");
            CardBuffer bb = b.allocate(n * 4L, "b");
            float[] x = new float[n];
            float[] y = new float[n];
            float[] sum = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = i;
                y[i] = 1000 + 2 * i;
                sum[i] = x[i] + y[i];
            }
            a.write(ab, 0, floats(x));
            b.write(bb, 0, floats(y));
            var fa = a.submit(Program.of("swap a", new Op.Send(a.identity().portTo(1), Slice.of(ab), Slice.NONE),
                    new Op.Receive(a.identity().portTo(1), Slice.of(ab), Slice.NONE, Combine.SUM)));
            var fb = b.submit(Program.of("swap b", new Op.Send(b.identity().portTo(0), Slice.of(bb), Slice.NONE),
                    new Op.Receive(b.identity().portTo(0), Slice.of(bb), Slice.NONE, Combine.SUM)));
            fa.join();
            fb.join();
            assertArrayEquals(sum, readFloats(a, ab), n + " floats");
            assertArrayEquals(sum, readFloats(b, bb), n + " floats");
        }
    }

    @Test
    void aCardWaitingForAMessageRunsAgainWhenItComesAndOtherCardsRunMeanwhile() throws Exception {
        MockCardGroup g = open(TopologyKind.RING, 3, 1 << 20);
        SailCard a = g.cards().get(0);
        SailCard b = g.cards().get(1);
        SailCard c = g.cards().get(2);
        CardBuffer ab = a.allocate(4, "a");
        CardBuffer bb = b.allocate(4, "b");
        CardBuffer cb = c.allocate(4, "c");
        c.write(cb, 0, floats(7));
        var waiting = b.submit(Program.of("recv", new Op.Receive(b.identity().portTo(0), Slice.of(bb), Slice.NONE,
                Combine.COPY)));
        // card c's work does not wait behind b's receive
        c.submit(Program.of("own work", new Op.Add(Slice.of(cb), Slice.of(cb), Slice.of(cb)))).get(1,
                java.util.concurrent.TimeUnit.SECONDS);
        assertArrayEquals(new float[] {14}, readFloats(c, cb));
        assertTrue(!waiting.isDone());
        a.write(ab, 0, floats(3));
        a.submit(Program.of("send", new Op.Send(a.identity().portTo(1), Slice.of(ab), Slice.NONE)));
        waiting.get(1, java.util.concurrent.TimeUnit.SECONDS);
        assertArrayEquals(new float[] {3}, readFloats(b, bb));
    }

    @Test
    void closingTheGroupFailsAProgramWaitingForAMessage() {
        MockCardGroup g = open(TopologyKind.RING, 2, 1 << 20);
        SailCard b = g.cards().get(1);
        CardBuffer bb = b.allocate(4, "b");
        var waiting = b.submit(Program.of("recv", new Op.Receive(0, Slice.of(bb), Slice.NONE, Combine.SUM)));
        g.close();
        CompletionException e = assertThrows(CompletionException.class, waiting::join);
        assertTrue(e.getCause().getMessage().contains("closed"), e.getCause().getMessage());
    }
}
