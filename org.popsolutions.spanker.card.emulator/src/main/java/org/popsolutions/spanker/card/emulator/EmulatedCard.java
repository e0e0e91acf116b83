package org.popsolutions.spanker.card.emulator;

import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.OpCode;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;
import org.popsolutions.spanker.protocol.Frame;
import org.popsolutions.spanker.protocol.FrameReader;
import org.popsolutions.spanker.protocol.FrameWriter;
import org.popsolutions.spanker.protocol.Handshake;
import org.popsolutions.spanker.protocol.MalformedFrameException;
import org.popsolutions.spanker.protocol.MessageType;
import org.popsolutions.spanker.protocol.Messages;
import org.popsolutions.spanker.protocol.ProgramCodec;
import org.popsolutions.spanker.protocol.Wire;
import org.popsolutions.spanker.protocol.WireError;

/**
 * One emulated card: its DDR, its ports, a work queue that runs programs in arrival order, and the host-link
 * listener that serves each connection on its own thread (a bad connection is closed; the others go on).
 */
final class EmulatedCard implements AutoCloseable {
    static final String FIRMWARE = "spanker-card-emulator-1";
    /** Connections served at once; more are closed at accept. */
    static final int MAX_CONNECTIONS = 64;
    private static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;

    private final EmulatorOptions options;
    private final Ddr ddr;
    private final LinkPorts links;
    private final OpInterpreter interpreter;
    private final CardClock clock;
    private final ExecutorService work = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "card-work");
        t.setDaemon(true);
        return t;
    });
    private final ServerSocket server;
    private final Pacer hostLink;
    private final Set<Session> sessions = new CopyOnWriteArraySet<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicLong hostWriteBytes = new AtomicLong();
    private final AtomicLong hostWrites = new AtomicLong();
    private final AtomicLong hostReadBytes = new AtomicLong();
    private final AtomicLong hostReads = new AtomicLong();
    private final AtomicLong programs = new AtomicLong();
    private final AtomicLong opsRun = new AtomicLong();
    private final AtomicLong busyNanos = new AtomicLong();
    /** Programs submitted and not yet finished (queued or running on the work queue). */
    private final AtomicInteger programsQueued = new AtomicInteger();
    private final Object stopped = new Object();
    private volatile boolean closing;

    EmulatedCard(EmulatorOptions options) throws IOException {
        this.options = options;
        this.ddr = new Ddr(options.memoryBytes());
        this.clock = new CardClock(options);
        this.links = new LinkPorts(options, clock, this::linkChanged);
        this.interpreter = new OpInterpreter(ddr, links, options);
        this.hostLink = options.unshaped() ? Pacer.unshaped()
                : new Pacer(options.hostLinkRate(), options.hostLinkLatency());
        // a channel's server socket: its connections have channels, which read a WRITE's data without a second copy
        this.server = ServerSocketChannel.open().socket();
        server.bind(new InetSocketAddress(options.bind(), options.hostPort()));
        Thread acceptor = new Thread(this::acceptLoop, "host-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int hostPort() {
        return server.getLocalPort();
    }

    int linkPort() {
        return links.listeningPort();
    }

    /** Blocks until SHUTDOWN or close. */
    void awaitStop() throws InterruptedException {
        synchronized (stopped) {
            while (!closing) {
                stopped.wait();
            }
        }
    }

    @Override
    public void close() {
        synchronized (stopped) {
            closing = true;
            stopped.notifyAll();
        }
        try {
            server.close();
        } catch (IOException ignored) {
            // stopping anyway
        }
        links.close();
        work.shutdownNow();
        interpreter.close();
        sessions.forEach(Session::close);
    }

    private void acceptLoop() {
        while (!closing) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return;
            }
            if (connections.incrementAndGet() > MAX_CONNECTIONS) {
                connections.decrementAndGet();
                LinkPorts.log("host connection refused: " + MAX_CONNECTIONS + " already open");
                closeQuietly(socket);
                continue;
            }
            Thread t = new Thread(() -> {
                try {
                    serve(socket);
                } finally {
                    connections.decrementAndGet();
                }
            }, "host-session");
            t.setDaemon(true);
            t.start();
        }
    }

    private void linkChanged(int port, int neighbour, LinkState state, LinkState previous, String reason) {
        byte[] payload = new Messages.LinkEvent(port, neighbour, state, previous, reason).encode();
        for (Session s : sessions) {
            s.send(MessageType.LINK_EVENT, 0, payload);
        }
    }

    private void serve(Socket socket) {
        Session session;
        InputStream in;
        try {
            socket.setTcpNoDelay(true);
            in = socket.getInputStream();
            session = new Session(socket, new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
        } catch (IOException e) {
            closeQuietly(socket);
            return;
        }
        String peer = socket.getRemoteSocketAddress().toString();
        try {
            socket.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
            HandshakeTimedChannel channel = new HandshakeTimedChannel(socket, in);
            FrameReader reader = new FrameReader(channel);
            if (!handshake(session, reader)) {
                return;
            }
            channel.handshakeDone();
            // authenticated: WRITE chunks now land straight in DDR, undone there when one fails its CRC
            reader.landWrites(new DdrLanding(ddr));
            socket.setSoTimeout(0);
            sessions.add(session);
            boolean timed = hostLink.shaped() || options.traceTiming();
            while (!closing) {
                // when the frame's first byte was there: a frame that waited while the card handled the one before
                // followed it back to back on the link; otherwise it started when its first byte came (only a paced
                // or traced link needs to know: unshaped, the extra look at the socket would cost every frame)
                long firstByte = Long.MIN_VALUE;
                if (timed && reader.buffered() == 0 && in.available() == 0) {
                    reader.awaitFirstByte();
                    firstByte = System.nanoTime();
                }
                MessageType type = reader.next();
                session.firstByteNanos = firstByte;
                if (reader.major() != Wire.MAJOR) {
                    throw new MalformedFrameException("a frame of protocol " + reader.version() + " inside a "
                            + Wire.version() + " session");
                }
                if (type == MessageType.WRITE && reader.landed()) {
                    wrote(session, reader.requestId(), reader.writeChunk().length());
                } else if (type == MessageType.WRITE) {
                    write(session, reader.requestId(), reader.writeChunk());
                } else if (!dispatch(session, reader.frame())) {
                    return;
                }
            }
        } catch (EOFException | SocketTimeoutException e) {
            // the host went away (or never finished its HELLO): nothing to answer
        } catch (MalformedFrameException e) {
            LinkPorts.log("closing host connection " + peer + ": malformed frame: " + e.getMessage());
            session.send(MessageType.ERROR, 0, Messages.Error.of(WireError.MALFORMED, e.getMessage()).encode());
        } catch (IOException e) {
            // connection reset: the host's side is gone
        } catch (RuntimeException e) {
            LinkPorts.log("closing host connection " + peer + ": internal error: " + e);
            session.send(MessageType.ERROR, 0, Messages.Error.of(WireError.INTERNAL, String.valueOf(e)).encode());
        } finally {
            sessions.remove(session);
            session.close();
            ended(session);
            traceWrites(session);
        }
    }

    /**
     * A host connection ended. Its programs are given up (a queued one does not start, a waiting receive or forward
     * fails at once), and once they have stopped, the messages waiting on the ports are dropped: they were sent for
     * those programs (a token that failed on another card leaves its partners' messages behind), and the next host's
     * programs would take them as their own, e.g. a forward of the hidden state taking an allreduce's chunk. The
     * mock device cannot show this, each group it opens has links of its own.
     */
    private void ended(Session session) {
        session.gone = true;
        if (!session.submitted || closing) {
            return;
        }
        // its epochs: from the first it announced (a host before 1.3's way: from 0) to the last; a later host's
        // epochs lie above them, so the messages its programs sent meanwhile stay
        long first = session.firstEpoch < 0 ? 0 : session.firstEpoch;
        long last = session.epoch;
        try {
            work.execute(() -> {
                int dropped = links.dropWaitingMessages(first, last);
                LinkPorts.log("host session ended: its programs stopped, " + dropped + " link message(s) left for"
                        + " them (epochs " + first + ".." + last + ") dropped");
            });
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // the card is stopping: nothing runs any more
        }
    }

    /** Timing trace: the host link's WRITEs since the last report (a load ends at its first SUBMIT). */
    private void traceWrites(Session session) {
        if (options.traceTiming() && session.writes > 1) {
            LinkPorts.log(String.format(java.util.Locale.ROOT, "timing host link: %d WRITEs, %d bytes, first to last"
                    + " paced %.3f s (bytes at the rate: %.3f s), idle between them (no frame waiting) %.3f s, %d"
                    + " frames queued behind the one before", session.writes, session.writeBytes,
                    (hostLink.freeAtNanos() - session.firstWrite) / 1e9, session.writeBytes
                            / options.hostLinkRate(), session.idleNanos / 1e9, session.queuedWrites));
        }
        session.writes = 0;
        session.writeBytes = 0;
        session.idleNanos = 0;
        session.queuedWrites = 0;
    }

    private boolean handshake(Session session, FrameReader in) throws IOException, MalformedFrameException {
        in.next();
        Frame hello = in.frame();
        if (hello.type() != MessageType.HELLO) {
            session.send(MessageType.ERROR, hello.requestId(), Messages.Error.of(WireError.NOT_AUTHENTICATED,
                    "a session starts with HELLO and AUTH; got " + hello.type()).encode());
            return false;
        }
        if (hello.major() != Wire.MAJOR) {
            String message = "card speaks protocol " + Wire.version() + ", the host speaks " + hello.version()
                    + ": major versions differ, use a host and a card of the same major version";
            LinkPorts.log("refusing a host: " + message);
            session.send(MessageType.ERROR, hello.requestId(), Messages.Error.of(WireError.VERSION_MISMATCH, message)
                    .encode());
            return false;
        }
        Messages.Hello h = Messages.Hello.decode(hello.payload());
        byte[] cardNonce = Handshake.nonce();
        session.hostMinor = h.minor();
        // 1.2: the dilation the card runs at and its clock now, so the host can align the programs' start and finish;
        // 1.3: its host link's own dilation, so the host paces its NIC as the card paces this link
        Messages.HelloReply reply = new Messages.HelloReply(Wire.MAJOR, Wire.MINOR, options.serial(), FIRMWARE,
                links.cardIndex(), options.memoryBytes(), weightTypes(), EnumSet.allOf(OpCode.class), links.describe(),
                cardNonce, Handshake.cardProof(options.secret(), h.hostNonce(), cardNonce), options.timeDilation(),
                System.nanoTime(), options.hostLinkDilation());
        session.send(MessageType.HELLO_REPLY, hello.requestId(), reply.encode(h.minor()));
        in.next();
        Frame auth = in.frame();
        if (auth.type() != MessageType.AUTH) {
            session.send(MessageType.ERROR, auth.requestId(), Messages.Error.of(WireError.NOT_AUTHENTICATED,
                    "expected AUTH after HELLO, got " + auth.type()).encode());
            return false;
        }
        byte[] proof = Messages.Auth.decode(auth.payload()).hostProof();
        if (!Handshake.matches(Handshake.hostProof(options.secret(), h.hostNonce(), cardNonce), proof)) {
            LinkPorts.log("refusing a host: its proof does not match the fleet secret");
            session.send(MessageType.ERROR, auth.requestId(), Messages.Error.of(WireError.AUTH_FAILED,
                    "the host's proof does not match this card's fleet secret").encode());
            return false;
        }
        session.send(MessageType.AUTH_OK, auth.requestId(), new byte[0]);
        return true;
    }

    private static Set<Integer> weightTypes() {
        Set<Integer> types = new TreeSet<>();
        for (GgmlType t : GgmlType.values()) {
            if (Kernels.supports(t) && QuantFormats.find(t).isPresent()) {
                types.add(t.id());
            }
        }
        return types;
    }

    /** Handles one request; false ends the session. */
    private boolean dispatch(Session s, Frame f) throws MalformedFrameException {
        long id = f.requestId();
        try {
            switch (f.type()) {
                case ALLOC -> {
                    Messages.Alloc a = Messages.Alloc.decode(f.payload());
                    long handle = ddr.allocate(a.bytes(), a.purpose());
                    if (handle < 0) {
                        long free = ddr.capacity() - ddr.used();
                        s.send(MessageType.ERROR, id, new Messages.Error(WireError.OUT_OF_MEMORY, -1, 0, a.bytes(), free,
                                ddr.capacity(), a.purpose() + ": " + a.bytes() + " bytes requested, " + free + " of "
                                        + ddr.capacity() + " free").encode());
                    } else {
                        s.send(MessageType.ALLOC_REPLY, id, new Messages.Handle(handle).encode());
                    }
                }
                case FREE -> {
                    keepWhenUnused(ddr.free(Messages.Handle.decode(f.payload()).handle()));
                    s.ok(id);
                }
                case WRITE -> write(s, id, Messages.WriteChunk.decode(ByteBuffer.wrap(f.payload()).order(
                        java.nio.ByteOrder.LITTLE_ENDIAN)));
                case READ -> {
                    long start = System.nanoTime();
                    Messages.Read r = Messages.Read.decode(f.payload());
                    ByteBuffer range = ddr.range(r.handle(), r.offset(), r.length());
                    byte[] data = new byte[r.length()];
                    range.get(0, data);
                    hostReadBytes.addAndGet(data.length);
                    hostReads.incrementAndGet();
                    hostLink.pace(data.length, start);
                    s.send(MessageType.READ_REPLY, id, data);
                }
                case MEMORY -> s.send(MessageType.MEMORY_REPLY, id, new Messages.Memory(ddr.capacity(), ddr.used(),
                        ddr.count()).encode());
                case SUBMIT -> {
                    Program program = ProgramCodec.decode(f.payload());
                    traceWrites(s);
                    s.submitted = true;
                    long epoch = s.epoch;
                    programsQueued.incrementAndGet();
                    try {
                        work.execute(() -> {
                            try {
                                runProgram(s, id, program, epoch);
                            } finally {
                                programsQueued.decrementAndGet();
                            }
                        });
                    } catch (java.util.concurrent.RejectedExecutionException stopping) {
                        programsQueued.decrementAndGet();
                        throw stopping;
                    }
                }
                case PROGRAM_EPOCH -> {
                    long epoch = Messages.ProgramEpoch.decode(f.payload()).epoch();
                    synchronized (s) {
                        if (s.firstEpoch < 0) {
                            s.firstEpoch = epoch;
                        }
                        s.epoch = Math.max(s.epoch, epoch);
                    }
                    s.ok(id);
                }
                case LINK_STATUS -> s.send(MessageType.LINK_STATUS_REPLY, id, new Messages.LinkStatus(links.status())
                        .encode());
                case LINK_ENABLE -> {
                    Messages.LinkEnable e = Messages.LinkEnable.decode(f.payload());
                    s.ok(id);
                    links.enable(e.port(), e.enabled());
                }
                case LINK_CABLE -> {
                    Messages.LinkCable c = Messages.LinkCable.decode(f.payload());
                    if (c.connect() && !c.peerEndpoint().matches("[^:]+:\\d{1,5}")) {
                        throw new MalformedFrameException("peer endpoint '" + c.peerEndpoint() + "' is not host:port");
                    }
                    links.cable(c.index(), c.port(), c.neighbourCard(), c.neighbourPort(), c.connect(),
                            c.peerEndpoint());
                    s.ok(id);
                }
                case TELEMETRY -> s.send(MessageType.TELEMETRY_REPLY, id, new Messages.Telemetry(hostWriteBytes.get(),
                        hostWrites.get(), hostReadBytes.get(), hostReads.get(), programs.get(), opsRun.get(),
                        busyNanos.get(), links.traffic()).encode());
                case RESET -> {
                    ddr.reset();
                    s.ok(id);
                }
                case SHUTDOWN -> {
                    s.ok(id);
                    LinkPorts.log("SHUTDOWN from the host");
                    close();
                    return false;
                }
                default -> throw new MalformedFrameException("a host does not send " + f.type());
            }
        } catch (Ddr.Refusal e) {
            s.send(MessageType.ERROR, id, Messages.Error.of(e.kind, e.getMessage()).encode());
        } catch (LinkPorts.LinkDown e) {
            s.send(MessageType.ERROR, id, Messages.Error.of(WireError.LINK, e.getMessage()).encode());
        }
        return true;
    }

    /**
     * Keeps a freed buffer's memory for the next buffer of its size once no program can hold a view of it: at once
     * when no program is queued or running (one submitted later finds the handle gone), else behind the programs
     * queued now (the work queue runs them in order).
     */
    private void keepWhenUnused(ByteBuffer memory) {
        if (memory == null) {
            return;
        }
        if (programsQueued.get() == 0) {
            ddr.keep(memory);
            return;
        }
        try {
            work.execute(() -> ddr.keep(memory));
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // the card is stopping: nothing is allocated any more
        }
    }

    /** A staged WRITE that has passed its checks (CRC included): its data goes to DDR, then as {@link #wrote}. */
    private void write(Session s, long id, Messages.WriteChunk w) {
        try {
            ddr.range(w.handle(), w.offset(), w.length()).put(0, w.data(), 0, w.length());
        } catch (Ddr.Refusal e) {
            s.send(MessageType.ERROR, id, Messages.Error.of(e.kind, e.getMessage()).encode());
            return;
        }
        wrote(s, id, w.length());
    }

    /** A WRITE of {@code length} bytes is in DDR, checked: counted, the host link paced, answered. */
    private void wrote(Session s, long id, int length) {
        long start = s.firstByteNanos;
        if (options.traceTiming()) {
            s.traceWrite(start, hostLink.freeAtNanos(), Messages.Write.FIELD_BYTES + length);
        }
        hostWriteBytes.addAndGet(length);
        hostWrites.incrementAndGet();
        hostLink.pace(length, start);
        s.ok(id);
    }

    /** Why a program of {@code epoch} submitted on {@code s} is given up, or null while it is not. */
    private static String givenUp(Session s, long epoch) {
        if (s.gone) {
            return "its host is gone";
        }
        long now = s.epoch;
        return now > epoch ? "its host gave up its epoch " + epoch + " (a program of that round failed) and moved to "
                + now : null;
    }

    /** Bytes of weights an op streams from DDR (what the DDR rate paces). */
    private static long streamedBytes(Op op) {
        if (op instanceof Op.MatMul o) {
            return o.weights().bytes();
        }
        if (op instanceof Op.EmbeddingRow o) {
            return GgmlType.byId(o.ggmlType()).map(t -> Math.max(0, t.bytesFor(o.rowLength()))).orElse(0L);
        }
        return 0;
    }

    /** Bytes of float32 values an op combines into an accumulator (what the reduce rate paces). */
    private static long reducedBytes(Op op) {
        if (op instanceof Op.Receive o && o.combine() != org.popsolutions.spanker.api.card.Combine.COPY) {
            return o.values().bytes();
        }
        if (op instanceof Op.Reduce o && o.combine() != org.popsolutions.spanker.api.card.Combine.COPY) {
            return o.into().bytes();
        }
        return 0;
    }

    private void runProgram(Session s, long id, Program program, long epoch) {
        long start = System.nanoTime();
        int index = 0;
        long[] opNanos = options.traceTiming() ? new long[OpCode.values().length] : null;
        long cardStart = clock.startProgram();
        try {
            links.beginProgram(epoch, () -> "program '" + program.label() + "' was given up: "
                    + java.util.Objects.requireNonNullElse(givenUp(s, epoch), "its host gave it up"));
            for (Op op : program.ops()) {
                String why = givenUp(s, epoch);
                if (why != null) {
                    LinkPorts.log("program '" + program.label() + "' given up before op " + index + ": " + why);
                    s.send(MessageType.ERROR, id, new Messages.Error(WireError.OP_FAILED, index, op.code().code(), 0,
                            0, 0, "given up before this op: " + why).encode());
                    return;
                }
                long opStart = opNanos == null ? 0 : System.nanoTime();
                interpreter.run(op, () -> givenUp(s, epoch) != null);
                clock.streamed(streamedBytes(op));
                clock.reduced(reducedBytes(op));
                if (opNanos != null) {
                    opNanos[op.code().ordinal()] += System.nanoTime() - opStart;
                }
                links.progressed();
                opsRun.incrementAndGet();
                index++;
            }
            long computed = System.nanoTime() - start;
            long late = clock.finishProgram();
            long busy = System.nanoTime() - start;
            busyNanos.addAndGet(busy);
            programs.incrementAndGet();
            if (opNanos != null) {
                trace(program, index, computed, busy, opNanos);
            }
            // 1.2: when the program ran on this card's clock (device timing, as nccl-tests times on the GPU)
            s.send(MessageType.COMPLETE, id, new Messages.Complete(index, busy, cardStart, System.nanoTime())
                    .encode(s.hostMinor));
        } catch (OpInterpreter.OpFailed e) {
            busyNanos.addAndGet(System.nanoTime() - start);
            programs.incrementAndGet();
            Op op = program.ops().get(index);
            s.send(MessageType.ERROR, id, new Messages.Error(WireError.OP_FAILED, index, op.code().code(), 0, 0, 0,
                    e.getMessage()).encode());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LinkPorts.log("program '" + program.label() + "' op " + index + ": internal error: " + e);
            s.send(MessageType.ERROR, id, new Messages.Error(WireError.INTERNAL, index, 0, 0, 0, 0, "internal error in op "
                    + index + ": " + e).encode());
        }
    }

    /** One line per program on the card's log: where the emulator's time went against the modelled time. */
    private void trace(Program program, int ops, long computed, long busy, long[] opNanos) {
        StringBuilder perOp = new StringBuilder();
        for (OpCode c : OpCode.values()) {
            if (opNanos[c.ordinal()] > 0) {
                perOp.append(String.format(java.util.Locale.ROOT, " %s %.3f", c, opNanos[c.ordinal()] / 1e6));
            }
        }
        LinkPorts.log(String.format(java.util.Locale.ROOT, "timing '%s': %d ops, emulator %.3f ms, completed after"
                + " %.3f ms; %s; per op kind (ms):%s", program.label(), ops, computed / 1e6, busy / 1e6,
                clock.report(), perOp));
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /**
     * The socket's channel as the session's {@link FrameReader} reads it: until the handshake is done through the
     * socket's stream, which keeps the handshake's timeout (a channel read has none), then from the channel itself.
     * Either way the reader reads ahead, so a peer's unread garbage is consumed, not left to turn the card's close into
     * a reset that could swallow its ERROR.
     */
    private static final class HandshakeTimedChannel implements java.nio.channels.ReadableByteChannel {
        private final java.nio.channels.SocketChannel channel;
        private final InputStream timed;
        private final byte[] handshakeBytes = new byte[8192];
        private volatile boolean handshakeDone;

        HandshakeTimedChannel(Socket socket, InputStream timed) {
            this.channel = socket.getChannel();
            this.timed = timed;
        }

        void handshakeDone() {
            handshakeDone = true;
        }

        @Override
        public int read(ByteBuffer into) throws IOException {
            if (handshakeDone) {
                return channel.read(into);
            }
            int n = timed.read(handshakeBytes, 0, Math.min(handshakeBytes.length, into.remaining()));
            if (n > 0) {
                into.put(handshakeBytes, 0, n);
            }
            return n;
        }

        @Override
        public boolean isOpen() {
            return channel.isOpen();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** One host connection's output side; replies from the work queue and link events share it. */
    private static final class Session {
        private final Socket socket;
        private final FrameWriter out;
        /** The host submitted programs on this connection (their messages may be left on the links). */
        volatile boolean submitted;
        /** The connection ended: its programs are given up. */
        volatile boolean gone;
        /** Programs submitted now run in this epoch; those of lower epochs are given up (PROGRAM_EPOCH). */
        volatile long epoch;
        /** The first epoch the host announced, -1 before any (a host that never announces runs in epoch 0). */
        volatile long firstEpoch = -1;
        /** The minor protocol version the host spoke in its HELLO: what it can read of our replies. */
        volatile int hostMinor;
        /** When the request being handled began to arrive (Long.MIN_VALUE: right behind the one before). */
        long firstByteNanos;
        long writes;
        long writeBytes;
        long firstWrite;
        long idleNanos;
        long queuedWrites;

        /** Timing trace: how long the host link sat idle before this WRITE's first byte. */
        void traceWrite(long firstByte, long linkFreeAt, long bytes) {
            if (writes++ == 0) {
                firstWrite = firstByte == Long.MIN_VALUE ? System.nanoTime() : firstByte;
            } else if (firstByte == Long.MIN_VALUE) {
                queuedWrites++;
            } else if (firstByte > linkFreeAt) {
                idleNanos += firstByte - linkFreeAt;
            }
            writeBytes += bytes;
        }

        Session(Socket socket, OutputStream out) {
            this.socket = socket;
            this.out = new FrameWriter(out);
        }

        void ok(long id) {
            send(MessageType.OK, id, new byte[0]);
        }

        /** Best effort: a host that went away just misses the message. */
        synchronized void send(MessageType type, long id, byte[] payload) {
            try {
                out.write(Frame.of(type, id, payload));
            } catch (IOException e) {
                closeQuietly(socket);
            }
        }

        void close() {
            closeQuietly(socket);
        }
    }
}
