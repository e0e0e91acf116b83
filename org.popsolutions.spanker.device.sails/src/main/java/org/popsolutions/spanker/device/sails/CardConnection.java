package org.popsolutions.spanker.device.sails;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.protocol.Frame;
import org.popsolutions.spanker.protocol.FrameReader;
import org.popsolutions.spanker.protocol.FrameWriter;
import org.popsolutions.spanker.protocol.Handshake;
import org.popsolutions.spanker.protocol.MalformedFrameException;
import org.popsolutions.spanker.protocol.MessageType;
import org.popsolutions.spanker.protocol.Messages;
import org.popsolutions.spanker.protocol.Wire;
import org.popsolutions.spanker.protocol.WireError;

/**
 * The host's end of one host-link connection: the HELLO/AUTH handshake, then pipelined requests whose replies a
 * reader thread hands back by request id, and LINK_EVENTs passed to a listener. When the connection breaks every
 * waiting request fails at once with a {@link DeviceException} naming the card.
 */
final class CardConnection implements AutoCloseable {
    /** The thread that reads this connection's replies (set once it has started). */
    private volatile Thread reader;

    /** A request on its way: what it was, when its answer is due, and who waits for it. */
    private record Outstanding(MessageType type, long dueNanos, CompletableFuture<Frame> reply) {
    }

    /**
     * Holds every wait on a card to a bound, {@link #await} or not (a program's completion is waited for by whoever
     * holds its future, a blocked write by nobody): a card that is alive but stuck (stopped, spinning) answers
     * nothing, and once the socket's buffers are full it blocks the host's write in the kernel, where no reply
     * timeout reaches. A request whose reply is overdue, the one being written included, loses the connection
     * naming the card: the socket is closed, which ends a blocked write, and every waiter fails. One daemon thread
     * for all connections; it ends when none is open.
     */
    private static final ScheduledThreadPoolExecutor WATCHDOG = watchdog();

    private static ScheduledThreadPoolExecutor watchdog() {
        ScheduledThreadPoolExecutor w = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "sails-request-watchdog");
            t.setDaemon(true);
            return t;
        });
        w.setRemoveOnCancelPolicy(true);
        w.setKeepAliveTime(5, TimeUnit.SECONDS);
        w.allowCoreThreadTimeOut(true);
        return w;
    }

    /** An ERROR reply, with the card's words. */
    static final class CardError extends Exception {
        private static final long serialVersionUID = 1L;
        final Messages.Error error;

        CardError(Messages.Error error) {
            super(error.kind() + ": " + error.message());
            this.error = error;
        }
    }

    private final String endpoint;
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    /** Frames go out in one piece from one reused buffer; guarded by {@code out}. */
    private final FrameWriter writer;
    private final Messages.HelloReply hello;
    /**
     * The card's clock less the host's {@link System#nanoTime()} (1.2 cards): the card's reading in HELLO_REPLY
     * against the midpoint of the host's HELLO round trip, so a card time less it is a host time, within half the
     * round trip. 0 for older cards.
     */
    private final long clockOffsetNanos;
    private final long requestTimeoutMillis;
    private final Map<Long, Outstanding> pending = new ConcurrentHashMap<>();
    /** This connection's turn on the {@link #WATCHDOG} (null once it is closed or lost). */
    private volatile ScheduledFuture<?> watch;
    private final AtomicLong nextId = new AtomicLong(1);
    private volatile Consumer<Messages.LinkEvent> linkEvents = e -> { };
    private volatile Consumer<String> lost = why -> { };
    private volatile String closedReason;
    /** The last PROGRAM_EPOCH sent on this connection (guarded by the {@link ProgramEpochs} that sends them). */
    private long announcedEpoch;

    private CardConnection(String endpoint, Socket socket, InputStream in, OutputStream out, SocketChannel channel,
            Messages.HelloReply hello, long clockOffsetNanos, long requestTimeoutMillis) {
        this.endpoint = endpoint;
        this.clockOffsetNanos = clockOffsetNanos;
        this.socket = socket;
        this.in = in;
        this.out = out;
        this.writer = new FrameWriter(out, channel);
        this.hello = hello;
        this.requestTimeoutMillis = requestTimeoutMillis;
    }

    /**
     * Connects, checks the card's version and proof, proves the host's own, and starts reading.
     *
     * @throws DeviceException naming the endpoint and what went wrong (no answer, a version mismatch naming both
     *         versions, a failed proof)
     */
    static CardConnection open(String endpoint, byte[] secret, int connectTimeoutMillis, long requestTimeoutMillis) {
        return open(endpoint, secret, connectTimeoutMillis, requestTimeoutMillis, Wire.MAJOR, Wire.MINOR);
    }

    /** As {@link #open(String, byte[], int, long)}, claiming another version (tests of the version rule). */
    static CardConnection open(String endpoint, byte[] secret, int connectTimeoutMillis, long requestTimeoutMillis,
            int major, int minor) {
        String[] hostPort = splitEndpoint(endpoint);
        SocketChannel channel;
        try {
            // a channel's socket: its streams carry the small frames, WRITE data goes through the channel itself
            channel = SocketChannel.open();
        } catch (IOException e) {
            throw new DeviceException("cannot open a socket to the card at " + endpoint + ": " + e.getMessage(), e);
        }
        Socket socket = channel.socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), connectTimeoutMillis);
            socket.setSoTimeout(connectTimeoutMillis);
            InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
            byte[] hostNonce = Handshake.nonce();
            long helloSent = System.nanoTime();
            Wire.write(out, new Frame(major, minor, MessageType.HELLO, 1, new Messages.Hello(major, minor, hostNonce)
                    .encode()));
            Frame reply = Wire.read(in);
            long replyRead = System.nanoTime();
            if (reply.type() == MessageType.ERROR) {
                throw new DeviceException("card at " + endpoint + " refused the host: " + Messages.Error.decode(
                        reply.payload()).message());
            }
            if (reply.major() != major) {
                throw new DeviceException("card at " + endpoint + " speaks protocol " + reply.version()
                        + ", this host speaks " + major + "." + minor + ": major versions differ, use a host and a card"
                        + " of the same major version");
            }
            if (reply.type() != MessageType.HELLO_REPLY) {
                throw new DeviceException("card at " + endpoint + " answered HELLO with " + reply.type());
            }
            Messages.HelloReply hello = Messages.HelloReply.decode(reply.payload());
            if (!Handshake.matches(Handshake.cardProof(secret, hostNonce, hello.cardNonce()), hello.cardProof())) {
                throw new DeviceException("card at " + endpoint + " (" + hello.serial() + ") does not prove the fleet"
                        + " secret: check the secret file; the host does not drive it");
            }
            Wire.write(out, Frame.of(MessageType.AUTH, 2, new Messages.Auth(Handshake.hostProof(secret, hostNonce,
                    hello.cardNonce())).encode()));
            Frame ok = Wire.read(in);
            if (ok.type() == MessageType.ERROR) {
                throw new DeviceException("card at " + endpoint + " (" + hello.serial() + ") refused the host: "
                        + Messages.Error.decode(ok.payload()).message());
            }
            if (ok.type() != MessageType.AUTH_OK) {
                throw new DeviceException("card at " + endpoint + " answered AUTH with " + ok.type());
            }
            socket.setSoTimeout(0);
            // the card read its clock between our HELLO and its reply: the midpoint is the best estimate of when
            long offset = hello.cardClockNanos() == Messages.HelloReply.NO_CLOCK ? 0
                    : hello.cardClockNanos() - (helloSent + (replyRead - helloSent) / 2);
            CardConnection c = new CardConnection(endpoint, socket, in, out, channel, hello, offset,
                    requestTimeoutMillis);
            c.nextId.set(3);
            // an overdue reply is noticed within an eighth of the timeout (at least 10 ms, at most 1 s late)
            long period = Math.max(10, Math.min(1_000, requestTimeoutMillis / 8));
            c.watch = WATCHDOG.scheduleWithFixedDelay(c::checkDeadlines, period, period, TimeUnit.MILLISECONDS);
            Thread reader = new Thread(c::readLoop, "sails-card-" + endpoint);
            reader.setDaemon(true);
            c.reader = reader;
            reader.start();
            return c;
        } catch (IOException e) {
            closeQuietly(socket);
            throw new DeviceException("cannot reach the card at " + endpoint + ": " + e.getMessage()
                    + " (is the fleet running? './spanker fleet status')", e);
        } catch (MalformedFrameException e) {
            closeQuietly(socket);
            throw new DeviceException("card at " + endpoint + " sent a malformed frame: " + e.getMessage(), e);
        } catch (SpankerException e) {
            closeQuietly(socket);
            throw e;
        }
    }

    static String[] splitEndpoint(String endpoint) {
        int colon = endpoint.lastIndexOf(':');
        if (colon <= 0 || colon == endpoint.length() - 1) {
            throw new IllegalArgumentException("an endpoint is host:port, got '" + endpoint + "'");
        }
        String port = endpoint.substring(colon + 1);
        if (!port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535) {
            throw new IllegalArgumentException("an endpoint is host:port with a port 1..65535, got '" + endpoint + "'");
        }
        return new String[] {endpoint.substring(0, colon), port};
    }

    /** CPU time the reply reader has used (ns; 0 where the JVM does not measure it or once the reader has ended). */
    long readerCpuNanos() {
        Thread t = reader;
        long nanos = t == null ? -1 : ManagementFactory.getThreadMXBean().getThreadCpuTime(t.getId());
        return Math.max(0, nanos);
    }

    Messages.HelloReply hello() {
        return hello;
    }

    /** A time on the card's clock as a time on this host's {@link System#nanoTime()} clock. */
    long hostNanos(long cardNanos) {
        return cardNanos - clockOffsetNanos;
    }

    long announcedEpoch() {
        return announcedEpoch;
    }

    void announcedEpoch(long epoch) {
        announcedEpoch = epoch;
    }

    String endpoint() {
        return endpoint;
    }

    /** Who the card is, for messages: serial and endpoint. */
    String describe() {
        return hello.serial() + " at " + endpoint;
    }

    boolean isOpen() {
        return closedReason == null;
    }

    void onLinkEvent(Consumer<Messages.LinkEvent> listener) {
        this.linkEvents = listener;
    }

    /** Called once, with the reason, when the connection is lost (not when it is closed by the host). */
    void onLost(Consumer<String> listener) {
        this.lost = listener;
        if (closedReason != null) {
            listener.accept(closedReason);
        }
    }

    /** Sends a request; the future completes with the reply frame (an ERROR reply included). */
    CompletableFuture<Frame> request(MessageType type, byte[] payload) {
        return send(type, id -> writer.write(Frame.of(type, id, payload)));
    }

    /** A WRITE of {@code length} bytes of {@code source} from {@code index}, sent as one piece (see Wire.writeWrite). */
    CompletableFuture<Frame> write(long handle, long offset, java.nio.ByteBuffer source, int index, int length) {
        return send(MessageType.WRITE, id -> writer.writeWrite(id, handle, offset, source, index, length, true));
    }

    /** Writes one request frame under the next request id. */
    private interface RequestWriter {
        void write(long id) throws IOException;
    }

    /** Registers the reply under a fresh id and writes the request; a connection lost on the way fails the reply. */
    private CompletableFuture<Frame> send(MessageType type, RequestWriter request) {
        CompletableFuture<Frame> reply = new CompletableFuture<>();
        String reason = closedReason;
        if (reason != null) {
            reply.completeExceptionally(new DeviceException(reason));
            return reply;
        }
        long id = nextId.getAndUpdate(n -> n >= 0xFFFF_FFFFL ? 1 : n + 1);
        pending.put(id, new Outstanding(type, System.nanoTime() + answerMillis(type) * 1_000_000L, reply));
        try {
            synchronized (out) {
                request.write(id);
            }
        } catch (IOException e) {
            lose("card " + describe() + " lost: " + e.getMessage());
        }
        if (closedReason != null && !reply.isDone()) {
            pending.remove(id);
            reply.completeExceptionally(new DeviceException(closedReason));
        }
        return reply;
    }

    /**
     * How long a request's reply may take: the request timeout; a program's, that times the card's time dilation
     * (a dilated card runs its programs, and its receives' own timeouts, K times slower).
     */
    long answerMillis(MessageType type) {
        double k = type == MessageType.SUBMIT ? Math.max(1, hello.timeDilation()) : 1;
        return (long) Math.min(Long.MAX_VALUE / 2_000_000L, requestTimeoutMillis * k);
    }

    /** Loses the connection, naming the card, when a reply is overdue. */
    private void checkDeadlines() {
        if (closedReason != null) {
            return;
        }
        long now = System.nanoTime();
        for (Outstanding o : pending.values()) {
            if (now - o.dueNanos() > 0) {
                lose("card " + describe() + " did not answer " + o.type() + " within " + answerMillis(o.type())
                        + " ms");
                return;
            }
        }
    }

    /** A request and its reply within the request timeout; an ERROR reply is thrown as {@link CardError}. */
    Frame call(MessageType type, byte[] payload) throws CardError {
        return await(request(type, payload), type.name());
    }

    Frame await(CompletableFuture<Frame> reply, String what) throws CardError {
        Frame f;
        spinBriefly(reply);
        try {
            f = reply.get(requestTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeviceException("interrupted while waiting for card " + describe());
        } catch (TimeoutException e) {
            String why = "card " + describe() + " did not answer " + what + " within " + requestTimeoutMillis + " ms";
            lose(why);
            throw new DeviceException(why);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof SpankerException s ? s : new DeviceException(String.valueOf(e.getCause()));
        }
        if (f.type() == MessageType.ERROR) {
            try {
                throw new CardError(Messages.Error.decode(f.payload()));
            } catch (MalformedFrameException bad) {
                throw new DeviceException("card " + describe() + " sent a malformed ERROR: " + bad.getMessage());
            }
        }
        return f;
    }

    /**
     * A reply usually comes within a few tens of microseconds: watching for it that long costs less than being parked
     * and woken by the reader thread (a futex wake and a reschedule, the biggest share of a short round trip). Only
     * with a core to spare for the reader and the card: on a busy machine the spinning thread takes the core they
     * need (measured at load 10-12 on 2 cores: 66-91 us with the spin, 42-68 us without); a longer wait parks.
     */
    private static void spinBriefly(CompletableFuture<Frame> reply) {
        if (!SPIN || reply.isDone() || !aCoreToSpare()) {
            return;
        }
        long until = System.nanoTime() + SPIN_NANOS;
        while (!reply.isDone() && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    /** How long a waiter watches for its reply before parking: system property spanker.sails.spinMicros (0: never). */
    private static final long SPIN_NANOS = Math.max(0, Math.min(1_000, Long.getLong("spanker.sails.spinMicros", 50)))
            * 1_000;
    private static final int PROCESSORS = Runtime.getRuntime().availableProcessors();
    private static final boolean SPIN = SPIN_NANOS > 0 && PROCESSORS > 1;
    private static volatile long loadSampledAt = System.nanoTime() - 2_000_000_000L;
    private static volatile boolean coreToSpare;

    /** The machine's load average leaves a core idle (read at most once a second: it is a file read). */
    private static boolean aCoreToSpare() {
        long now = System.nanoTime();
        if (now - loadSampledAt > 1_000_000_000L) {
            loadSampledAt = now;
            double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            coreToSpare = load >= 0 && load <= PROCESSORS - 1;
        }
        return coreToSpare;
    }

    private void readLoop() {
        FrameReader reader = new FrameReader(in);
        try {
            while (true) {
                reader.next();
                Frame f = reader.frame();
                if (f.major() != Wire.MAJOR) {
                    throw new MalformedFrameException("a frame of protocol " + f.version() + " in a " + Wire.version()
                            + " session");
                }
                if (f.type() == MessageType.LINK_EVENT) {
                    linkEvents.accept(Messages.LinkEvent.decode(f.payload()));
                    continue;
                }
                Outstanding waiting = pending.remove(f.requestId());
                if (waiting != null) {
                    waiting.reply().complete(f);
                } else if (f.type() == MessageType.ERROR) {
                    Messages.Error e = Messages.Error.decode(f.payload());
                    lose("card " + describe() + " closed the connection: " + e.kind() + ": " + e.message());
                    return;
                }
            }
        } catch (EOFException e) {
            lose("card " + describe() + " lost: the connection closed");
        } catch (IOException e) {
            lose("card " + describe() + " lost: " + e.getMessage());
        } catch (MalformedFrameException e) {
            System.err.println("spanker device.sails: closing the connection to " + describe() + ": " + e.getMessage());
            lose("card " + describe() + " sent a malformed frame: " + e.getMessage());
        }
    }

    private void lose(String reason) {
        synchronized (this) {
            if (closedReason != null) {
                return;
            }
            closedReason = reason;
        }
        stopWatching();
        closeQuietly(socket);
        DeviceException failure = new DeviceException(reason);
        pending.values().forEach(o -> o.reply().completeExceptionally(failure));
        pending.clear();
        lost.accept(reason);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closedReason != null) {
                return;
            }
            closedReason = "the connection to card " + describe() + " was closed by the host";
        }
        stopWatching();
        closeQuietly(socket);
        DeviceException failure = new DeviceException(closedReason);
        pending.values().forEach(o -> o.reply().completeExceptionally(failure));
        pending.clear();
    }

    private void stopWatching() {
        ScheduledFuture<?> w = watch;
        if (w != null) {
            w.cancel(false);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    static WireError kindOf(CardError e) {
        return e.error.kind();
    }
}
