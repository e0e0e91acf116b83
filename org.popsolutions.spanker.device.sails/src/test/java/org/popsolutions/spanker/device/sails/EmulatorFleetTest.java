package org.popsolutions.spanker.device.sails;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardOpException;
import org.popsolutions.spanker.api.card.Combine;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.OutOfCardMemoryException;
import org.popsolutions.spanker.api.card.PortStatus;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.protocol.Frame;
import org.popsolutions.spanker.protocol.Handshake;
import org.popsolutions.spanker.protocol.MessageType;
import org.popsolutions.spanker.protocol.Messages;
import org.popsolutions.spanker.protocol.ProgramCodec;
import org.popsolutions.spanker.protocol.Wire;
import org.popsolutions.spanker.protocol.WireError;

/** Real card-emulator processes on 127.0.0.1, driven through the protocol; every process is stopped after each test. */
class EmulatorFleetTest {
    @TempDir
    Path directory;
    private final List<CardConnection> connections = new ArrayList<>();

    static String emulatorClasspath() {
        String jar = System.getProperty("spanker.emulator.jar");
        File lib = new File(System.getProperty("spanker.emulator.lib"));
        StringBuilder cp = new StringBuilder(jar);
        File[] jars = lib.listFiles((d, n) -> n.endsWith(".jar"));
        assertTrue(jars != null && jars.length > 0, "the emulator's class path is built: " + lib);
        for (File f : jars) {
            cp.append(File.pathSeparator).append(f.getPath());
        }
        return cp.toString();
    }

    private Fleet.State start(int cards, TopologyKind kind, long memory, String... extra) {
        return Fleet.start(directory, new Fleet.Launch(cards, kind, true, memory, emulatorClasspath(),
                List.of(extra), 60_000));
    }

    private CardConnection connect(Fleet.State state, int card) {
        CardConnection c = CardConnection.open(state.cards().get(card).endpoint(), Fleet.secret(state), 5_000, 30_000);
        connections.add(c);
        return c;
    }

    /** The epochs of the host this test plays: its cards share them, as SailsDevice's cards do. */
    private ProgramEpochs host = new ProgramEpochs();

    private SailsCard card(Fleet.State state, int index) {
        return new SailsCard(connect(state, index), index, cable -> cable, host);
    }

    /** From now on the test plays another host (a later process): its epochs lie above the earlier host's. */
    private void nextHost() {
        host = new ProgramEpochs();
    }

    /** A card driven together with the others given the same epochs, as SailsDevice drives its cards. */
    private SailsCard card(Fleet.State state, int index, ProgramEpochs epochs) {
        return new SailsCard(connect(state, index), index, cable -> cable, epochs);
    }

    private static String failureOf(CompletableFuture<?> program) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> program.get(60, TimeUnit.SECONDS));
        return e.getCause().getMessage();
    }

    @AfterEach
    void stopEverything() {
        connections.forEach(CardConnection::close);
        List<Fleet.Member> stopped = Fleet.stop(directory);
        for (Fleet.Member m : stopped) {
            assertFalse(ProcessHandle.of(m.pid()).map(ProcessHandle::isAlive).orElse(false),
                    "card " + m.index() + " (pid " + m.pid() + ") is still running after fleet stop");
        }
    }

    private static ByteBuffer floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.flip();
    }

    private static float[] read(SailsCard card, CardBuffer buffer) {
        ByteBuffer b = ByteBuffer.allocate((int) buffer.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        card.read(buffer, 0, b);
        float[] out = new float[b.capacity() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    @Test
    void fleetStartsEveryLinkUpAndKeepsItsStatePrivate() throws IOException {
        Fleet.State state = start(3, TopologyKind.RING, 64L << 20);
        assertEquals(3, state.cards().size());
        for (int i = 0; i < 3; i++) {
            List<PortStatus> ports = Fleet.linkStatus(connect(state, i));
            assertEquals(2, ports.size());
            ports.forEach(p -> assertEquals(LinkState.UP, p.state()));
            assertTrue(state.cards().get(i).endpoint().startsWith("127.0.0.1:"));
        }
        assertEquals(PosixFilePermissions.fromString("rw-------"),
                Files.getPosixFilePermissions(directory.resolve(Fleet.STATE_FILE)));
        assertEquals(PosixFilePermissions.fromString("rw-------"),
                Files.getPosixFilePermissions(Path.of(state.secretFile())));
    }

    @Test
    void memoryTransfersAndCapacityFollowTheSpi() {
        Fleet.State state = start(1, TopologyKind.RING, 8L << 20);
        SailsCard card = card(state, 0);
        byte[] data = new byte[3 * (1 << 20) + 17]; // more than one chunk, not a multiple of one
        new Random(1).nextBytes(data);
        CardBuffer buffer = card.allocate(data.length + 100, "weights");
        card.write(buffer, 100, ByteBuffer.wrap(data));
        ByteBuffer back = ByteBuffer.allocate(data.length);
        card.read(buffer, 100, back);
        assertArrayEquals(data, back.array());
        assertEquals(data.length + 100, card.memory().usedBytes());
        OutOfCardMemoryException oom = assertThrows(OutOfCardMemoryException.class,
                () -> card.allocate(8L << 20, "too big"));
        assertEquals(8L << 20, oom.requested());
        assertThrows(IllegalArgumentException.class, () -> card.write(buffer, buffer.bytes(), floats(1f)));
        card.free(buffer);
        assertEquals(0, card.memory().usedBytes());
        assertThrows(IllegalArgumentException.class, () -> card.free(buffer));
        assertEquals(data.length, card.telemetry().hostWriteBytes());
    }

    @Test
    void matMulAndElementOpsRunOnTheCard() throws Exception {
        Fleet.State state = start(1, TopologyKind.RING, 8L << 20);
        SailsCard card = card(state, 0);
        int rows = 3;
        int cols = 32;
        float[] w = new float[rows * cols];
        float[] x = new float[cols];
        Random r = new Random(7);
        for (int i = 0; i < w.length; i++) {
            w[i] = r.nextFloat() - 0.5f;
        }
        for (int i = 0; i < cols; i++) {
            x[i] = r.nextFloat();
        }
        CardBuffer weights = card.allocate(w.length * 4L, "w");
        CardBuffer xs = card.allocate(cols * 4L, "x");
        CardBuffer out = card.allocate(rows * 4L, "out");
        card.write(weights, 0, floats(w));
        card.write(xs, 0, floats(x));
        card.submit(Program.of("matvec", new Op.MatMul(0, Slice.of(weights), rows, cols, 1, Slice.of(xs),
                Slice.of(out), ActivationMode.FLOAT), new Op.Add(Slice.of(out), Slice.of(out), Slice.of(out)),
                new Op.Divide(Slice.of(out), 2f))).get(30, TimeUnit.SECONDS);
        float[] got = read(card, out);
        for (int row = 0; row < rows; row++) {
            double expected = 0;
            for (int c = 0; c < cols; c++) {
                expected += w[row * cols + c] * x[c];
            }
            assertEquals(expected, got[row], 1e-4, "row " + row);
        }
        ExecutionException bad = assertThrows(ExecutionException.class, () -> card.submit(Program.of("bad",
                new Op.Divide(Slice.of(out), 1f), new Op.Add(Slice.of(out), Slice.of(xs), Slice.of(out))))
                .get(30, TimeUnit.SECONDS));
        CardOpException op = (CardOpException) bad.getCause();
        assertEquals(1, op.opIndex());
        assertEquals(0, op.card());
    }

    @Test
    void ringNeighboursExchangeCardToCard() throws Exception {
        Fleet.State state = start(3, TopologyKind.RING, 8L << 20);
        List<SailsCard> cards = new ArrayList<>();
        List<CardBuffer> buffers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            SailsCard c = card(state, i);
            cards.add(c);
            CardBuffer b = c.allocate(16, "v");
            c.write(b, 0, floats(i + 1, 10 * (i + 1), 0, -1));
            buffers.add(b);
        }
        List<CompletableFuture<?>> done = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Slice v = Slice.of(buffers.get(i));
            done.add(cards.get(i).submit(Program.of("neighbour sum", new Op.Send(0, v, Slice.NONE),
                    new Op.Receive(1, v, Slice.NONE, Combine.SUM))));
        }
        for (CompletableFuture<?> f : done) {
            f.get(30, TimeUnit.SECONDS);
        }
        for (int i = 0; i < 3; i++) {
            int up = (i + 2) % 3;
            assertArrayEquals(new float[] {i + 1 + up + 1, 10 * (i + 1) + 10 * (up + 1), 0, -2}, read(cards.get(i),
                    buffers.get(i)), 0f);
            assertEquals(16, cards.get(i).telemetry().ports().get(0).sentBytes());
        }
    }

    /**
     * A token that fails on one card leaves its partners' messages on the links. When that host goes away, the next
     * host's programs must not take them as their own (a forward of the hidden state once took an allreduce's chunk:
     * "forward expected 8192 bytes, 1024 arrived"); the mock device opens new links for every group.
     */
    @Test
    void messagesLeftByAHostThatIsGoneAreNotTakenByTheNextHostsPrograms() throws Exception {
        Fleet.State state = start(2, TopologyKind.RING, 8L << 20);
        SailsCard first0 = card(state, 0);
        SailsCard first1 = card(state, 1);
        CardBuffer four = first0.allocate(16, "four values");
        first0.write(four, 0, floats(1, 2, 3, 4));
        CardBuffer taken = first1.allocate(16, "taken");
        Slice sent = Slice.of(four);
        first0.submit(Program.of("two messages", new Op.Send(0, sent, Slice.NONE), new Op.Send(0, sent, Slice.NONE)))
                .get(30, TimeUnit.SECONDS);
        first1.submit(Program.of("takes one", new Op.Receive(0, Slice.of(taken), Slice.NONE, Combine.COPY)))
                .get(30, TimeUnit.SECONDS);
        connections.forEach(CardConnection::close);
        connections.clear();
        // the card notes when it has dropped what was left; without that line the next receive shows what is wrong
        Path log = Path.of(state.cards().get(1).log());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && !Files.readString(log).contains("host session ended")) {
            Thread.sleep(20);
        }

        nextHost();
        SailsCard next0 = card(state, 0);
        SailsCard next1 = card(state, 1);
        CardBuffer two = next0.allocate(8, "two values");
        next0.write(two, 0, floats(5, 6));
        CardBuffer into = next1.allocate(8, "into");
        CompletableFuture<?> receiving = next1.submit(Program.of("the next host's message",
                new Op.Receive(0, Slice.of(into), Slice.NONE, Combine.COPY)));
        next0.submit(Program.of("the next host's send", new Op.Send(0, Slice.of(two), Slice.NONE)))
                .get(30, TimeUnit.SECONDS);
        receiving.get(30, TimeUnit.SECONDS);
        assertArrayEquals(new float[] {5, 6}, read(next1, into), 0f);
    }

    /**
     * The race behind a collective that hung at load 20 with a RECEIVE that got nothing: a card notices the end of an
     * earlier host's session late (its session thread starved), after the next host's program on another card has
     * already sent it a message. Dropping "whatever waits on the ports" then dropped the next host's message, and its
     * RECEIVE waited until the receive timeout. The end is forced here in that order, so the test is deterministic:
     * the earlier host's end drops only its own epochs' messages.
     */
    @Test
    void anEarlierHostsEndNoticedLateDropsOnlyItsOwnMessagesNotTheNextHostsAlreadySent() throws Exception {
        Fleet.State state = start(2, TopologyKind.RING, 8L << 20, "--receive-timeout-ms", "3000");
        CardConnection earlier = connect(state, 1);
        SailsCard earlier1 = new SailsCard(earlier, 1, cable -> cable, new ProgramEpochs());
        CardBuffer scratch = earlier1.allocate(16, "scratch");
        earlier1.submit(Program.of("the earlier host's program", new Op.Copy(Slice.of(scratch).sub(0, 8),
                Slice.of(scratch).sub(8, 8)))).get(30, TimeUnit.SECONDS);

        ProgramEpochs next = new ProgramEpochs();
        SailsCard next0 = card(state, 0, next);
        SailsCard next1 = card(state, 1, next);
        CardBuffer two = next0.allocate(8, "two values");
        next0.write(two, 0, floats(5, 6));
        next0.submit(Program.of("the next host's send", new Op.Send(0, Slice.of(two), Slice.NONE))).get(30,
                TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (next1.telemetry().ports().get(0).receivedMessages() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(1, next1.telemetry().ports().get(0).receivedMessages(), "the message waits on card 1's port");

        // only now does card 1 learn that the earlier host is gone (and drop what that host's programs left)
        earlier.close();
        Path log = Path.of(state.cards().get(1).log());
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && !Files.readString(log).contains("host session ended")) {
            Thread.sleep(20);
        }
        assertTrue(Files.readString(log).contains("host session ended"), "card 1 noticed the earlier host's end");

        CardBuffer into = next1.allocate(8, "into");
        next1.submit(Program.of("the next host's receive", new Op.Receive(0, Slice.of(into), Slice.NONE,
                Combine.COPY))).get(30, TimeUnit.SECONDS);
        assertArrayEquals(new float[] {5, 6}, read(next1, into), 0f);
    }

    /**
     * A long-lived host (serve, the web view) goes on after a failed token: the failed round's messages left on the
     * links must not be taken by its next round, even when they have the size the next receive expects (that would
     * be a silently wrong result). Program epochs: the failure moves the host's cards to the next epoch.
     */
    @Test
    void aFailedRoundsLeftoverMessagesAreNotTakenByTheSameHostsNextRound() throws Exception {
        Fleet.State state = start(2, TopologyKind.RING, 8L << 20);
        ProgramEpochs epochs = new ProgramEpochs();
        SailsCard card0 = card(state, 0, epochs);
        SailsCard card1 = card(state, 1, epochs);
        CardBuffer four = card0.allocate(16, "four values");
        CardBuffer two0 = card0.allocate(8, "two values");
        card0.write(four, 0, floats(1, 2, 3, 4));
        CardBuffer into = card1.allocate(16, "into");
        CardBuffer two1 = card1.allocate(8, "two values");
        // Round 1: card 0 sends, then fails; card 1 fails before it receives, so the message stays on its port.
        // Card 0 ends before card 1 starts: the cards share their host's epochs, and a card 1 failing first would
        // give up card 0's program before its send on a loaded machine (then no message would be left to test).
        CompletableFuture<?> sends = card0.submit(Program.of("sends, then fails", new Op.Send(0, Slice.of(four),
                Slice.NONE), new Op.Copy(Slice.of(four), Slice.of(two0))));
        failureOf(sends);
        CompletableFuture<?> failsFirst = card1.submit(Program.of("fails before it receives", new Op.Copy(
                Slice.of(into), Slice.of(two1)), new Op.Receive(0, Slice.of(into), Slice.NONE, Combine.COPY)));
        failureOf(failsFirst);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (card1.telemetry().ports().get(0).receivedMessages() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(1, card1.telemetry().ports().get(0).receivedMessages(), "round 1's message reached card 1");

        // Round 2, same host, same size: card 1 must get 5..8, not the 1..4 round 1 left.
        card0.write(four, 0, floats(5, 6, 7, 8));
        CompletableFuture<?> receiving = card1.submit(Program.of("round 2's receive", new Op.Receive(0,
                Slice.of(into), Slice.NONE, Combine.COPY)));
        card0.submit(Program.of("round 2's send", new Op.Send(0, Slice.of(four), Slice.NONE))).get(30,
                TimeUnit.SECONDS);
        receiving.get(30, TimeUnit.SECONDS);
        assertArrayEquals(new float[] {5, 6, 7, 8}, read(card1, into), 0f);
    }

    /** A receive waiting for a card whose program failed fails at once (not at its 2-minute timeout), saying why. */
    @Test
    void aReceiveWaitingOnAFailedProgramFailsAtOnceNamingWhy() throws Exception {
        Fleet.State state = start(2, TopologyKind.RING, 8L << 20, "--receive-timeout-ms", "120000");
        ProgramEpochs epochs = new ProgramEpochs();
        long first = epochs.current();
        SailsCard card0 = card(state, 0, epochs);
        SailsCard card1 = card(state, 1, epochs);
        CardBuffer into = card1.allocate(16, "into");
        CardBuffer four = card0.allocate(16, "four values");
        CardBuffer two = card0.allocate(8, "two values");
        CompletableFuture<?> waiting = card1.submit(Program.of("waits for card 0", new Op.Receive(0, Slice.of(into),
                Slice.NONE, Combine.SUM)));
        CompletableFuture<?> failing = card0.submit(Program.of("fails before it sends", new Op.Copy(Slice.of(four),
                Slice.of(two)), new Op.Send(0, Slice.of(four), Slice.NONE)));
        assertTrue(failureOf(failing).contains("copy from 16 bytes to 8 bytes"));
        String why = failureOf(waiting);
        assertTrue(why.contains("given up") && why.contains("epoch " + first + " "), why);
        // the cards go on: the next round works
        card0.write(four, 0, floats(1, 2, 3, 4));
        CompletableFuture<?> receiving = card1.submit(Program.of("receives", new Op.Receive(0, Slice.of(into),
                Slice.NONE, Combine.COPY)));
        card0.submit(Program.of("sends", new Op.Send(0, Slice.of(four), Slice.NONE))).get(30, TimeUnit.SECONDS);
        receiving.get(30, TimeUnit.SECONDS);
        assertArrayEquals(new float[] {1, 2, 3, 4}, read(card1, into), 0f);
    }

    /**
     * The receive timeout bounds a wait without progress, not a wait: card 1 waits longer than its 1 s timeout for a
     * card 0 that computes (paced at 1 MB/s) all that time, and gets its message; nobody computing, it times out.
     */
    @Test
    void aReceiveWaitsWhileItsPartnerMakesProgressAndTimesOutWithoutIt() throws Exception {
        Fleet.State state = Fleet.start(directory, new Fleet.Launch(2, TopologyKind.RING, false, 8L << 20,
                emulatorClasspath(), List.of("--receive-timeout-ms", "1000", "--ddr-bps", "1e6"), 60_000));
        ProgramEpochs epochs = new ProgramEpochs();
        SailsCard card0 = card(state, 0, epochs);
        SailsCard card1 = card(state, 1, epochs);
        int rows = 64;
        int columns = 256;
        long weightBytes = (long) rows * columns / 32 * 34; // Q8_0: 34 bytes per 32 values, 17 ms each at 1 MB/s
        CardBuffer weights = card0.allocate(weightBytes, "weights");
        CardBuffer x = card0.allocate(columns * 4L, "x");
        CardBuffer y = card0.allocate(rows * 4L, "y");
        CardBuffer four = card0.allocate(16, "four values");
        card0.write(four, 0, floats(1, 2, 3, 4));
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < 120; i++) { // about 2 s of paced work, twice the receive timeout
            ops.add(new Op.MatMul(8, Slice.of(weights), rows, columns, 1, Slice.of(x), Slice.of(y),
                    ActivationMode.FLOAT));
        }
        ops.add(new Op.Send(0, Slice.of(four), Slice.NONE));
        CardBuffer into = card1.allocate(16, "into");
        CompletableFuture<?> receiving = card1.submit(Program.of("waits for a slow card 0", new Op.Receive(0,
                Slice.of(into), Slice.NONE, Combine.COPY)));
        long started = System.nanoTime();
        card0.submit(new Program("computes, then sends", ops)).get(60, TimeUnit.SECONDS);
        receiving.get(60, TimeUnit.SECONDS);
        assertTrue(System.nanoTime() - started > 1_500_000_000L, "card 0's paced work outlasted the receive timeout");
        assertArrayEquals(new float[] {1, 2, 3, 4}, read(card1, into), 0f);

        String why = failureOf(card1.submit(Program.of("waits for nobody", new Op.Receive(0, Slice.of(into),
                Slice.NONE, Combine.COPY))));
        assertTrue(why.contains("no card it hears from made progress, within 1000 ms"), why);
    }

    /**
     * Time dilation (protocol 1.2): a card started with --dilation 4 announces K = 4 in HELLO_REPLY, its Card says so,
     * and a paced program takes at least 4 times its rev-A time on the card's own clock (start and finish in
     * COMPLETE, aligned to the host's clock at the handshake: they fall within the host's submit and answer).
     */
    @Test
    void aDilatedCardAnnouncesKAndRunsItsModelledTimeKTimesSlowerOnItsOwnClock() throws Exception {
        Fleet.State state = Fleet.start(directory, new Fleet.Launch(1, TopologyKind.RING, false, 8L << 20,
                emulatorClasspath(), List.of("--ddr-bps", "1e8", "--dilation", "4"), 60_000));
        SailsCard card = card(state, 0);
        assertEquals(4.0, connections.get(0).hello().timeDilation());
        assertEquals(4.0, connections.get(0).hello().hostLinkDilation(), "the host link dilated with the card");
        assertEquals(4.0, card.card().timeDilation());
        int rows = 64;
        int columns = 256;
        long weightBytes = (long) rows * columns / 32 * 34; // Q8_0
        CardBuffer weights = card.allocate(weightBytes, "weights");
        CardBuffer x = card.allocate(columns * 4L, "x");
        CardBuffer y = card.allocate(rows * 4L, "y");
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ops.add(new Op.MatMul(8, Slice.of(weights), rows, columns, 1, Slice.of(x), Slice.of(y),
                    ActivationMode.FLOAT));
        }
        long revANanos = Math.round(20 * weightBytes / 1e8 * 1e9); // 3.5 ms at rev-A pace (here 100 MB/s)
        long submitted = System.nanoTime();
        org.popsolutions.spanker.api.card.ProgramCompletion done = card.submit(new Program("paced", ops))
                .get(60, TimeUnit.SECONDS);
        long answered = System.nanoTime();
        assertTrue(done.deviceTimed(), "a 1.2 card reports when its program ran");
        assertEquals(4.0, done.timeDilation());
        long onCard = done.deviceFinishNanos() - done.deviceStartNanos();
        assertTrue(onCard >= 4 * revANanos - 1_000, "the card's clock held the program to 4 x " + revANanos
                + " ns, it took " + onCard);
        // the offset estimated at HELLO is good to half that round trip (microseconds on loopback; 50 ms allowed)
        long slack = 50_000_000L;
        assertTrue(done.deviceStartNanos() >= submitted - slack && done.deviceFinishNanos() <= answered + slack,
                "the card's times, aligned to the host's clock, fall within the submit and the answer");

        // an undilated card on the same rate: at least 1 x, and it says K = 1
        Fleet.stop(directory);
        connections.forEach(CardConnection::close);
        connections.clear();
        Fleet.State plain = Fleet.start(directory, new Fleet.Launch(1, TopologyKind.RING, false, 8L << 20,
                emulatorClasspath(), List.of("--ddr-bps", "1e8"), 60_000));
        SailsCard undilated = card(plain, 0);
        assertEquals(1.0, undilated.card().timeDilation());
        CardBuffer w1 = undilated.allocate(weightBytes, "weights");
        CardBuffer x1 = undilated.allocate(columns * 4L, "x");
        CardBuffer y1 = undilated.allocate(rows * 4L, "y");
        List<Op> ops1 = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ops1.add(new Op.MatMul(8, Slice.of(w1), rows, columns, 1, Slice.of(x1), Slice.of(y1),
                    ActivationMode.FLOAT));
        }
        org.popsolutions.spanker.api.card.ProgramCompletion once = undilated.submit(new Program("paced", ops1))
                .get(60, TimeUnit.SECONDS);
        assertEquals(1.0, once.timeDilation());
        assertTrue(once.deviceFinishNanos() - once.deviceStartNanos() >= revANanos - 1_000);
    }

    /**
     * fleet start --dilation 8 --host-link-dilation 1: the card still announces K = 8 (compute and links dilated), but
     * its host link paces a load at rev-A's own 100 MB/s, not 100 MB/s / 8. The card's timing trace says at which
     * rate it paced the WRITEs (its modelled figure: bytes over the rate it was given) and how long they took.
     */
    @Test
    void aHostLinkDilatedApartFromTheCardPacesLoadsAtItsOwnRate() throws Exception {
        List<String> options = new ArrayList<>(List.of("--dilation", "8", "--trace-timing"));
        options.addAll(FleetCommand.hostLinkPacing(8, 1));
        Fleet.State state = Fleet.start(directory, new Fleet.Launch(1, TopologyKind.RING, false, 8L << 20,
                emulatorClasspath(), options, 60_000));
        SailsCard card = card(state, 0);
        assertEquals(8.0, card.card().timeDilation(), "compute and links stay dilated x8");
        // protocol 1.3: the card announces its host link's own pace, which the host's NIC pacer follows
        assertEquals(1.0, connections.get(0).hello().hostLinkDilation());
        assertEquals(8.0, connections.get(0).hello().timeDilation());
        int half = 1 << 20;
        CardBuffer load = card.allocate(2L * half, "weights");
        long started = System.nanoTime();
        card.write(load, 0, ByteBuffer.allocate(half));
        card.write(load, half, ByteBuffer.allocate(half));
        CardBuffer from = card.allocate(16, "from");
        CardBuffer to = card.allocate(16, "to");
        // a load ends at its first SUBMIT: the card reports the WRITEs before it
        card.submit(Program.of("after the load", new Op.Copy(Slice.of(from), Slice.of(to)))).get(60,
                TimeUnit.SECONDS);
        double took = (System.nanoTime() - started) / 1e9;
        java.util.regex.Pattern trace = java.util.regex.Pattern.compile("timing host link: 2 WRITEs, (\\d+) bytes,"
                + " first to last paced -?[0-9.]+ s \\(bytes at the rate: ([0-9.]+) s\\)");
        java.nio.file.Path log = directory.resolve("card-0.log");
        java.util.regex.Matcher m = null;
        for (long until = System.nanoTime() + 10_000_000_000L; System.nanoTime() < until; Thread.sleep(50)) {
            m = trace.matcher(java.nio.file.Files.readString(log));
            if (m.find()) {
                break;
            }
            m = null;
        }
        assertTrue(m != null, "the card traced its load: " + java.nio.file.Files.readString(log));
        long bytes = Long.parseLong(m.group(1)); // the data and the WRITEs' handle and offset fields
        assertTrue(bytes >= 2L * half && bytes < 2L * half + 100, m.group());
        double atRevA = bytes / 100e6; // 0.021 s; dilated x8 it would be 0.168 s
        assertEquals(atRevA, Double.parseDouble(m.group(2)), 0.0015, "paced at rev-A's 100 MB/s, not 100 MB/s / 8");
        assertTrue(took >= atRevA * 0.9, "the WRITEs were held to that rate: " + took + " s");
        assertEquals(List.of(), FleetCommand.hostLinkPacing(8, 8), "KH = K: the card's own dilation applies");
    }

    @Test
    void aBadDilationIsRefusedInOneLineByTheEmulator() throws Exception {
        for (String bad : List.of("0", "-2", "1e6", "lots")) {
            Process p = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-cp", emulatorClasspath(), "org.popsolutions.spanker.card.emulator.CardEmulatorMain",
                    "--secret-file", "/nonexistent", "--dilation", bad).redirectErrorStream(true).start();
            try {
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the emulator ends on a bad --dilation " + bad);
                String first = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                        .lines().findFirst().orElse("");
                assertEquals(2, p.exitValue());
                assertTrue(first.startsWith("card-emulator: --dilation"), first);
            } finally {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void aHostWithoutTheSecretIsRefusedByTheCardAndACardWithoutItByTheHost() throws IOException {
        Fleet.State state = start(1, TopologyKind.RING, 1L << 20);
        String endpoint = state.cards().get(0).endpoint();
        DeviceException host = assertThrows(DeviceException.class,
                () -> CardConnection.open(endpoint, Handshake.newSecret(), 5_000, 5_000));
        assertTrue(host.getMessage().contains("does not prove the fleet secret"), host.getMessage());
        // A client that answers the card's challenge without the secret.
        String[] hp = CardConnection.splitEndpoint(endpoint);
        try (Socket s = new Socket(hp[0], Integer.parseInt(hp[1]))) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            Wire.write(out, Frame.of(MessageType.HELLO, 1, new Messages.Hello(1, 0, Handshake.nonce()).encode()));
            assertEquals(MessageType.HELLO_REPLY, Wire.read(in).type());
            Wire.write(out, Frame.of(MessageType.AUTH, 2, new Messages.Auth(new byte[32]).encode()));
            Frame refused = Wire.read(in);
            assertEquals(MessageType.ERROR, refused.type());
            assertEquals(WireError.AUTH_FAILED, Messages.Error.decode(refused.payload()).kind());
            assertEquals(-1, in.read(), "the card closes the connection");
        } catch (org.popsolutions.spanker.protocol.MalformedFrameException e) {
            throw new AssertionError(e);
        }
        // And nothing but HELLO opens a session.
        try (Socket s = new Socket(hp[0], Integer.parseInt(hp[1]))) {
            Wire.write(s.getOutputStream(), Frame.of(MessageType.ALLOC, 1, new Messages.Alloc(16, "x").encode()));
            Frame refused = Wire.read(s.getInputStream());
            assertEquals(WireError.NOT_AUTHENTICATED, Messages.Error.decode(refused.payload()).kind());
        } catch (org.popsolutions.spanker.protocol.MalformedFrameException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aMajorVersionMismatchIsRefusedNamingBothVersions() {
        Fleet.State state = start(1, TopologyKind.RING, 1L << 20);
        DeviceException e = assertThrows(DeviceException.class, () -> CardConnection.open(state.cards().get(0)
                .endpoint(), Fleet.secret(state), 5_000, 5_000, 2, 3));
        assertTrue(e.getMessage().contains(Wire.version()) && e.getMessage().contains("2.3"), e.getMessage());
    }

    @Test
    void killingACardMidProgramFailsItsWorkNamingItAndFaultsItsNeighboursLinks() throws Exception {
        Fleet.State state = start(3, TopologyKind.RING, 8L << 20, "--receive-timeout-ms", "60000");
        // epochs of their own: card 1's failure does not give card 0's program up first, so card 0's own port
        // fault is what ends its wait (a host driving both together gives it up at once, saying so)
        SailsCard card0 = card(state, 0, new ProgramEpochs());
        SailsCard card1 = card(state, 1, new ProgramEpochs());
        AtomicReference<Messages.LinkEvent> fault = new AtomicReference<>();
        card0.connection().onLinkEvent(e -> {
            if (e.state() == LinkState.FAULT) {
                fault.set(e);
            }
        });
        CardBuffer b0 = card0.allocate(16, "v");
        CardBuffer b1 = card1.allocate(16, "v");
        // Both wait for messages nobody sends: card 0 from card 1 (its port 0), card 1 from card 2.
        CompletableFuture<?> onCard0 = card0.submit(Program.of("wait for card 1", new Op.Receive(0, Slice.of(b0),
                Slice.NONE, Combine.SUM)));
        CompletableFuture<?> onCard1 = card1.submit(Program.of("wait for card 2", new Op.Receive(0, Slice.of(b1),
                Slice.NONE, Combine.SUM)));
        Thread.sleep(300);
        long killed = System.nanoTime();
        ProcessHandle.of(state.cards().get(1).pid()).orElseThrow().destroyForcibly();
        // Stated bound: both fail within 5 s of the kill (in practice within a few ms: the sockets close).
        ExecutionException lost = assertThrows(ExecutionException.class, () -> onCard1.get(5, TimeUnit.SECONDS));
        assertTrue(lost.getCause().getMessage().contains("sails-emu-1"), lost.getCause().getMessage());
        ExecutionException neighbour = assertThrows(ExecutionException.class, () -> onCard0.get(5, TimeUnit.SECONDS));
        CardOpException op = (CardOpException) neighbour.getCause();
        assertTrue(op.getMessage().contains("FAULT") && op.getMessage().contains("card 1"), op.getMessage());
        assertTrue(System.nanoTime() - killed < 5_000_000_000L);
        assertEquals(LinkState.FAULT, Fleet.linkStatus(card0.connection()).get(0).state());
        assertEquals(LinkState.FAULT, Fleet.linkStatus(connect(state, 2)).get(1).state());
        assertEquals(1, fault.get().neighbourCard());
        assertThrows(DeviceException.class, () -> card1.memory());
    }

    /** Sends a signal to a card's process: STOP leaves it alive but answering nothing, CONT resumes it. */
    private static void signal(long pid, String signal) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "kill -" + signal + " " + pid);
    }

    /**
     * A card that hangs (its process alive, answering nothing: here stopped with SIGSTOP) fails every wait on it
     * within the request timeout, naming it: a program's completion, which nothing but its future waits for, and a
     * load whose write blocks in the kernel once the socket's buffers are full. Stated bound: the request timeout
     * (1 s here) and one watchdog period (1/8 of it) late; the test allows 20 s for a loaded machine.
     */
    @Test
    void aCardThatHangsFailsEveryWaitOnItWithinTheRequestTimeoutNamingIt() throws Exception {
        Fleet.State state = start(1, TopologyKind.RING, 72L << 20);
        String endpoint = state.cards().get(0).endpoint();
        CardConnection forPrograms = CardConnection.open(endpoint, Fleet.secret(state), 5_000, 1_000);
        connections.add(forPrograms);
        CardConnection forLoads = CardConnection.open(endpoint, Fleet.secret(state), 5_000, 1_000);
        connections.add(forLoads);
        SailsCard programs = new SailsCard(forPrograms, 0, cable -> cable, host);
        SailsCard loads = new SailsCard(forLoads, 0, cable -> cable, new ProgramEpochs());
        CardBuffer v = programs.allocate(64, "v");
        CardBuffer weights = loads.allocate(64L << 20, "weights");
        long pid = state.cards().get(0).pid();
        signal(pid, "STOP");
        try {
            long stopped = System.nanoTime();
            CompletableFuture<?> program = programs.submit(Program.of("never answered", new Op.Copy(
                    new Slice(v.handle(), 0, 32), new Slice(v.handle(), 32, 32))));
            String why = failureOf(program);
            assertTrue(why.contains("sails-emu-0") && why.contains(endpoint) && why.contains("did not answer")
                    && why.contains("within 1000 ms"), why); // the SUBMIT or the PROGRAM_EPOCH sent before it
            // 64 MiB, far more than the sockets hold: the host's write blocks until the card is lost
            DeviceException load = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(
                    DeviceException.class, () -> loads.write(weights, 0, ByteBuffer.allocate(64 << 20))));
            assertTrue(load.getMessage().contains("sails-emu-0") && load.getMessage().contains("did not answer WRITE"),
                    load.getMessage());
            assertTrue(System.nanoTime() - stopped < 20_000_000_000L);
            assertFalse(forPrograms.isOpen());
            assertFalse(forLoads.isOpen());
        } finally {
            signal(pid, "CONT");
        }
    }

    @Test
    void aCutCableFaultsBothEnds() throws Exception {
        Fleet.State state = start(2, TopologyKind.RING, 1L << 20);
        CardConnection c0 = connect(state, 0);
        CardConnection c1 = connect(state, 1);
        String[] target = CardConnection.splitEndpoint(state.cards().get(1).linkEndpoint());
        try (CableProxy cable = new CableProxy(target[0], Integer.parseInt(target[1]))) {
            // Re-cable card 0's port through the proxy and train both ends again.
            c0.call(MessageType.LINK_CABLE, new Messages.LinkCable(0, 0, 1, 0, true, "127.0.0.1:" + cable.port())
                    .encode());
            c1.call(MessageType.LINK_ENABLE, new Messages.LinkEnable(0, false).encode());
            c1.call(MessageType.LINK_ENABLE, new Messages.LinkEnable(0, true).encode());
            c0.call(MessageType.LINK_ENABLE, new Messages.LinkEnable(0, true).encode());
            awaitState(c0, LinkState.UP);
            awaitState(c1, LinkState.UP);
            cable.cut();
            awaitState(c0, LinkState.FAULT);
            awaitState(c1, LinkState.FAULT);
        }
    }

    private static void awaitState(CardConnection c, LinkState wanted) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        LinkState now = null;
        while (System.nanoTime() < deadline) {
            now = Fleet.linkStatus(c).get(0).state();
            if (now == wanted) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("port 0 of " + c.describe() + " stayed " + now + ", expected " + wanted);
    }

    /** A cable with a cutter: forwards one TCP connection both ways until cut. */
    static final class CableProxy implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        private final List<Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();

        CableProxy(String host, int port) throws IOException {
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        Socket a = server.accept();
                        Socket b = new Socket(host, port);
                        sockets.add(a);
                        sockets.add(b);
                        pump(a, b);
                        pump(b, a);
                    }
                } catch (IOException closed) {
                    // cut or closed
                }
            });
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private static void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                try {
                    from.getInputStream().transferTo(to.getOutputStream());
                } catch (IOException cut) {
                    // the cable is cut
                }
                try {
                    to.close();
                    from.close();
                } catch (IOException ignored) {
                    // closing
                }
            });
            t.setDaemon(true);
            t.start();
        }

        void cut() throws IOException {
            for (Socket s : sockets) {
                s.close();
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            cut();
        }
    }

    @Test
    void aWriteWhoseCrcFailsLeavesTheCardsMemoryAsItWasAndClosesOnlyItsConnection() throws Exception {
        Fleet.State state = start(1, TopologyKind.RING, 16L << 20);
        SailsCard good = card(state, 0);
        int chunk = Wire.MAX_CHUNK_BYTES;
        CardBuffer buffer = good.allocate(chunk, "target");
        byte[] before = new byte[chunk];
        new Random(5).nextBytes(before);
        good.write(buffer, 0, ByteBuffer.wrap(before));
        good.settleWrites();
        String[] hp = CardConnection.splitEndpoint(state.cards().get(0).endpoint());
        try (Socket raw = authenticatedQuietly(hp, Fleet.secret(state))) {
            byte[] other = new byte[chunk];
            new Random(6).nextBytes(other);
            // a good full chunk first (it fills the connection's staging buffer), then one whose last byte is flipped
            byte[] ok = Wire.encode(Frame.of(MessageType.WRITE, 3, new Messages.Write(buffer.handle(), 0, before, 0,
                    chunk).encode()));
            byte[] bad = Wire.encode(Frame.of(MessageType.WRITE, 4, new Messages.Write(buffer.handle(), 0, other, 0,
                    chunk).encode()));
            bad[bad.length - Wire.CRC_BYTES - 1] ^= 1;
            raw.getOutputStream().write(ok);
            raw.getOutputStream().write(bad);
            raw.getOutputStream().flush();
            Frame first = Wire.read(raw.getInputStream());
            assertEquals(MessageType.OK, first.type());
            Frame refusal = Wire.read(raw.getInputStream());
            assertEquals(MessageType.ERROR, refusal.type());
            assertTrue(Messages.Error.decode(refusal.payload()).message().contains("CRC32C mismatch"),
                    Messages.Error.decode(refusal.payload()).message());
            assertEquals(-1, raw.getInputStream().read(), "the card closed the connection that sent the bad frame");
        }
        ByteBuffer back = ByteBuffer.allocate(chunk);
        good.read(buffer, 0, back);
        assertArrayEquals(before, back.array(), "no byte of the refused chunk reached the card's memory");
        assertEquals(2L * chunk, good.telemetry().hostWriteBytes());
    }

    @Test
    void writesThatFailLandingStraightInDdrAreUndoneWhetherTheRangeWasWrittenBeforeOrNot() throws Exception {
        // the card reads WRITE data straight into DDR: a chunk that fails is put back from a copy where the range
        // was written before, zeroed where it never was, and a stream that ends inside a chunk undoes what landed
        Fleet.State state = start(1, TopologyKind.RING, 16L << 20);
        SailsCard good = card(state, 0);
        int chunk = Wire.MAX_CHUNK_BYTES;
        CardBuffer written = good.allocate(2L * chunk, "written");
        CardBuffer fresh = good.allocate(chunk, "fresh");
        byte[] before = new byte[chunk];
        new Random(7).nextBytes(before);
        good.write(written, 0, ByteBuffer.wrap(before));
        good.settleWrites();
        byte[] other = new byte[chunk];
        new Random(8).nextBytes(other);
        String[] hp = CardConnection.splitEndpoint(state.cards().get(0).endpoint());
        byte[] secret = Fleet.secret(state);
        // half over written bytes, half over untouched ones; then a chunk into a buffer nobody wrote
        for (long[] target : new long[][] {{written.handle(), chunk / 2}, {fresh.handle(), 0}}) {
            try (Socket raw = authenticatedQuietly(hp, secret)) {
                byte[] bad = Wire.encode(Frame.of(MessageType.WRITE, 3, new Messages.Write(target[0], target[1], other,
                        0, chunk).encode()));
                bad[bad.length - Wire.CRC_BYTES - 1] ^= 1;
                raw.getOutputStream().write(bad);
                raw.getOutputStream().flush();
                Frame refusal = Wire.read(raw.getInputStream());
                assertEquals(MessageType.ERROR, refusal.type());
                assertTrue(Messages.Error.decode(refusal.payload()).message().contains("CRC32C mismatch"));
                assertEquals(-1, raw.getInputStream().read(), "the card closed the connection that sent the bad frame");
            }
        }
        // a stream that ends 100 000 bytes into a chunk's data, over untouched bytes
        try (Socket raw = authenticatedQuietly(hp, secret)) {
            byte[] whole = Wire.encode(Frame.of(MessageType.WRITE, 3, new Messages.Write(written.handle(),
                    3L * chunk / 2, other, 0, chunk / 2).encode()));
            raw.getOutputStream().write(whole, 0, Wire.HEADER_BYTES + Messages.Write.FIELD_BYTES + 100_000);
            raw.getOutputStream().flush();
            raw.shutdownOutput();
            Frame refusal = Wire.read(raw.getInputStream());
            assertEquals(MessageType.ERROR, refusal.type());
            assertTrue(Messages.Error.decode(refusal.payload()).message().contains("closed inside a frame's payload"));
        }
        ByteBuffer back = ByteBuffer.allocate(2 * chunk);
        good.read(written, 0, back);
        assertArrayEquals(before, Arrays.copyOf(back.array(), chunk), "the written half put back as it was");
        assertArrayEquals(new byte[chunk], Arrays.copyOfRange(back.array(), chunk, 2 * chunk),
                "the untouched half reads zero again");
        ByteBuffer freshBack = ByteBuffer.allocate(chunk);
        good.read(fresh, 0, freshBack);
        assertArrayEquals(new byte[chunk], freshBack.array(), "no byte of the refused chunk in the fresh buffer");
        assertEquals(chunk, good.telemetry().hostWriteBytes(), "only the good chunk counted");
        // and the same ranges take a good chunk afterwards
        good.write(written, chunk / 2, ByteBuffer.wrap(other));
        good.settleWrites();
        good.read(written, chunk / 2, freshBack.clear());
        assertArrayEquals(other, freshBack.array());
    }

    @Test
    void aBufferMadeFromAFreedOnesMemoryReadsZeroWhereverNobodyWroteItAFailedChunkIncluded() throws Exception {
        // the card keeps a freed buffer's memory for the next buffer of its size (no program runs, so at once): the
        // new buffer must not show the old one's bytes, below a chunk, after it, or where a chunk failed
        Fleet.State state = start(1, TopologyKind.RING, 16L << 20);
        SailsCard good = card(state, 0);
        int chunk = Wire.MAX_CHUNK_BYTES;
        CardBuffer first = good.allocate(2L * chunk, "first");
        byte[] old = new byte[2 * chunk];
        new Random(9).nextBytes(old);
        good.write(first, 0, ByteBuffer.wrap(old));
        good.free(first);
        CardBuffer second = good.allocate(2L * chunk, "second");
        byte[] data = new byte[1000];
        new Random(10).nextBytes(data);
        good.write(second, 5000, ByteBuffer.wrap(data));
        good.settleWrites();
        String[] hp = CardConnection.splitEndpoint(state.cards().get(0).endpoint());
        try (Socket raw = authenticatedQuietly(hp, Fleet.secret(state))) {
            byte[] bad = Wire.encode(Frame.of(MessageType.WRITE, 3, new Messages.Write(second.handle(), chunk, old, 0,
                    chunk).encode()));
            bad[bad.length - Wire.CRC_BYTES - 1] ^= 1;
            raw.getOutputStream().write(bad);
            raw.getOutputStream().flush();
            Frame refusal = Wire.read(raw.getInputStream());
            assertTrue(Messages.Error.decode(refusal.payload()).message().contains("CRC32C mismatch"));
        }
        ByteBuffer back = ByteBuffer.allocate(2 * chunk);
        good.read(second, 0, back);
        byte[] expected = new byte[2 * chunk];
        System.arraycopy(data, 0, expected, 5000, data.length);
        assertArrayEquals(expected, back.array(), "only the written bytes; zero below, after and where the chunk failed");
    }

    /** An authenticated raw connection whose answers the test reads itself. */
    private static Socket authenticatedQuietly(String[] hp, byte[] secret) throws Exception {
        return handshaken(hp, secret, 2, 30_000);
    }

    /** A raw connection past HELLO (as a host of protocol 1.{@code minor}) and AUTH. */
    private static Socket handshaken(String[] hp, byte[] secret, int minor, int timeoutMillis) throws Exception {
        Socket s = new Socket(hp[0], Integer.parseInt(hp[1]));
        s.setSoTimeout(timeoutMillis);
        byte[] hostNonce = Handshake.nonce();
        Wire.write(s.getOutputStream(), Frame.of(MessageType.HELLO, 1, new Messages.Hello(1, minor, hostNonce)
                .encode()));
        Messages.HelloReply hello = Messages.HelloReply.decode(Wire.read(s.getInputStream()).payload());
        Wire.write(s.getOutputStream(), Frame.of(MessageType.AUTH, 2, new Messages.Auth(Handshake.hostProof(secret,
                hostNonce, hello.cardNonce())).encode()));
        assertEquals(MessageType.AUTH_OK, Wire.read(s.getInputStream()).type());
        return s;
    }

    @Test
    void tenThousandMalformedFramesNeverStopAWellFormedClient() throws Exception {
        Fleet.State state = start(1, TopologyKind.RING, 64L << 20);
        String endpoint = state.cards().get(0).endpoint();
        byte[] secret = Fleet.secret(state);
        SailsCard good = card(state, 0);
        // Handle 1 is the fuzzer's target (authenticated garbage may legitimately write it); handle 2 is the client's.
        assertEquals(1, good.allocate(4096, "fuzz target").handle());
        CardBuffer buffer = good.allocate(4096, "good");
        AtomicBoolean fuzzing = new AtomicBoolean(true);
        AtomicLong goodRounds = new AtomicLong();
        AtomicReference<Throwable> goodFailure = new AtomicReference<>();
        Thread client = new Thread(() -> {
            Random r = new Random(3);
            byte[] data = new byte[4096];
            try {
                while (fuzzing.get()) {
                    r.nextBytes(data);
                    good.write(buffer, 0, ByteBuffer.wrap(data));
                    ByteBuffer back = ByteBuffer.allocate(data.length);
                    good.read(buffer, 0, back);
                    if (!java.util.Arrays.equals(data, back.array())) {
                        throw new AssertionError("read back differs in round " + goodRounds.get());
                    }
                    goodRounds.incrementAndGet();
                }
            } catch (Throwable t) {
                goodFailure.set(t);
            }
        });
        client.start();
        int frames = assertTimeoutPreemptively(Duration.ofMinutes(5), () -> fuzz(endpoint, secret, 10_000));
        fuzzing.set(false);
        client.join(30_000);
        if (goodFailure.get() != null) {
            throw new AssertionError("the well-formed client failed during the fuzz", goodFailure.get());
        }
        assertTrue(frames >= 10_000);
        assertTrue(goodRounds.get() > 0, "the well-formed client made progress");
        assertTrue(Fleet.alive(state.cards().get(0).pid()), "the card survived");
        assertEquals(2 * 4096, good.memory().usedBytes(), "fuzzed allocations beyond the good client's are refused or freed");
    }

    /** Sends {@code count} malformed or random frames; returns how many were sent. */
    private static int fuzz(String endpoint, byte[] secret, int count) throws Exception {
        Random random = new Random(12345);
        MessageType[] types = {MessageType.ALLOC, MessageType.FREE, MessageType.WRITE, MessageType.READ,
            MessageType.MEMORY, MessageType.SUBMIT, MessageType.LINK_STATUS, MessageType.TELEMETRY,
            MessageType.HELLO, MessageType.AUTH, MessageType.OK, MessageType.ERROR, MessageType.COMPLETE};
        byte[] validProgram = ProgramCodec.encode(Program.of("p", new Op.Copy(new Slice(1, 0, 16), new Slice(1, 16,
                16)), new Op.MatMul(2, new Slice(1, 0, 18), 1, 32, 1, new Slice(1, 0, 128), new Slice(1, 0, 4),
                        ActivationMode.GGML)));
        String[] hp = CardConnection.splitEndpoint(endpoint);
        int sent = 0;
        Socket session = null;
        while (sent < count) {
            int kind = random.nextInt(4);
            if (kind == 0) {
                // Unauthenticated garbage on a fresh connection.
                try (Socket s = new Socket(hp[0], Integer.parseInt(hp[1]))) {
                    byte[] junk = new byte[1 + random.nextInt(64)];
                    random.nextBytes(junk);
                    if (junk.length >= 4 && random.nextBoolean()) {
                        ByteBuffer.wrap(junk).order(ByteOrder.LITTLE_ENDIAN).putInt(0, Wire.MAGIC);
                    }
                    s.getOutputStream().write(junk);
                    s.shutdownOutput();
                    s.getInputStream().readAllBytes();
                }
                sent++;
                continue;
            }
            if (session == null || session.isClosed()) {
                session = authenticated(hp, secret);
            }
            byte[] frame;
            if (kind == 1) {
                byte[] payload = new byte[random.nextInt(200)];
                random.nextBytes(payload);
                frame = Wire.encode(Frame.of(types[random.nextInt(types.length)], random.nextInt(1000), payload));
            } else if (kind == 2) {
                byte[] payload = validProgram.clone();
                payload[random.nextInt(payload.length)] ^= (byte) (1 << random.nextInt(8));
                frame = Wire.encode(Frame.of(MessageType.SUBMIT, 7, payload));
            } else {
                frame = Wire.encode(Frame.of(MessageType.WRITE, 9, new Messages.Write(1,
                        random.nextLong() & 0xFFFF, new byte[8], 0, 8).encode()));
                frame[random.nextInt(frame.length)] ^= (byte) (1 << random.nextInt(8)); // often a bad CRC
            }
            try {
                session.getOutputStream().write(frame);
                session.getOutputStream().flush();
            } catch (IOException closedByCard) {
                session.close();
            }
            sent++;
            if (random.nextInt(8) == 0) {
                session.close(); // do not wait for answers forever; the card answers or closes on its own
            }
        }
        if (session != null) {
            session.close();
        }
        return sent;
    }

    private static Socket authenticated(String[] hp, byte[] secret) throws Exception {
        Socket s = handshaken(hp, secret, 0, 10_000);
        // Drain whatever the card answers, so its writes never block on us.
        Thread drain = new Thread(() -> {
            try {
                s.getInputStream().transferTo(OutputStream.nullOutputStream());
            } catch (IOException closed) {
                // done
            }
        });
        drain.setDaemon(true);
        drain.start();
        return s;
    }
}
