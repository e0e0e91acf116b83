package org.popsolutions.spanker.device.sails;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntUnaryOperator;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardIdentity;
import org.popsolutions.spanker.api.card.CardMemory;
import org.popsolutions.spanker.api.card.CardOpException;
import org.popsolutions.spanker.api.card.CardTelemetry;
import org.popsolutions.spanker.api.card.LinkPort;
import org.popsolutions.spanker.api.card.OpCode;
import org.popsolutions.spanker.api.card.OutOfCardMemoryException;
import org.popsolutions.spanker.api.card.PortStatus;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.ProgramCompletion;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.protocol.Frame;
import org.popsolutions.spanker.protocol.MalformedFrameException;
import org.popsolutions.spanker.protocol.MessageType;
import org.popsolutions.spanker.protocol.Messages;
import org.popsolutions.spanker.protocol.ProgramCodec;
import org.popsolutions.spanker.protocol.Wire;
import org.popsolutions.spanker.protocol.WireError;

/**
 * One Sails card behind the host-link protocol, as the card SPI (every call is a request on the card's connection)
 * and as the topology sees it: one object, registered under both.
 */
final class SailsCard implements SailCard, SailDevice {
    static final String PROVIDER = "sails";

    private final CardConnection connection;
    private final ProgramEpochs epochs;
    private final HostNicPacer hostNic;
    private final CardIdentity identity;
    private final Map<Integer, LinkState> portStates = new TreeMap<>();
    private final Card card;
    /**
     * Host-link writes are not waited for one by one: the bytes are on their way (copied into frames) when
     * {@link #write} returns, up to {@link #WRITE_WINDOW_BYTES} unanswered, so a load keeps the host link busy instead
     * of draining it after every chunk, and a token's step write costs no round trip of its own. The card applies
     * requests in order, so a later program or read sees them; a card's refusal of one is thrown by the next call.
     */
    static final long WRITE_WINDOW_BYTES = 8L << 20;
    static final int WRITE_CHUNK_BYTES = (int) Math.max(4096, Math.min(Wire.MAX_CHUNK_BYTES,
            Long.getLong("spanker.sails.writeChunkBytes", Wire.MAX_CHUNK_BYTES)));
    private final java.util.ArrayDeque<PendingWrite> unanswered = new java.util.ArrayDeque<>();
    /** Programs submitted again and again (a decode step each token) are encoded once; records, so never changed. */
    private final Map<Program, byte[]> encodings = new java.util.IdentityHashMap<>();
    private long unansweredBytes;

    private record PendingWrite(CardBuffer buffer, long bytes, CompletableFuture<Frame> reply) {
    }

    /** How the group's cards are cabled, known once all of them are: set before the card is registered. */
    private volatile TopologyKind cabling = TopologyKind.RING;

    /**
     * @param index the card's index in its group
     * @param groupIndexOf maps a cable index (what the card reports) to a group index, -1 for a card not in the group
     */
    SailsCard(CardConnection connection, int index, IntUnaryOperator groupIndexOf) {
        this(connection, index, groupIndexOf, new ProgramEpochs());
    }

    /** @param epochs the program epochs this card shares with the cards its host drives together with it */
    SailsCard(CardConnection connection, int index, IntUnaryOperator groupIndexOf, ProgramEpochs epochs) {
        this(connection, index, groupIndexOf, epochs, null);
    }

    /**
     * @param hostNic the NIC this card's host shares with its other cards (emulated, shaped fleets), or null when
     *        nothing on the host paces the writes
     */
    SailsCard(CardConnection connection, int index, IntUnaryOperator groupIndexOf, ProgramEpochs epochs,
            HostNicPacer hostNic) {
        this.connection = connection;
        this.epochs = epochs;
        this.hostNic = hostNic;
        Messages.HelloReply hello = connection.hello();
        List<LinkPort> ports = new ArrayList<>();
        for (LinkPort p : hello.ports()) {
            int neighbour = groupIndexOf.applyAsInt(p.neighbourCard());
            if (neighbour >= 0) {
                ports.add(new LinkPort(p.port(), neighbour, p.neighbourPort(), p.bandwidthBytesPerSecond(),
                        p.latencySeconds()));
            }
        }
        this.identity = new CardIdentity(index, hello.serial(), PROVIDER, hello.firmware(), hello.major(),
                hello.memoryBytes(), hello.weightTypes(), hello.ops(), ports);
        for (LinkPort p : ports) {
            portStates.put(p.port(), LinkState.DOWN);
        }
        this.card = new Card(index, hello.serial(), PROVIDER, hello.memoryBytes(), hello.timeDilation());
    }

    void cabling(TopologyKind kind) {
        this.cabling = kind;
    }

    @Override
    public Card card() {
        return card;
    }

    @Override
    public TopologyKind cabling() {
        return cabling;
    }

    /** The links to the group's other cards, in port order, each in the state the card last reported. */
    @Override
    public List<Link> outgoingLinks() {
        Map<Integer, LinkState> states = knownPortStates();
        List<Link> links = new ArrayList<>();
        for (LinkPort p : identity.ports()) {
            if (p.neighbourCard() != card.index()) {
                links.add(new Link(card.index(), p.neighbourCard(), states.getOrDefault(p.port(), LinkState.DOWN),
                        p.bandwidthBytesPerSecond(), p.latencySeconds()));
            }
        }
        return links;
    }

    CardConnection connection() {
        return connection;
    }

    /** Port states as the card last reported them (LINK_STATUS, then LINK_EVENTs). */
    synchronized void portState(int port, LinkState state) {
        if (portStates.containsKey(port)) {
            portStates.put(port, state);
        }
    }

    @Override
    public CardIdentity identity() {
        return identity;
    }

    private String who() {
        return "card " + identity.index() + " (" + connection.describe() + ")";
    }

    /**
     * Waits for written bytes' answers until at most {@code keepBytes} are unanswered; throws a refusal. The card
     * answers in order, so it waits for the last answer it needs first: one wake-up for the lot, not one per chunk
     * (the earlier answers are then in, and are taken in order, so the first refusal is the one thrown).
     */
    private void settleWrites(long keepBytes) {
        PendingWrite last = null;
        synchronized (unanswered) {
            long left = unansweredBytes;
            for (PendingWrite w : unanswered) {
                if (left <= keepBytes) {
                    break;
                }
                left -= w.bytes();
                last = w;
            }
        }
        if (last != null) {
            try {
                connection.await(last.reply(), "WRITE");
            } catch (CardConnection.CardError | RuntimeException answeredBelow) {
                // a refusal or a lost card: the answers are taken in order below, and that one is thrown there
            }
        }
        while (true) {
            PendingWrite w;
            synchronized (unanswered) {
                if (unansweredBytes <= keepBytes || unanswered.isEmpty()) {
                    return;
                }
                w = unanswered.poll();
                unansweredBytes -= w.bytes();
            }
            try {
                connection.await(w.reply(), "WRITE");
            } catch (CardConnection.CardError e) {
                throw failure("write " + w.buffer().purpose(), e);
            }
        }
    }

    private long unansweredBytes() {
        synchronized (unanswered) {
            return unansweredBytes;
        }
    }

    /** Every write sent so far has been answered (and any refusal thrown). */
    void settleWrites() {
        settleWrites(0);
    }

    @Override
    public CardBuffer allocate(long bytes, String purpose) {
        if (bytes < 0) {
            throw new IllegalArgumentException("a buffer has >= 0 bytes, got " + bytes);
        }
        try {
            Frame f = connection.call(MessageType.ALLOC, new Messages.Alloc(bytes, purpose).encode());
            return new CardBuffer(identity.index(), Messages.Handle.decode(f.payload()).handle(), bytes, purpose);
        } catch (CardConnection.CardError e) {
            if (e.error.kind() == WireError.OUT_OF_MEMORY) {
                throw new OutOfCardMemoryException(identity.index(), purpose, e.error.requested(), e.error.free(),
                        e.error.capacity());
            }
            throw failure("allocate " + bytes + " bytes for " + purpose, e);
        } catch (MalformedFrameException e) {
            throw malformed(e);
        }
    }

    @Override
    public void free(CardBuffer buffer) {
        checkOwn(buffer);
        settleWrites();
        try {
            connection.call(MessageType.FREE, new Messages.Handle(buffer.handle()).encode());
        } catch (CardConnection.CardError e) {
            throw failure("free " + buffer.purpose(), e);
        }
    }

    @Override
    public CardMemory memory() {
        settleWrites();
        try {
            Messages.Memory m = Messages.Memory.decode(connection.call(MessageType.MEMORY, new byte[0]).payload());
            return new CardMemory(m.capacityBytes(), m.usedBytes(), m.buffers());
        } catch (CardConnection.CardError e) {
            throw failure("read its memory", e);
        } catch (MalformedFrameException e) {
            throw malformed(e);
        }
    }

    @Override
    public void write(CardBuffer buffer, long offset, ByteBuffer source) {
        checkOwn(buffer);
        int length = source.remaining();
        checkRange(buffer, offset, length);
        for (int done = 0; done < length; ) {
            int n = Math.min(WRITE_CHUNK_BYTES, length - done);
            // a full window is drained to half: the sender wakes once per half window, not once per chunk
            if (unansweredBytes() > WRITE_WINDOW_BYTES - n) {
                settleWrites(WRITE_WINDOW_BYTES / 2);
            }
            if (hostNic != null) {
                hostNic.pace(n);
            }
            CompletableFuture<Frame> reply = connection.write(buffer.handle(), offset + done, source,
                    source.position() + done, n);
            synchronized (unanswered) {
                unanswered.add(new PendingWrite(buffer, n, reply));
                unansweredBytes += n;
            }
            done += n;
        }
    }

    @Override
    public void read(CardBuffer buffer, long offset, ByteBuffer target) {
        checkOwn(buffer);
        int length = target.remaining();
        checkRange(buffer, offset, length);
        settleWrites();
        List<CompletableFuture<Frame>> replies = new ArrayList<>();
        for (int done = 0; done < length; ) {
            int n = Math.min(Wire.MAX_CHUNK_BYTES, length - done);
            replies.add(connection.request(MessageType.READ, new Messages.Read(buffer.handle(), offset + done, n)
                    .encode()));
            done += n;
        }
        int at = target.position();
        for (CompletableFuture<Frame> reply : replies) {
            try {
                byte[] data = connection.await(reply, "READ").payload();
                target.put(at, data);
                at += data.length;
            } catch (CardConnection.CardError e) {
                throw failure("read " + buffer.purpose(), e);
            }
        }
    }

    @Override
    public CompletableFuture<ProgramCompletion> submit(Program program) {
        // the writes before it are applied before it runs (one connection, in order); their answers come first
        List<PendingWrite> before;
        synchronized (unanswered) {
            before = List.copyOf(unanswered);
            unanswered.clear();
            unansweredBytes = 0;
        }
        ProgramEpochs.Submitted submitted = epochs.submit(connection, encoded(program));
        return submitted.reply().whenComplete((f, e) -> {
            // the round failed: its other programs are given up and what they left on the links is not taken later
            if (e != null || f.type() == MessageType.ERROR) {
                epochs.failed(submitted.epoch());
            }
        }).thenApply(f -> {
            for (PendingWrite w : before) {
                try {
                    connection.await(w.reply(), "WRITE");
                } catch (CardConnection.CardError e) {
                    throw failure("write " + w.buffer().purpose() + " before program '" + program.label() + "'", e);
                }
            }
            try {
                if (f.type() == MessageType.ERROR) {
                    Messages.Error e = Messages.Error.decode(f.payload());
                    if (e.kind() == WireError.OP_FAILED && e.opIndex() >= 0 && e.opIndex() < program.ops().size()) {
                        OpCode op = program.ops().get(e.opIndex()).code();
                        throw new CardOpException(identity.index(), program.label(), e.opIndex(), op, e.message()
                                + " [" + connection.describe() + "]");
                    }
                    throw new DeviceException(who() + " failed program '" + program.label() + "': " + e.kind() + ": "
                            + e.message());
                }
                Messages.Complete c = Messages.Complete.decode(f.payload());
                if (!c.timed()) {
                    return new ProgramCompletion(identity.index(), c.ops(), c.busyNanos(), ProgramCompletion.UNTIMED,
                            ProgramCompletion.UNTIMED, card.timeDilation());
                }
                return new ProgramCompletion(identity.index(), c.ops(), c.busyNanos(), connection.hostNanos(
                        c.startNanos()), connection.hostNanos(c.finishNanos()), card.timeDilation());
            } catch (MalformedFrameException e) {
                throw malformed(e);
            }
        });
    }

    /** The program's wire encoding, made at its first submission (a few hundred recent programs are kept). */
    private byte[] encoded(Program program) {
        synchronized (encodings) {
            byte[] bytes = encodings.get(program);
            if (bytes == null) {
                if (encodings.size() >= 256) {
                    encodings.clear();
                }
                bytes = ProgramCodec.encode(program);
                encodings.put(program, bytes);
            }
            return bytes;
        }
    }

    @Override
    public List<PortStatus> ports() {
        settleWrites();
        try {
            Messages.LinkStatus s = Messages.LinkStatus.decode(connection.call(MessageType.LINK_STATUS, new byte[0])
                    .payload());
            List<PortStatus> known = new ArrayList<>();
            for (PortStatus p : s.ports()) {
                portState(p.port(), p.state());
                if (identity.ports().stream().anyMatch(lp -> lp.port() == p.port())) {
                    known.add(p);
                }
            }
            return known;
        } catch (CardConnection.CardError e) {
            throw failure("report its ports", e);
        } catch (MalformedFrameException e) {
            throw malformed(e);
        }
    }

    /** The last states the card reported, without asking it. */
    synchronized Map<Integer, LinkState> knownPortStates() {
        return Map.copyOf(portStates);
    }

    @Override
    public void enablePort(int port, boolean enabled) {
        settleWrites();
        try {
            connection.call(MessageType.LINK_ENABLE, new Messages.LinkEnable(port, enabled).encode());
        } catch (CardConnection.CardError e) {
            throw failure((enabled ? "train" : "disable") + " port " + port, e);
        }
    }

    @Override
    public CardTelemetry telemetry() {
        settleWrites();
        try {
            Messages.Telemetry t = Messages.Telemetry.decode(connection.call(MessageType.TELEMETRY, new byte[0])
                    .payload());
            return new CardTelemetry(t.hostWriteBytes(), t.hostWrites(), t.hostReadBytes(), t.hostReads(),
                    t.programs(), t.ops(), t.busyNanos(), t.ports());
        } catch (CardConnection.CardError e) {
            throw failure("report its telemetry", e);
        } catch (MalformedFrameException e) {
            throw malformed(e);
        }
    }

    private void checkOwn(CardBuffer buffer) {
        if (buffer.card() != identity.index()) {
            throw new IllegalArgumentException(buffer.purpose() + " lives on card " + buffer.card() + ", not on card "
                    + identity.index());
        }
    }

    private static void checkRange(CardBuffer buffer, long offset, long length) {
        if (offset < 0 || offset > buffer.bytes() || length > buffer.bytes() - offset) {
            throw new IllegalArgumentException("bytes [" + offset + ", " + (offset + length) + ") lie outside "
                    + buffer.purpose() + " of " + buffer.bytes() + " bytes");
        }
    }

    private RuntimeException failure(String what, CardConnection.CardError e) {
        WireError kind = e.error.kind();
        if (kind == WireError.BAD_HANDLE || kind == WireError.BAD_RANGE) {
            return new IllegalArgumentException(who() + " cannot " + what + ": " + e.error.message());
        }
        return new DeviceException(who() + " cannot " + what + ": " + kind + ": " + e.error.message());
    }

    private DeviceException malformed(MalformedFrameException e) {
        return new DeviceException(who() + " sent a malformed reply: " + e.getMessage());
    }

    @Override
    public String toString() {
        return "SailsCard[" + identity.index() + ", " + connection.describe() + "]";
    }
}
