package org.popsolutions.spanker.card.emulator;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.popsolutions.spanker.api.card.LinkPort;
import org.popsolutions.spanker.api.card.PortStatus;
import org.popsolutions.spanker.api.card.PortTraffic;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.protocol.Handshake;
import org.popsolutions.spanker.protocol.MalformedFrameException;

/**
 * The card's inter-card ports: one TCP listener for the ends that wait, a connection per cabled port, and the MAST
 * link state machine on each (DOWN → TRAINING → UP; FAULT on a lost peer or a bad frame; DOWN when disabled).
 */
final class LinkPorts implements AutoCloseable {
    /** Receives every state change. */
    interface Listener {
        void changed(int port, int neighbour, LinkState state, LinkState previous, String reason);
    }

    /** A port was not UP when an op needed it. */
    static final class LinkDown extends Exception {
        private static final long serialVersionUID = 1L;

        LinkDown(String message) {
            super(message);
        }
    }

    private final EmulatorOptions options;
    private final CardClock clock;
    private final Listener listener;
    private final ServerSocket server;
    private final Map<Integer, Port> ports = new ConcurrentHashMap<>();
    private volatile int cardIndex = -1;
    private volatile boolean closed;
    /** The epoch of the program running now: its sends carry it, its receives take only messages of it. */
    private volatile long programEpoch;
    /** Why the running program was given up, asked once it is. */
    private volatile Supplier<String> givenUpBecause = () -> "the program was given up";
    /**
     * When this card, or a card it hears from, last made progress (an op finished, link data arrived): a receive
     * times out only after the receive timeout without progress anywhere it can see, not after a fixed wait that a
     * loaded machine can exceed while its partners still compute.
     */
    private final AtomicLong lastProgressNanos = new AtomicLong(System.nanoTime());
    /** The message the running program took last (any port) and its hardware arrival: a FORWARD sends it on cut-through. */
    private byte[] lastTaken;
    private long lastTakenArrival;

    LinkPorts(EmulatorOptions options, CardClock clock, Listener listener) throws IOException {
        this.options = options;
        this.clock = clock;
        this.listener = listener;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(options.bind(), options.linkPort()));
        Thread acceptor = new Thread(this::acceptLoop, "link-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        Thread beacon = new Thread(this::beaconLoop, "link-progress");
        beacon.setDaemon(true);
        beacon.start();
    }

    /** A program starts: what it sends carries {@code epoch}, and it takes only messages of that epoch. */
    void beginProgram(long epoch, Supplier<String> whyGivenUp) {
        programEpoch = epoch;
        givenUpBecause = whyGivenUp;
        progressed();
    }

    /** The running program finished an op. */
    void progressed() {
        lastProgressNanos.accumulateAndGet(System.nanoTime(), Math::max);
    }

    /** How often each UP port tells its neighbour how long ago this card last progressed. */
    long beaconPeriodNanos() {
        return Math.max(1_000_000L, Math.min(200_000_000L, options.receiveTimeoutMillis() * 1_000_000L / 5));
    }

    private void beaconLoop() {
        while (!closed) {
            LockSupportSleep.nanos(beaconPeriodNanos());
            long age = Math.max(0, System.nanoTime() - lastProgressNanos.get());
            for (Port p : ports.values()) {
                p.beacon(age);
            }
        }
    }

    int listeningPort() {
        return server.getLocalPort();
    }

    int cardIndex() {
        return cardIndex;
    }

    /** Plugs a cable (LINK_CABLE). Re-cabling a port takes it down first. */
    void cable(int index, int port, int neighbourCard, int neighbourPort, boolean connect, String endpoint) {
        cardIndex = index;
        Port old = ports.get(port);
        if (old != null) {
            old.disable("re-cabled");
        }
        ports.put(port, new Port(port, neighbourCard, neighbourPort, connect, endpoint));
    }

    List<LinkPort> describe() {
        List<LinkPort> out = new ArrayList<>();
        for (Port p : sorted()) {
            out.add(new LinkPort(p.number, p.neighbourCard, p.neighbourPort, (long) options.linkBytesPerSecond(),
                    options.linkLatencySeconds()));
        }
        return out;
    }

    List<PortStatus> status() {
        return sorted().stream().map(p -> new PortStatus(p.number, p.state)).toList();
    }

    List<PortTraffic> traffic() {
        return sorted().stream().map(p -> new PortTraffic(p.number, p.sentBytes.get(), p.sentMessages.get(),
                p.receivedBytes.get(), p.receivedMessages.get())).toList();
    }

    private List<Port> sorted() {
        return ports.values().stream().sorted((a, b) -> Integer.compare(a.number, b.number)).toList();
    }

    /** LINK_ENABLE. */
    void enable(int port, boolean enabled) throws LinkDown {
        Port p = port(port);
        if (enabled) {
            p.train();
        } else {
            p.disable("disabled by the host");
        }
    }

    Port port(int port) throws LinkDown {
        Port p = ports.get(port);
        if (p == null) {
            throw new LinkDown("port " + port + " is not cabled on this card");
        }
        return p;
    }

    /**
     * Drops the messages waiting on the ports that programs of epochs {@code first..last} sent: a host that is gone
     * will never take them, and a later program would take them as its own. Messages of other epochs (a later host's
     * programs, already running on other cards) stay. Returns how many were dropped.
     */
    int dropWaitingMessages(long first, long last) {
        int dropped = 0;
        for (Port p : ports.values()) {
            dropped += p.dropWaiting(first, last);
        }
        return dropped;
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        ports.values().forEach(p -> p.disable("card stopping"));
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return;
            }
            Thread t = new Thread(() -> answer(socket), "link-answer");
            t.setDaemon(true);
            t.start();
        }
    }

    /** The waiting end: the first TRAIN names the port it is for and proves the fleet secret. */
    private void answer(Socket socket) {
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout((int) options.trainTimeoutMillis());
            InputStream in = new BufferedInputStream(socket.getInputStream());
            LinkFrames.LinkFrame first = LinkFrames.read(in);
            Train train = Train.decode(first);
            Port p = ports.get(train.targetPort);
            if (p == null || p.connect || p.neighbourCard != train.card || p.neighbourPort != train.port
                    || !Handshake.matches(train.proof(options.secret()), train.proof)) {
                log("link connection refused: card " + train.card + " port " + train.port + " does not match port "
                        + train.targetPort + "'s cable, or its proof is wrong");
                socket.close();
                return;
            }
            p.answerTraining(socket, in, train);
        } catch (IOException | MalformedFrameException e) {
            log("link connection dropped before training: " + e.getMessage());
            closeQuietly(socket);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    static void log(String line) {
        System.err.println("card-emulator: " + line);
    }

    /** A TRAIN frame's payload. */
    private record Train(int card, int port, int targetPort, int cycle, byte[] proof) {
        byte[] encode() {
            return ByteBuffer.allocate(16 + proof.length).order(ByteOrder.LITTLE_ENDIAN).putInt(card).putInt(port)
                    .putInt(targetPort).putInt(cycle).put(proof).array();
        }

        byte[] proof(byte[] secret) {
            byte[] who = ByteBuffer.allocate(Handshake.NONCE_BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(card)
                    .putInt(port).putInt(targetPort).array();
            return Handshake.cardProof(secret, who, who);
        }

        static Train decode(LinkFrames.LinkFrame f) throws MalformedFrameException {
            if (f.type() != LinkFrames.TRAIN || f.payload().length != 16 + Handshake.PROOF_BYTES) {
                throw new MalformedFrameException("expected a TRAIN frame of " + (16 + Handshake.PROOF_BYTES)
                        + " bytes");
            }
            ByteBuffer b = ByteBuffer.wrap(f.payload()).order(ByteOrder.LITTLE_ENDIAN);
            byte[] proof = new byte[Handshake.PROOF_BYTES];
            Train t = new Train(b.getInt(), b.getInt(), b.getInt(), b.getInt(), proof);
            b.get(proof);
            return t;
        }
    }

    final class Port {
        final int number;
        final int neighbourCard;
        final int neighbourPort;
        final boolean connect;
        final String endpoint;
        /** When this direction of the link is free again, in hardware time (shaped cards; the work thread's). */
        private long linkFreeNanos = Long.MIN_VALUE;
        final AtomicLong sentBytes = new AtomicLong();
        final AtomicLong sentMessages = new AtomicLong();
        final AtomicLong receivedBytes = new AtomicLong();
        final AtomicLong receivedMessages = new AtomicLong();
        private final LinkedBlockingDeque<Arrived> arrived = new LinkedBlockingDeque<>();
        private volatile LinkState state = LinkState.DOWN;
        private volatile String reason = "not trained";
        private Socket socket;
        private OutputStream out;
        private long generation;

        Port(int number, int neighbourCard, int neighbourPort, boolean connect, String endpoint) {
            this.number = number;
            this.neighbourCard = neighbourCard;
            this.neighbourPort = neighbourPort;
            this.connect = connect;
            this.endpoint = endpoint;
        }

        LinkState state() {
            return state;
        }

        private synchronized void move(LinkState next, String why) {
            LinkState previous = state;
            if (previous == next && next != LinkState.FAULT) {
                return;
            }
            state = next;
            reason = why;
            log("port " + number + " (to card " + neighbourCard + "): " + previous + " -> " + next + " (" + why + ")");
            listener.changed(number, neighbourCard, next, previous, why);
        }

        /** Starts training; the connecting end dials its peer, the waiting end waits for the peer's TRAIN. */
        synchronized void train() {
            if (state == LinkState.UP || state == LinkState.TRAINING) {
                return;
            }
            dropConnection();
            arrived.clear();
            long myGeneration = ++generation;
            move(LinkState.TRAINING, "training requested");
            if (connect) {
                Thread t = new Thread(() -> dial(myGeneration), "link-dial-" + number);
                t.setDaemon(true);
                t.start();
            }
        }

        synchronized void disable(String why) {
            generation++;
            dropConnection();
            arrived.clear();
            move(LinkState.DOWN, why);
        }

        private synchronized void fault(long ofGeneration, String why) {
            if (ofGeneration != generation || state == LinkState.DOWN) {
                return; // a connection this port already left behind
            }
            generation++;
            dropConnection();
            move(LinkState.FAULT, why);
        }

        private void dropConnection() {
            if (socket != null) {
                closeQuietly(socket);
                socket = null;
                out = null;
            }
        }

        private void dial(long myGeneration) {
            long deadline = System.nanoTime() + options.trainTimeoutMillis() * 1_000_000L;
            String[] hostPort = endpoint.split(":");
            IOException last = null;
            while (System.nanoTime() < deadline) {
                synchronized (this) {
                    if (myGeneration != generation) {
                        return;
                    }
                }
                Socket s = new Socket();
                try {
                    s.setTcpNoDelay(true);
                    s.connect(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), 2_000);
                    s.setSoTimeout((int) options.trainTimeoutMillis());
                    OutputStream o = new BufferedOutputStream(s.getOutputStream(), 1 << 16);
                    InputStream in = new BufferedInputStream(s.getInputStream(), 1 << 16);
                    for (int cycle = 0; cycle < LinkFrames.TRAIN_CYCLES; cycle++) {
                        Train t = new Train(cardIndex, number, neighbourPort, cycle, new byte[Handshake.PROOF_BYTES]);
                        byte[] payload = new Train(t.card, t.port, t.targetPort, cycle, t.proof(options.secret()))
                                .encode();
                        LinkFrames.write(o, LinkFrames.TRAIN, payload, 0, payload.length);
                        o.flush();
                        Train echo = Train.decode(LinkFrames.read(in));
                        if (echo.cycle != cycle || echo.card != neighbourCard || echo.port != neighbourPort) {
                            throw new MalformedFrameException("training echo for cycle " + cycle + " came back as "
                                    + echo);
                        }
                    }
                    s.setSoTimeout(0);
                    if (!up(myGeneration, s, o)) {
                        closeQuietly(s);
                        return;
                    }
                    readLoop(myGeneration, in);
                    return;
                } catch (IOException e) {
                    closeQuietly(s);
                    last = e;
                    LockSupportSleep.millis(100);
                } catch (MalformedFrameException e) {
                    closeQuietly(s);
                    fault(myGeneration, "training failed: " + e.getMessage());
                    return;
                }
            }
            fault(myGeneration, "peer card " + neighbourCard + " at " + endpoint + " did not answer training within "
                    + options.trainTimeoutMillis() + " ms" + (last == null ? "" : ": " + last.getMessage()));
        }

        void answerTraining(Socket s, InputStream in, Train first) throws IOException, MalformedFrameException {
            long myGeneration;
            synchronized (this) {
                if (state != LinkState.TRAINING) {
                    log("port " + number + ": training from card " + first.card + " refused, the port is " + state);
                    s.close();
                    return;
                }
                myGeneration = generation;
            }
            OutputStream o = new BufferedOutputStream(s.getOutputStream(), 1 << 16);
            Train t = first;
            for (int cycle = 0; cycle < LinkFrames.TRAIN_CYCLES; cycle++) {
                if (cycle > 0) {
                    t = Train.decode(LinkFrames.read(in));
                }
                if (t.cycle != cycle) {
                    fault(myGeneration, "training cycle " + t.cycle + " arrived, expected " + cycle);
                    s.close();
                    return;
                }
                byte[] echo = new Train(cardIndex, number, neighbourPort, cycle, new byte[Handshake.PROOF_BYTES])
                        .encode();
                LinkFrames.write(o, LinkFrames.TRAIN, echo, 0, echo.length);
                o.flush();
            }
            s.setSoTimeout(0);
            if (up(myGeneration, s, o)) {
                readLoop(myGeneration, in);
            } else {
                s.close();
            }
        }

        private synchronized boolean up(long myGeneration, Socket s, OutputStream o) {
            if (myGeneration != generation) {
                return false;
            }
            socket = s;
            out = o;
            move(LinkState.UP, "trained in " + LinkFrames.TRAIN_CYCLES + " cycles");
            return true;
        }

        private void readLoop(long myGeneration, InputStream in) {
            ByteArrayOutputStream message = new ByteArrayOutputStream();
            try {
                while (true) {
                    LinkFrames.LinkFrame f = LinkFrames.read(in);
                    if (f.type() == LinkFrames.TRAIN) {
                        throw new MalformedFrameException("TRAIN frame on a trained link");
                    }
                    if (state != LinkState.UP) {
                        throw new MalformedFrameException("data while the port is " + state);
                    }
                    if (f.type() == LinkFrames.PROGRESS) {
                        if (message.size() > 0 || f.payload().length != Long.BYTES) {
                            throw new MalformedFrameException("a PROGRESS frame of " + f.payload().length
                                    + " bytes" + (message.size() > 0 ? " inside a message" : ""));
                        }
                        long age = ByteBuffer.wrap(f.payload()).order(ByteOrder.LITTLE_ENDIAN).getLong();
                        if (age >= 0) {
                            lastProgressNanos.accumulateAndGet(System.nanoTime() - age, Math::max);
                        }
                        continue;
                    }
                    progressed();
                    if ((long) message.size() + f.payload().length > options.memoryBytes()
                            + LinkFrames.MESSAGE_HEADER_BYTES) {
                        throw new MalformedFrameException("a link message longer than the card's DDR");
                    }
                    if (message.size() == 0 && f.type() == LinkFrames.DATA_END) {
                        // one fragment, the usual case: no assembly
                        deliver(f.payload());
                        continue;
                    }
                    message.write(f.payload());
                    if (f.type() == LinkFrames.DATA_END) {
                        byte[] whole = message.toByteArray();
                        message.reset();
                        deliver(whole);
                    }
                }
            } catch (IOException e) {
                fault(myGeneration, "peer card " + neighbourCard + " lost: " + e.getMessage());
            } catch (MalformedFrameException e) {
                fault(myGeneration, "bad frame from card " + neighbourCard + ": " + e.getMessage());
            }
        }

        private void deliver(byte[] stamped) throws MalformedFrameException {
            if (stamped.length < LinkFrames.MESSAGE_HEADER_BYTES) {
                throw new MalformedFrameException("a link message of " + stamped.length + " bytes has no header");
            }
            ByteBuffer header = ByteBuffer.wrap(stamped).order(ByteOrder.LITTLE_ENDIAN);
            long epoch = header.getLong(0);
            long arrival = header.getLong(8);
            byte[] whole = java.util.Arrays.copyOfRange(stamped, LinkFrames.MESSAGE_HEADER_BYTES, stamped.length);
            receivedBytes.addAndGet(whole.length);
            receivedMessages.incrementAndGet();
            arrived.add(new Arrived(epoch, arrival, whole));
        }

        /** Tells the neighbour how long ago this card last progressed (best effort: a lost peer faults elsewhere). */
        void beacon(long ageNanos) {
            OutputStream o;
            synchronized (this) {
                if (state != LinkState.UP) {
                    return;
                }
                o = out;
            }
            byte[] age = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(ageNanos).array();
            try {
                synchronized (o) {
                    LinkFrames.write(o, LinkFrames.PROGRESS, age, 0, age.length);
                    o.flush();
                }
            } catch (IOException e) {
                // the read side notices a lost peer and faults the port
            }
        }

        /**
         * Sends one message. On a shaped card it leaves at the card's hardware time, once the link direction is free,
         * and arrives the link's latency plus its bytes at the link's rate later: the receiver's clock takes that
         * time, however early the bytes come over TCP. The sender goes on (a DMA engine per port: sends on different
         * ports overlap, sends on one port queue), as the link model's steps assume. A FORWARD passes the message on
         * cut-through: it leaves as soon as its first bytes came in.
         */
        void send(byte[] message) throws LinkDown {
            long arrival = 0;
            if (clock.shaped() && options.linkBytesPerSecond() > 0) {
                long wire = (long) (message.length / options.dilatedRate(options.linkBytesPerSecond()) * 1e9);
                long ready = message == lastTaken ? lastTakenArrival - wire : clock.hardwareNanos();
                long start = Math.max(ready, linkFreeNanos);
                linkFreeNanos = start + wire;
                arrival = linkFreeNanos + (long) (options.dilatedSeconds(options.linkLatencySeconds()) * 1e9);
            }
            long myGeneration;
            OutputStream o;
            synchronized (this) {
                if (state != LinkState.UP) {
                    throw new LinkDown("port " + number + " (to card " + neighbourCard + ") is " + state + ": " + reason);
                }
                o = out;
                myGeneration = generation;
            }
            try {
                long epoch = programEpoch;
                synchronized (o) {
                    int at = 0;
                    do {
                        int n = Math.min(LinkFrames.MAX_FRAGMENT, message.length - at);
                        int type = at + n == message.length ? LinkFrames.DATA_END : LinkFrames.DATA_MORE;
                        LinkFrames.write(o, type, at == 0, epoch, arrival, message, at, n);
                        at += n;
                    } while (at < message.length);
                    o.flush();
                }
            } catch (IOException e) {
                fault(myGeneration, "peer card " + neighbourCard + " lost while sending: " + e.getMessage());
                throw new LinkDown("port " + number + " (to card " + neighbourCard + ") failed: " + e.getMessage());
            }
            sentBytes.addAndGet(message.length);
            sentMessages.incrementAndGet();
        }

        int dropWaiting(long first, long last) {
            int dropped = 0;
            for (Arrived m : arrived) {
                if (m.epoch >= first && m.epoch <= last && arrived.removeFirstOccurrence(m)) {
                    dropped++;
                }
            }
            return dropped;
        }

        /**
         * The running program's next message: messages of earlier epochs (left by programs their host gave up) are
         * dropped; one of a later epoch means the host gave this program up, and stays for the program it is for.
         * Fails as soon as the port leaves UP or {@code abandoned} says the program is given up, and after the
         * receive timeout without progress on this card or any card it hears from (a partner that still computes,
         * however slowly, keeps the wait alive; cards that all wait on each other do not).
         */
        byte[] take(BooleanSupplier abandoned) throws LinkDown, InterruptedException {
            long epoch = programEpoch;
            long waitStart = System.nanoTime();
            long bound = options.dilatedReceiveTimeoutMillis() * 1_000_000L;
            int dropped = 0;
            while (true) {
                Arrived m = arrived.poll(20, TimeUnit.MILLISECONDS);
                if (m != null) {
                    if (m.epoch == epoch) {
                        if (dropped > 0) {
                            log("port " + number + ": dropped " + dropped + " message(s) left by given-up programs");
                        }
                        clock.arrived(m.arrival);
                        lastTaken = m.bytes;
                        lastTakenArrival = m.arrival;
                        return m.bytes;
                    }
                    if (m.epoch < epoch) {
                        dropped++;
                        continue;
                    }
                    arrived.offerFirst(m);
                    throw new LinkDown("a message of a later program (epoch " + m.epoch + ") arrived on port "
                            + number + " from card " + neighbourCard + " while this program (epoch " + epoch
                            + ") waited: its host has given it up");
                }
                if (abandoned.getAsBoolean()) {
                    throw new LinkDown(givenUpBecause.get() + ": it stopped waiting on port " + number
                            + " (from card " + neighbourCard + ")");
                }
                if (state != LinkState.UP) {
                    throw new LinkDown("port " + number + " (from card " + neighbourCard + ") is " + state + ": "
                            + reason);
                }
                long now = System.nanoTime();
                if (now - Math.max(waitStart, lastProgressNanos.get()) > bound) {
                    throw new LinkDown("nothing arrived on port " + number + " from card " + neighbourCard
                            + ", and no card it hears from made progress, within " + options.dilatedReceiveTimeoutMillis()
                            + " ms");
                }
            }
        }
    }

    /** A message as it arrived: the epoch of the program that sent it, its hardware arrival time, its bytes. */
    private record Arrived(long epoch, long arrival, byte[] bytes) {
    }

    /** Sleeps without caring about interrupts (daemon link threads only). */
    static final class LockSupportSleep {
        private LockSupportSleep() {
        }

        static void millis(long ms) {
            nanos(ms * 1_000_000L);
        }

        static void nanos(long ns) {
            java.util.concurrent.locks.LockSupport.parkNanos(ns);
        }
    }

    static boolean isTimeout(IOException e) {
        return e instanceof SocketTimeoutException;
    }
}
