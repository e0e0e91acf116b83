package org.popsolutions.spanker.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.popsolutions.spanker.api.card.LinkPort;
import org.popsolutions.spanker.api.card.OpCode;
import org.popsolutions.spanker.api.card.PortStatus;
import org.popsolutions.spanker.api.card.PortTraffic;
import org.popsolutions.spanker.api.topology.LinkState;

/** The payloads of docs/protocol.md, one record per message with its encoder and its checked decoder. */
public final class Messages {
    /** Ports a card may list. */
    public static final int MAX_PORTS = 256;
    /** Weight types or ops a card may list. */
    public static final int MAX_CAPABILITIES = 256;
    /** Largest DDR a card may report or an ALLOC may ask for: 1 TiB. */
    public static final long MAX_MEMORY_BYTES = 1L << 40;
    private static final long NO_INDEX = 0xFFFF_FFFFL;

    private Messages() {
    }

    /** HELLO, host to card: the host's version (again, in the payload) and its nonce. */
    public record Hello(int major, int minor, byte[] hostNonce) {
        public byte[] encode() {
            return new WireWriter().u8(major).u8(minor).bytes(hostNonce).toBytes();
        }

        public static Hello decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            Hello h = new Hello(r.u8("major"), r.u8("minor"), r.bytes(Handshake.NONCE_BYTES, "host nonce"));
            r.end("HELLO");
            return h;
        }
    }

    /**
     * HELLO_REPLY, card to host: who the card is, what it runs, its ports, its nonce and its proof.
     *
     * @param index the card's position in its cabling (set by LINK_CABLE on an emulator), or -1 when unknown
     */
    public record HelloReply(int major, int minor, String serial, String firmware, int index, long memoryBytes,
            Set<Integer> weightTypes, Set<OpCode> ops, List<LinkPort> ports, byte[] cardNonce, byte[] cardProof,
            double timeDilation, long cardClockNanos, double hostLinkDilation) {
        /** The largest time dilation a card may announce (1.2). */
        public static final double MAX_TIME_DILATION = 1000;
        /** {@link #cardClockNanos()} of a card that did not send its clock (before 1.2). */
        public static final long NO_CLOCK = Long.MIN_VALUE;

        /**
         * @param timeDilation (1.2) how many times slower than the hardware the card runs every modelled time
         *        (an emulated card dilated to stay ahead of its host's CPU); 1 for real hardware and older cards
         * @param cardClockNanos (1.2) the card's clock (the one COMPLETE's start and finish are on) when it sent the
         *        reply, or {@link #NO_CLOCK}
         * @param hostLinkDilation (1.3) how many times slower than the hardware the card paces its host link (an
         *        emulated fleet may run it apart from the rest, e.g. at the hardware's own rate); a card before 1.3
         *        paces it like everything else: {@code timeDilation}
         */
        public HelloReply {
            if (!(timeDilation >= 1 && timeDilation <= MAX_TIME_DILATION)) {
                throw new IllegalArgumentException("time dilation " + timeDilation + " is not within 1.."
                        + MAX_TIME_DILATION);
            }
            if (!(hostLinkDilation >= 1 && hostLinkDilation <= MAX_TIME_DILATION)) {
                throw new IllegalArgumentException("host-link dilation " + hostLinkDilation + " is not within 1.."
                        + MAX_TIME_DILATION);
            }
        }

        /** A 1.2 reply: the host link dilated like everything else. */
        public HelloReply(int major, int minor, String serial, String firmware, int index, long memoryBytes,
                Set<Integer> weightTypes, Set<OpCode> ops, List<LinkPort> ports, byte[] cardNonce, byte[] cardProof,
                double timeDilation, long cardClockNanos) {
            this(major, minor, serial, firmware, index, memoryBytes, weightTypes, ops, ports, cardNonce, cardProof,
                    timeDilation, cardClockNanos, timeDilation);
        }

        /** A 1.0/1.1 reply: no dilation, no clock. */
        public HelloReply(int major, int minor, String serial, String firmware, int index, long memoryBytes,
                Set<Integer> weightTypes, Set<OpCode> ops, List<LinkPort> ports, byte[] cardNonce, byte[] cardProof) {
            this(major, minor, serial, firmware, index, memoryBytes, weightTypes, ops, ports, cardNonce, cardProof, 1,
                    NO_CLOCK, 1);
        }

        public byte[] encode() {
            return encode(Wire.MINOR);
        }

        /**
         * The payload for a host speaking minor version {@code hostMinor}: the 1.2 fields (time dilation, card clock)
         * only for a host that reads them (an older host refuses trailing bytes); the 1.3 field (host-link dilation)
         * likewise.
         */
        public byte[] encode(int hostMinor) {
            WireWriter w = new WireWriter().u8(major).u8(minor).string(serial).string(firmware)
                    .u32(index < 0 ? NO_INDEX : index).u64(memoryBytes);
            w.u16(weightTypes.size());
            new TreeSet<>(weightTypes).forEach(w::u32);
            w.u16(ops.size());
            new TreeSet<>(ops).forEach(op -> w.u8(op.code()));
            w.u16(ports.size());
            for (LinkPort p : ports) {
                w.u32(p.port()).u32(p.neighbourCard()).u32(p.neighbourPort()).u64(p.bandwidthBytesPerSecond())
                        .u64(Double.doubleToRawLongBits(p.latencySeconds()));
            }
            w.bytes(cardNonce).bytes(cardProof);
            if (minor >= 2 && hostMinor >= 2) {
                w.u64(Double.doubleToRawLongBits(timeDilation)).u64(cardClockNanos);
            }
            if (minor >= 3 && hostMinor >= 3) {
                w.u64(Double.doubleToRawLongBits(hostLinkDilation));
            }
            return w.toBytes();
        }

        public static HelloReply decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            int major = r.u8("major");
            int minor = r.u8("minor");
            String serial = r.string("serial");
            String firmware = r.string("firmware");
            long rawIndex = r.u32("index");
            int index = rawIndex == NO_INDEX ? -1 : (int) Math.min(rawIndex, Integer.MAX_VALUE);
            if (index > ProgramCodec.MAX_DIMENSION) {
                throw new MalformedFrameException("card index " + rawIndex + " is out of range");
            }
            long memory = r.u64("DDR bytes", MAX_MEMORY_BYTES);
            int types = count(r, "weight type count", MAX_CAPABILITIES);
            Set<Integer> weightTypes = new TreeSet<>();
            for (int i = 0; i < types; i++) {
                weightTypes.add(r.u32In("weight type", 0, 1023));
            }
            int opCount = count(r, "op count", MAX_CAPABILITIES);
            Set<OpCode> ops = new TreeSet<>();
            for (int i = 0; i < opCount; i++) {
                int code = r.u8("op code");
                try {
                    ops.add(OpCode.fromCode(code));
                } catch (IllegalArgumentException newerOp) {
                    // a newer card may list ops this host does not know: it simply never submits them
                }
            }
            int portCount = count(r, "port count", MAX_PORTS);
            List<LinkPort> ports = new ArrayList<>(portCount);
            for (int i = 0; i < portCount; i++) {
                int port = r.u32In("port", 0, MAX_PORTS - 1);
                int neighbour = r.u32In("neighbour card", 0, ProgramCodec.MAX_DIMENSION);
                int neighbourPort = r.u32In("neighbour port", 0, MAX_PORTS - 1);
                long bandwidth = r.u64("port bandwidth", Long.MAX_VALUE);
                double latency = Double.longBitsToDouble(r.u64("port latency", Long.MAX_VALUE));
                if (!(latency >= 0 && latency < 3600)) {
                    throw new MalformedFrameException("port latency " + latency + " s is not a latency");
                }
                ports.add(new LinkPort(port, neighbour, neighbourPort, bandwidth, latency));
            }
            byte[] nonce = r.bytes(Handshake.NONCE_BYTES, "card nonce");
            byte[] proof = r.bytes(Handshake.PROOF_BYTES, "card proof");
            double dilation = 1;
            long clock = NO_CLOCK;
            if (minor >= 2 && r.remaining() > 0) {
                dilation = Double.longBitsToDouble(r.u64("time dilation", Long.MAX_VALUE));
                if (!(dilation >= 1 && dilation <= MAX_TIME_DILATION)) {
                    throw new MalformedFrameException("time dilation " + dilation + " is not within 1.."
                            + MAX_TIME_DILATION);
                }
                clock = r.i64("card clock");
            }
            // a card before 1.3 paces its host link like everything else
            double hostLinkDilation = dilation;
            if (minor >= 3 && r.remaining() > 0) {
                hostLinkDilation = Double.longBitsToDouble(r.u64("host-link dilation", Long.MAX_VALUE));
                if (!(hostLinkDilation >= 1 && hostLinkDilation <= MAX_TIME_DILATION)) {
                    throw new MalformedFrameException("host-link dilation " + hostLinkDilation + " is not within 1.."
                            + MAX_TIME_DILATION);
                }
            }
            r.end("HELLO_REPLY");
            return new HelloReply(major, minor, serial, firmware, index, memory, weightTypes, ops, ports, nonce, proof,
                    dilation, clock, hostLinkDilation);
        }
    }

    public record Auth(byte[] hostProof) {
        public byte[] encode() {
            return hostProof.clone();
        }

        public static Auth decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            Auth a = new Auth(r.bytes(Handshake.PROOF_BYTES, "host proof"));
            r.end("AUTH");
            return a;
        }
    }

    public record Alloc(long bytes, String purpose) {
        public byte[] encode() {
            return new WireWriter().u64(bytes).string(purpose).toBytes();
        }

        public static Alloc decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            Alloc a = new Alloc(r.u64("bytes", MAX_MEMORY_BYTES), r.string("purpose"));
            r.end("ALLOC");
            return a;
        }
    }

    /** The payload of ALLOC_REPLY and FREE: one buffer handle. */
    public record Handle(long handle) {
        public byte[] encode() {
            return new WireWriter().u64(handle).toBytes();
        }

        public static Handle decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            Handle h = new Handle(r.u64("handle", ProgramCodec.MAX_SLICE_FIELD));
            r.end("handle");
            return h;
        }
    }

    /** WRITE: {@code length} bytes of {@code data} from {@code dataOffset} go to byte {@code offset} of the buffer. */
    /**
     * A chunk of host bytes for a card buffer. {@code data} is read from {@code dataOffset} for {@code length}
     * bytes: a decoded WRITE is a view into its frame's payload, so a chunk is not copied on its way to the DDR.
     */
    public record Write(long handle, long offset, byte[] data, int dataOffset, int length) {
        /** The bytes a WRITE's fields take before its data. */
        public static final int FIELD_BYTES = 16;

        public byte[] encode() {
            return encode(handle, offset, ByteBuffer.wrap(data), dataOffset, length);
        }

        /** The payload of a WRITE of {@code length} bytes of {@code source} from {@code index}, copied once. */
        public static byte[] encode(long handle, long offset, ByteBuffer source, int index, int length) {
            byte[] payload = new byte[FIELD_BYTES + length];
            ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).putLong(handle).putLong(offset);
            source.get(index, payload, FIELD_BYTES, length);
            return payload;
        }

        public static Write decode(byte[] payload) throws MalformedFrameException {
            return decode(payload, payload.length);
        }

        /** A WRITE whose payload is the first {@code length} bytes of {@code payload} (a reused staging buffer). */
        public static Write decode(byte[] payload, int length) throws MalformedFrameException {
            if (length < 0 || length > payload.length) {
                throw new IllegalArgumentException("payload length " + length + " outside [0, " + payload.length + "]");
            }
            if (length < FIELD_BYTES) {
                throw new MalformedFrameException("WRITE: needs " + FIELD_BYTES + " bytes of handle and offset, "
                        + length + " in the payload");
            }
            ByteBuffer b = ByteBuffer.wrap(payload, 0, length).order(ByteOrder.LITTLE_ENDIAN);
            long handle = b.getLong();
            long offset = b.getLong();
            int data = length - FIELD_BYTES;
            checkFields(handle, offset, data);
            return new Write(handle, offset, payload, FIELD_BYTES, data);
        }

        /** The fields pass {@link #checkFields}'s checks (a sender's fields are valid: the refusal is rare). */
        static boolean fieldsValid(long handle, long offset, int data) {
            try {
                checkFields(handle, offset, data);
                return true;
            } catch (MalformedFrameException refused) {
                return false;
            }
        }

        static void checkFields(long handle, long offset, int data) throws MalformedFrameException {
            if (handle < 0 || handle > ProgramCodec.MAX_SLICE_FIELD) {
                throw new MalformedFrameException("handle " + Long.toUnsignedString(handle) + " outside [0, "
                        + ProgramCodec.MAX_SLICE_FIELD + "]");
            }
            if (offset < 0 || offset > MAX_MEMORY_BYTES) {
                throw new MalformedFrameException("offset " + Long.toUnsignedString(offset) + " outside [0, "
                        + MAX_MEMORY_BYTES + "]");
            }
            if (data > Wire.MAX_CHUNK_BYTES) {
                throw new MalformedFrameException("WRITE carries " + data + " bytes, a chunk is at most "
                        + Wire.MAX_CHUNK_BYTES);
            }
        }

        /** The data alone, copied (for tests and diagnostics; the card reads it in place). */
        public byte[] bytes() {
            return java.util.Arrays.copyOfRange(data, dataOffset, dataOffset + length);
        }
    }

    /**
     * A received WRITE read in place: its data a view of the reader's staging buffer (position 0, limit its length),
     * valid until the reader reads the next frame.
     */
    public record WriteChunk(long handle, long offset, ByteBuffer data) {
        /** A WRITE payload from its position to its limit, little-endian; checked as {@link Write#decode} checks. */
        public static WriteChunk decode(ByteBuffer payload) throws MalformedFrameException {
            int length = payload.remaining();
            if (length < Write.FIELD_BYTES) {
                throw new MalformedFrameException("WRITE: needs " + Write.FIELD_BYTES + " bytes of handle and offset, "
                        + length + " in the payload");
            }
            int at = payload.position();
            long handle = payload.getLong(at);
            long offset = payload.getLong(at + 8);
            Write.checkFields(handle, offset, length - Write.FIELD_BYTES);
            return new WriteChunk(handle, offset, payload.slice(at + Write.FIELD_BYTES, length - Write.FIELD_BYTES));
        }

        public int length() {
            return data.remaining();
        }
    }

    public record Read(long handle, long offset, int length) {
        public byte[] encode() {
            return new WireWriter().u64(handle).u64(offset).u32(length).toBytes();
        }

        public static Read decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            Read read = new Read(r.u64("handle", ProgramCodec.MAX_SLICE_FIELD), r.u64("offset", MAX_MEMORY_BYTES),
                    r.u32In("length", 0, Wire.MAX_CHUNK_BYTES));
            r.end("READ");
            return read;
        }
    }

    public record Memory(long capacityBytes, long usedBytes, int buffers) {
        public byte[] encode() {
            return new WireWriter().u64(capacityBytes).u64(usedBytes).u32(buffers).toBytes();
        }

        public static Memory decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            Memory m = new Memory(r.u64("capacity", MAX_MEMORY_BYTES), r.u64("used", MAX_MEMORY_BYTES),
                    r.u32In("buffers", 0, Integer.MAX_VALUE));
            r.end("MEMORY_REPLY");
            return m;
        }
    }

    /**
     * COMPLETE, card to host.
     *
     * @param startNanos (1.2) when the program started on the card, on the card's clock (HELLO_REPLY's), or
     *        {@link HelloReply#NO_CLOCK}
     * @param finishNanos (1.2) when it finished (its COMPLETE released), on the card's clock, or
     *        {@link HelloReply#NO_CLOCK}
     */
    public record Complete(int ops, long busyNanos, long startNanos, long finishNanos) {
        public Complete(int ops, long busyNanos) {
            this(ops, busyNanos, HelloReply.NO_CLOCK, HelloReply.NO_CLOCK);
        }

        /** Whether the card said when the program ran on its clock. */
        public boolean timed() {
            return startNanos != HelloReply.NO_CLOCK && finishNanos != HelloReply.NO_CLOCK;
        }

        public byte[] encode() {
            return encode(Wire.MINOR);
        }

        /** The payload for a host speaking {@code hostMinor}: the start and finish for a 1.2 host only. */
        public byte[] encode(int hostMinor) {
            WireWriter w = new WireWriter().u32(ops).u64(busyNanos);
            if (hostMinor >= 2 && timed()) {
                w.u64(startNanos).u64(finishNanos);
            }
            return w.toBytes();
        }

        public static Complete decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            int ops = r.u32In("ops", 0, ProgramCodec.MAX_OPS);
            long busy = r.u64("busy nanoseconds", Long.MAX_VALUE);
            long start = HelloReply.NO_CLOCK;
            long finish = HelloReply.NO_CLOCK;
            if (r.remaining() > 0) {
                start = r.i64("program start");
                finish = r.i64("program finish");
                if (finish < start || start == HelloReply.NO_CLOCK) {
                    throw new MalformedFrameException("program finish " + finish + " is before its start " + start);
                }
            }
            r.end("COMPLETE");
            return new Complete(ops, busy, start, finish);
        }
    }

    /**
     * PROGRAM_EPOCH (1.1): programs submitted on this connection after it run in {@code epoch}; programs of lower
     * epochs are given up (a queued one does not start, a running one stops at its next op or wait) and link
     * messages sent by them are dropped where they arrive. The host moves to a new epoch when a program fails, so its
     * next programs never take what the failed ones left on the links.
     */
    public record ProgramEpoch(long epoch) {
        public byte[] encode() {
            return new WireWriter().u64(epoch).toBytes();
        }

        public static ProgramEpoch decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            ProgramEpoch e = new ProgramEpoch(r.u64("epoch", Long.MAX_VALUE));
            r.end("PROGRAM_EPOCH");
            return e;
        }
    }

    public record LinkStatus(List<PortStatus> ports) {
        public byte[] encode() {
            WireWriter w = new WireWriter().u16(ports.size());
            ports.forEach(p -> w.u32(p.port()).u8(p.state().code()));
            return w.toBytes();
        }

        public static LinkStatus decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            int count = count(r, "port count", MAX_PORTS);
            List<PortStatus> ports = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                ports.add(new PortStatus(r.u32In("port", 0, MAX_PORTS - 1), state(r, "state")));
            }
            r.end("LINK_STATUS_REPLY");
            return new LinkStatus(ports);
        }
    }

    public record LinkEnable(int port, boolean enabled) {
        public byte[] encode() {
            return new WireWriter().u32(port).bool(enabled).toBytes();
        }

        public static LinkEnable decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            LinkEnable e = new LinkEnable(r.u32In("port", 0, MAX_PORTS - 1), r.bool("enabled"));
            r.end("LINK_ENABLE");
            return e;
        }
    }

    /** LINK_EVENT, card to host (request id 0): a port changed state, and why. */
    public record LinkEvent(int port, int neighbourCard, LinkState state, LinkState previous, String reason) {
        public byte[] encode() {
            return new WireWriter().u32(port).u32(neighbourCard).u8(state.code()).u8(previous.code()).string(reason)
                    .toBytes();
        }

        public static LinkEvent decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            LinkEvent e = new LinkEvent(r.u32In("port", 0, MAX_PORTS - 1), r.u32In("neighbour", 0,
                    ProgramCodec.MAX_DIMENSION), Messages.state(r, "state"), Messages.state(r, "previous state"), r.string("reason"));
            r.end("LINK_EVENT");
            return e;
        }
    }

    /**
     * LINK_CABLE (emulated cards only: the stand-in for plugging a cable): the card's index in its group and, for
     * one port, where its cable goes. {@code connect} is the end that drives the link clock (it opens the link
     * connection to {@code peerEndpoint}); the other end waits for it.
     */
    public record LinkCable(int index, int port, int neighbourCard, int neighbourPort, boolean connect,
            String peerEndpoint) {
        public byte[] encode() {
            return new WireWriter().u32(index).u32(port).u32(neighbourCard).u32(neighbourPort).bool(connect)
                    .string(peerEndpoint).toBytes();
        }

        public static LinkCable decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            LinkCable c = new LinkCable(r.u32In("index", 0, ProgramCodec.MAX_DIMENSION), r.u32In("port", 0,
                    MAX_PORTS - 1), r.u32In("neighbour card", 0, ProgramCodec.MAX_DIMENSION),
                    r.u32In("neighbour port", 0, MAX_PORTS - 1), r.bool("connect"), r.string("peer endpoint"));
            r.end("LINK_CABLE");
            return c;
        }
    }

    public record Telemetry(long hostWriteBytes, long hostWrites, long hostReadBytes, long hostReads, long programs,
            long ops, long busyNanos, List<PortTraffic> ports) {
        public byte[] encode() {
            WireWriter w = new WireWriter().u64(hostWriteBytes).u64(hostWrites).u64(hostReadBytes).u64(hostReads)
                    .u64(programs).u64(ops).u64(busyNanos).u16(ports.size());
            ports.forEach(p -> w.u32(p.port()).u64(p.sentBytes()).u64(p.sentMessages()).u64(p.receivedBytes())
                    .u64(p.receivedMessages()));
            return w.toBytes();
        }

        public static Telemetry decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            long[] v = new long[7];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.u64("counter " + i, Long.MAX_VALUE);
            }
            int count = count(r, "port count", MAX_PORTS);
            List<PortTraffic> ports = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                ports.add(new PortTraffic(r.u32In("port", 0, MAX_PORTS - 1), r.u64("sent bytes", Long.MAX_VALUE),
                        r.u64("sent messages", Long.MAX_VALUE), r.u64("received bytes", Long.MAX_VALUE),
                        r.u64("received messages", Long.MAX_VALUE)));
            }
            r.end("TELEMETRY_REPLY");
            return new Telemetry(v[0], v[1], v[2], v[3], v[4], v[5], v[6], ports);
        }
    }

    /**
     * ERROR: a kind, what was wrong, and for OP_FAILED the op (index and code), for OUT_OF_MEMORY the request and
     * what was free. Fields that do not apply are -1 / 0.
     */
    public record Error(WireError kind, int opIndex, int opCode, long requested, long free, long capacity,
            String message) {
        public static Error of(WireError kind, String message) {
            return new Error(kind, -1, 0, 0, 0, 0, message);
        }

        public byte[] encode() {
            return new WireWriter().u16(kind.code()).u32(opIndex < 0 ? NO_INDEX : opIndex).u8(opCode).u64(requested)
                    .u64(free).u64(capacity).string(message).toBytes();
        }

        public static Error decode(byte[] payload) throws MalformedFrameException {
            WireReader r = new WireReader(payload);
            WireError kind = WireError.fromCode(r.u16("kind"));
            long opIndex = r.u32("op index");
            Error e = new Error(kind, opIndex == NO_INDEX ? -1 : (int) Math.min(opIndex, ProgramCodec.MAX_OPS),
                    r.u8("op code"), r.u64("requested", Long.MAX_VALUE), r.u64("free", Long.MAX_VALUE),
                    r.u64("capacity", Long.MAX_VALUE), r.string("message"));
            r.end("ERROR");
            return e;
        }
    }

    private static int count(WireReader r, String field, int max) throws MalformedFrameException {
        int count = r.u16(field);
        if (count > max) {
            throw new MalformedFrameException(field + " " + count + " exceeds " + max);
        }
        return count;
    }

    static LinkState state(WireReader r, String field) throws MalformedFrameException {
        int code = r.u8(field);
        if (code > 3) {
            throw new MalformedFrameException(field + " code " + code + " is not a link state (0..3)");
        }
        return LinkState.fromCode(code);
    }
}
