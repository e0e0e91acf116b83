package org.popsolutions.spanker.device.sails;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.Combine;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;

/**
 * Measures the running fleet's host link and links: protocol WRITE throughput and 64-byte round trip against raw
 * TCP between the same two processes (fleet started with --bench), and, on a shaped fleet, host-link writes and
 * card-to-card messages against the rev-A model.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=bench-hostlink")
public final class BenchHostLinkCommand extends AbstractConsoleCommand {
    private static final double HOST_LINK_BPS = 100e6;
    private static final double HOST_LINK_LATENCY = 50e-6;
    private static final double LINK_PAYLOAD_BPS = 500e6 * 512 / 524;
    private static final double LINK_LATENCY = 1e-6;

    public BenchHostLinkCommand() {
        super("bench-hostlink", "Host-link protocol vs raw TCP on the running fleet; shaped: measured vs the rev-A model",
                List.of(OptionSpec.value("mib", "N", "MiB per WRITE measurement", "64"),
                        OptionSpec.value("rounds", "R", "repetitions (unshaped: the median counts, protocol and raw TCP"
                                + " alternating; shaped: the best)", "3"),
                        OptionSpec.value("pings", "P", "64-byte round trips (the median counts)", "2000")));
    }

    @Override
    protected Report run(Arguments arguments) {
        int mib = arguments.integer("mib", 64);
        int rounds = arguments.integer("rounds", 3);
        int pings = arguments.integer("pings", 2000);
        if (mib < 1 || mib > 1024 || rounds < 1 || pings < 10) {
            throw new UsageException("--mib 1..1024, --rounds >= 1, --pings >= 10");
        }
        Fleet.State state = Fleet.read(Fleet.defaultDirectory()).orElseThrow(() -> new DeviceException(
                "no fleet is running: start one with 'spanker fleet start --cards 2 [--unshaped] --bench'"));
        byte[] secret = Fleet.secret(state);
        // measured: the protocol's (unshaped) or the shaped link's figure; reference: raw TCP or the link model's
        Rows rows = new Rows("rows", "Host link and links (" + (state.unshaped() ? "unshaped" : "shaped at rev-A rates")
                + "; card 0" + ")", Column.of("measure", "Measure"), Column.of("bytes", "Bytes"),
                Column.of("measured", "Protocol / measured", Unit.DECIMAL),
                Column.of("reference", "Raw TCP / model", Unit.DECIMAL), Column.of("ratio", "Ratio", Unit.FIXED_3));
        Fleet.Member card0 = state.cards().get(0);
        try (CardConnection c = CardConnection.open(card0.endpoint(), secret, 5_000, 600_000)) {
            SailsCard card = new SailsCard(c, 0, cable -> cable);
            int bytes = mib << 20;
            // the rewrite rounds' buffer, and the 64-byte round trips' (a step's input, written token after token)
            CardBuffer buffer = card.allocate(bytes, "bench");
            ByteBuffer data = ByteBuffer.allocate(bytes);
            String raw = state.unshaped() ? card0.benchEndpoint() : null;
            if (state.unshaped()) {
                // one round of each first, not counted: both ends' JIT and the card's memory (made at first use; a
                // freed buffer's memory serves the next buffer of its size, so the first-write rounds take it ready,
                // as hardware DDR is)
                firstWrite(card, bytes, data);
                protocolWrite(card, buffer, data);
                if (raw != null) {
                    rawThroughput(raw, data);
                }
            }
            // the protocol's two kinds of round and raw TCP alternate round by round, so a neighbour's burst of work
            // falls on all alike; the median counts (the machine is shared)
            double[] firstTimes = new double[rounds];
            double[] protocolTimes = new double[rounds];
            double[] rawTimes = new double[rounds];
            // the host's CPU per byte as well: what a loaded machine's throughput ratio swings with the neighbours,
            // CPU time does much less (the sending thread, and for the protocol the thread that reads the replies)
            double[] firstCpu = new double[rounds];
            double[] rawCpu = new double[rounds];
            // and the card process's CPU per byte for each kind of round (the whole process: its session thread reads
            // the socket into DDR and sums the CRC; raw TCP's sink only reads), where a first write's and a rewrite's
            // costs on the card can be told apart on a loaded machine
            Card cardCpu = new Card(card0.pid());
            double[] firstCardCpu = new double[rounds];
            double[] rewriteCardCpu = new double[rounds];
            double[] rawCardCpu = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                // the three kinds take turns at going first, so none always follows the same one (a round after a
                // FREE and an ALLOC, or after raw TCP's sink has had the card's cores, is not always the same kind's)
                for (int turn = 0; turn < 3; turn++) {
                    int kind = (r + turn) % 3;
                    if (kind == 0 && state.unshaped()) {
                        long cpu = THREADS.getCurrentThreadCpuTime() + c.readerCpuNanos();
                        long onCard = cardCpu.nanos();
                        firstTimes[r] = firstWrite(card, bytes, data);
                        firstCardCpu[r] = (cardCpu.nanos() - onCard) / 1e9 / bytes;
                        firstCpu[r] = (THREADS.getCurrentThreadCpuTime() + c.readerCpuNanos() - cpu) / 1e9 / bytes;
                    } else if (kind == 1 && raw != null) {
                        long cpu = THREADS.getCurrentThreadCpuTime();
                        long onCard = cardCpu.nanos();
                        rawTimes[r] = bytes / rawThroughput(raw, data);
                        rawCardCpu[r] = (cardCpu.nanos() - onCard) / 1e9 / bytes;
                        rawCpu[r] = (THREADS.getCurrentThreadCpuTime() - cpu) / 1e9 / bytes;
                    } else if (kind == 2) {
                        long onCard = cardCpu.nanos();
                        protocolTimes[r] = protocolWrite(card, buffer, data);
                        rewriteCardCpu[r] = (cardCpu.nanos() - onCard) / 1e9 / bytes;
                    }
                }
            }
            double best = Arrays.stream(protocolTimes).min().orElseThrow();
            double[] pingTimes = new double[pings];
            double[] rawPingTimes = new double[pings];
            ByteBuffer small = ByteBuffer.allocate(64);
            try (RawEcho echo = raw != null ? new RawEcho(raw) : null) {
                // in blocks of 100, alternating
                for (int from = 0; from < pings; from += PING_BLOCK) {
                    int to = Math.min(pings, from + PING_BLOCK);
                    for (int i = from; i < to; i++) {
                        long t0 = System.nanoTime();
                        card.write(buffer, 0, small.duplicate());
                        card.settleWrites();
                        pingTimes[i] = (System.nanoTime() - t0) / 1e9;
                    }
                    if (echo != null) {
                        for (int i = from; i < to; i++) {
                            rawPingTimes[i] = echo.roundTrip();
                        }
                    }
                }
            } catch (IOException e) {
                throw new DeviceException("raw TCP ping-pong failed: " + e.getMessage());
            }
            double protocolPing = median(pingTimes);
            if (state.unshaped()) {
                Double rawRate = raw == null ? null : bytes / median(rawTimes);
                Double rawPing = raw == null ? null : median(rawPingTimes);
                // first writes are what a load does (each range written once), the headline; rewrites keep an undo
                // copy of what they overwrite (docs/sails.md, "What the WRITE benchmark measures")
                row(rows, FIRST_WRITES, bytes, bytes / median(firstTimes), rawRate);
                row(rows, REWRITES, bytes, bytes / median(protocolTimes), rawRate);
                row(rows, "64-byte round trip (s)", 64, protocolPing, rawPing);
                if (THREADS.isCurrentThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled()) {
                    row(rows, "host CPU per WRITE byte, first writes (s)", bytes, median(firstCpu), raw == null
                            ? null : median(rawCpu));
                }
                if (cardCpu.known()) {
                    row(rows, "card CPU per WRITE byte, first writes (s)", bytes, median(firstCardCpu), raw == null
                            ? null : median(rawCardCpu));
                    row(rows, "card CPU per WRITE byte, rewrites (s)", bytes, median(rewriteCardCpu), raw == null
                            ? null : median(rawCardCpu));
                }
            } else {
                // the chunks follow each other on the link: the latency is paid once
                double predicted = bytes / HOST_LINK_BPS + HOST_LINK_LATENCY;
                row(rows, "host-link WRITE (s)", bytes, best, predicted);
                row(rows, "64-byte WRITE round trip (s)", 64, protocolPing, 64 / HOST_LINK_BPS
                        + HOST_LINK_LATENCY);
                if (state.cards().size() >= 2) {
                    linkMessages(state, secret, rows);
                }
            }
            card.free(buffer);
        }
        Report report = new Report().rows(rows);
        if (state.unshaped() && card0.benchEndpoint() == null) {
            report.line("no raw TCP reference: start the fleet with 'fleet start --unshaped --bench'");
        }
        report.line("the machine runs other work: treat the numbers as indicative; ratios are protocol/raw or"
                + " measured/model");
        report.put("shaped", !state.unshaped());
        return report;
    }

    /** A SEND on card 0 and a RECEIVE on card 1 per size: submit to both completions, against the link model. */
    private static void linkMessages(Fleet.State state, byte[] secret, Rows rows) {
        try (CardConnection c0 = CardConnection.open(state.cards().get(0).endpoint(), secret, 5_000, 600_000);
                CardConnection c1 = CardConnection.open(state.cards().get(1).endpoint(), secret, 5_000, 600_000)) {
            ProgramEpochs epochs = new ProgramEpochs();
            SailsCard sender = new SailsCard(c0, 0, cable -> cable, epochs);
            SailsCard receiver = new SailsCard(c1, 1, cable -> cable, epochs);
            int toward = sender.identity().portTo(1);
            int from = receiver.identity().portTo(0);
            for (int size : new int[] {64 << 10, 1 << 20, 16 << 20}) {
                CardBuffer out = sender.allocate(size, "send");
                CardBuffer in = receiver.allocate(size, "receive");
                double best = Double.MAX_VALUE;
                for (int r = 0; r < 3; r++) {
                    long t0 = System.nanoTime();
                    CompletableFuture<?> rx = receiver.submit(Program.of("rx", new Op.Receive(from, Slice.of(in),
                            Slice.NONE, Combine.COPY)));
                    CompletableFuture<?> tx = sender.submit(Program.of("tx", new Op.Send(toward, Slice.of(out),
                            Slice.NONE)));
                    tx.get(60, TimeUnit.SECONDS);
                    rx.get(60, TimeUnit.SECONDS);
                    best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                }
                row(rows, "link message card 0 -> 1 (s)", size, best, LINK_LATENCY + size / LINK_PAYLOAD_BPS);
                sender.free(out);
                receiver.free(in);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeviceException("interrupted");
        } catch (ExecutionException | TimeoutException e) {
            throw new DeviceException("link measurement failed: " + e.getMessage());
        }
    }

    private static void row(Rows rows, String measure, long bytes, double measured, Double reference) {
        rows.add(measure, bytes, measured, reference, reference == null ? null : measured / reference);
    }

    private static final int PING_BLOCK = 100;
    private static final ThreadMXBean THREADS = ManagementFactory
            .getThreadMXBean();

    /** The headline row: WRITEs into a buffer nobody wrote before, as a model load writes its weights. */
    static final String FIRST_WRITES = "WRITE throughput, first writes (B/s)";
    /** WRITEs over bytes written before: the card keeps an undo copy of each chunk's range until its CRC passes. */
    static final String REWRITES = "WRITE throughput, rewrites (B/s)";

    /**
     * Seconds for one WRITE of all of {@code data} into a buffer allocated for it and freed after (not timed), until
     * the card has answered its last chunk.
     */
    private static double firstWrite(SailsCard card, int bytes, ByteBuffer data) {
        CardBuffer fresh = card.allocate(bytes, "bench first write");
        try {
            return protocolWrite(card, fresh, data);
        } finally {
            card.free(fresh);
        }
    }

    /** Seconds for one WRITE of all of {@code data}, until the card has answered its last chunk. */
    private static double protocolWrite(SailsCard card, CardBuffer buffer, ByteBuffer data) {
        long t0 = System.nanoTime();
        card.write(buffer, 0, data.duplicate());
        card.settleWrites();
        return (System.nanoTime() - t0) / 1e9;
    }

    /**
     * Bytes per second of one raw stream of all of {@code data} into the card process's memory, in 1 MiB writes. The
     * same bytes the protocol sends, not one block again and again: a block the caches hold is cheaper to send than
     * a buffer that streams from memory, which would flatter raw TCP against the protocol. The card's side reads them
     * into a 64 KiB buffer ({@code S}), or, with -Dspanker.bench.rawSink=M, into memory as large as the stream.
     */
    private static double rawThroughput(String endpoint, ByteBuffer data) {
        String[] hp = CardConnection.splitEndpoint(endpoint);
        int bytes = data.remaining();
        byte[] source = data.array();
        int block = 1 << 20;
        try (Socket s = new Socket(hp[0], Integer.parseInt(hp[1]))) {
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            long t0 = System.nanoTime();
            if (MEMORY_SINK) {
                out.write('M');
                out.write(ByteBuffer.allocate(Long.BYTES).putLong(bytes).array());
            } else {
                out.write('S');
            }
            for (int done = 0; done < bytes; done += block) {
                out.write(source, data.arrayOffset() + data.position() + done, Math.min(block, bytes - done));
            }
            s.shutdownOutput();
            long received = new DataInputStream(s.getInputStream()).readLong();
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (received != bytes) {
                throw new DeviceException("the raw sink counted " + received + " bytes of " + bytes);
            }
            return bytes / seconds;
        } catch (IOException e) {
            throw new DeviceException("raw TCP measurement failed: " + e.getMessage());
        }
    }

    /** The card process's CPU time so far, as the OS counts it (where it tells: Linux, macOS). */
    private static final class Card {
        private final ProcessHandle process;

        Card(long pid) {
            process = ProcessHandle.of(pid).orElse(null);
        }

        boolean known() {
            return process != null && process.info().totalCpuDuration().isPresent();
        }

        long nanos() {
            return process == null ? 0 : process.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
        }
    }

    /**
     * -Dspanker.bench.rawSink=M: raw TCP's reference lands in memory as large as the stream, read straight from the
     * socket's channel (one copy, into memory that streams from DRAM, as a WRITE lands in DDR), instead of the default
     * 64 KiB buffer read through the socket's stream (two copies, both in cache). The card's CPU per byte is about half
     * the default sink's with it (session 11, loaded: 0.26-0.30 against 0.56-0.63 ns): a stricter reference. The
     * default stays the sink every committed figure was measured against.
     */
    private static final boolean MEMORY_SINK = "M".equals(System.getProperty("spanker.bench.rawSink"));

    /** A raw TCP connection to the card process's 64-byte echo. */
    private static final class RawEcho implements AutoCloseable {
        private final Socket socket;
        private final DataOutputStream out;
        private final DataInputStream in;
        private final byte[] message = new byte[64];

        RawEcho(String endpoint) throws IOException {
            String[] hp = CardConnection.splitEndpoint(endpoint);
            socket = new Socket(hp[0], Integer.parseInt(hp[1]));
            socket.setTcpNoDelay(true);
            out = new DataOutputStream(socket.getOutputStream());
            in = new DataInputStream(socket.getInputStream());
            out.write('E');
        }

        double roundTrip() throws IOException {
            long t0 = System.nanoTime();
            out.write(message);
            out.flush();
            in.readFully(message);
            return (System.nanoTime() - t0) / 1e9;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

}
