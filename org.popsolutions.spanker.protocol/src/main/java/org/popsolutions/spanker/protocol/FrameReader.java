package org.popsolutions.spanker.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Reads the frames of one connection. A WRITE's payload is read into a staging buffer the reader keeps (grown to the
 * largest WRITE seen, never beyond {@link Wire#MAX_PAYLOAD_BYTES}), so a card receiving a load allocates no 1 MiB
 * array per chunk; its CRC is checked before {@link #write()} hands the data out, so a corrupted staged chunk never
 * reaches the card's memory. Every other frame gets a payload array of its own ({@link #frame()}).
 *
 * <p>Read from a channel ({@link #FrameReader(ReadableByteChannel)}), the reader keeps its own direct read-ahead
 * buffer for headers and small frames and reads a WRITE's data straight from the socket into a direct staging
 * buffer, as large as the chunk: the kernel copies the bytes once, where a stream copies them into a temporary
 * direct buffer and again into an array, at most 128 KiB per read; the CRC is then computed on the direct buffer.
 * Given a {@link WriteLanding} ({@link #landWrites}), it reads a WRITE's data straight into the landing's
 * destination instead (a card's memory), and has the landing undo it when the chunk fails. Over a non-blocking
 * channel, {@link #poll()} reads frames piece by piece as they come, for a thread that serves many connections.
 */
public final class FrameReader {
    /** The read-ahead of a channel reader: several small frames per read, a WRITE's fields and its first bytes. */
    private static final int READ_AHEAD_BYTES = 64 << 10;
    /**
     * After a landed WRITE of at least a read-ahead's bytes (a load streaming chunk after chunk), the next frame's
     * header is read with its WRITE fields and nothing more: a full read-ahead would take the next chunk's first 64 KiB
     * as well, to be copied into DDR a second time (perf on loopback: that copy took more of the card's session thread
     * than the undo backup of a whole rewritten chunk). Any other frame reads ahead as usual after its header.
     */
    private static final int WRITE_HEAD_BYTES = Wire.HEADER_BYTES + Messages.Write.FIELD_BYTES;
    /** The last frame was a landed WRITE of at least {@link #READ_AHEAD_BYTES}: the next header is read alone. */
    private boolean streamingWrites;
    /** A WRITE's data is read in pieces of at most this (well inside a core's L2), each CRC-summed at once. */
    private static final int DIRECT_READ_BYTES = 128 << 10;

    private final InputStream in;
    private final ReadableByteChannel channel;
    /** A channel reader's read-ahead (read mode: position..limit are the bytes read but not yet taken). */
    private final ByteBuffer inbox;
    /** A channel reader's WRITE staging buffer (direct). */
    private ByteBuffer directStaging = ByteBuffer.allocateDirect(0);
    /** A channel reader's WRITE fields (handle, offset) when a landing reads them before the data. */
    private final ByteBuffer fields = ByteBuffer.allocate(Messages.Write.FIELD_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    /** Where a channel reader's WRITE data goes when not staged (null: always staged). */
    private WriteLanding landing;
    /** The last WRITE's data in its landing's destination (position 0 to its length), or null when it was staged. */
    private ByteBuffer landedData;
    private long landedHandle;
    private long landedOffset;
    private final byte[] header = new byte[Wire.HEADER_BYTES];
    private final byte[] crcBytes = new byte[Wire.CRC_BYTES];
    private final CRC32C crc = new CRC32C();
    private byte[] staging = new byte[0];
    private int major;
    private int minor;
    private MessageType type;
    private long requestId;
    private int length;
    /** The last frame's payload when it has one of its own (not a WRITE). */
    private byte[] payload;

    public FrameReader(InputStream in) {
        this.in = in;
        this.channel = null;
        this.inbox = null;
    }

    /**
     * A reader of a blocking channel, with its own read-ahead: the channel must not be read by anyone else while this
     * reader is in use (bytes it read ahead would be lost to them).
     */
    public FrameReader(ReadableByteChannel channel) {
        this.in = null;
        this.channel = channel;
        this.inbox = ByteBuffer.allocateDirect(READ_AHEAD_BYTES).flip();
    }

    /**
     * From the next frame on, a WRITE's data goes straight to where {@code landing} puts it, checked by its CRC as it
     * lands and undone when the chunk fails (a channel reader only; null: staged again). Set it once the peer may
     * write: a card sets it after the handshake, so nothing an unauthenticated peer sends reaches its memory.
     */
    public void landWrites(WriteLanding landing) {
        if (channel == null && landing != null) {
            throw new IllegalStateException("only a channel reader lands WRITE data");
        }
        this.landing = landing;
    }

    /**
     * The last frame, a WRITE, went to its landing's destination (and passed its CRC there): nothing is left to copy.
     * False for a staged one, whose data {@link #writeChunk()} hands out.
     */
    public boolean landed() {
        requireFrame();
        return type == MessageType.WRITE && landedData != null;
    }

    /** Bytes this reader has read ahead and not yet handed out (a channel reader; 0 for a stream reader). */
    public int buffered() {
        return inbox == null ? 0 : inbox.remaining();
    }

    /**
     * A channel reader: waits until at least one byte of the next frame has been read (so the caller can tell when
     * the frame began to arrive).
     *
     * @throws EOFException when the stream ends first
     */
    public void awaitFirstByte() throws IOException {
        if (inbox == null) {
            throw new IllegalStateException("only a channel reader reads ahead");
        }
        if (inbox.hasRemaining()) {
            return;
        }
        if (!refill(streamingWrites ? WRITE_HEAD_BYTES : READ_AHEAD_BYTES)) {
            throw new EOFException("connection closed");
        }
    }

    /**
     * Reads the next frame, checking its header before allocating anything and its CRC before returning.
     *
     * @return the frame's type
     * @throws EOFException when the stream ends before the first byte of a frame (the peer closed cleanly)
     * @throws MalformedFrameException when the bytes are not a frame of this protocol
     */
    public MessageType next() throws IOException, MalformedFrameException {
        if (polled != null || polledBytes > 0) {
            throw new IllegalStateException("poll() has read part of a frame: go on polling");
        }
        type = null;
        payload = null;
        landedData = null;
        if (channel != null) {
            if (!inbox.hasRemaining() && !refill(streamingWrites ? WRITE_HEAD_BYTES : READ_AHEAD_BYTES)) {
                throw new EOFException("connection closed");
            }
            streamingWrites = false;
            take(header, 0, Wire.HEADER_BYTES, "header");
        } else {
            int first = in.read();
            if (first < 0) {
                throw new EOFException("connection closed");
            }
            header[0] = (byte) first;
            readFully(header, 1, Wire.HEADER_BYTES - 1, "header");
        }
        Header checked = checkHeader();
        int frameMajor = checked.major();
        int frameMinor = checked.minor();
        MessageType frameType = checked.type();
        long id = checked.id();
        int n = checked.length();
        if (channel != null && frameType == MessageType.WRITE) {
            return nextDirectWrite(frameMajor, frameMinor, id, n);
        }
        byte[] into;
        if (frameType == MessageType.WRITE) {
            if (staging.length < n) {
                staging = new byte[n];
            }
            into = staging;
        } else {
            into = new byte[n];
        }
        if (channel != null) {
            take(into, 0, n, "payload");
            take(crcBytes, 0, Wire.CRC_BYTES, "CRC");
        } else {
            readFully(into, 0, n, "payload");
            readFully(crcBytes, 0, Wire.CRC_BYTES, "CRC");
        }
        crc.reset();
        crc.update(header, 0, Wire.HEADER_BYTES);
        crc.update(into, 0, n);
        checkCrc(frameType);
        major = frameMajor;
        minor = frameMinor;
        requestId = id;
        length = n;
        payload = frameType == MessageType.WRITE ? null : into;
        type = frameType;
        return frameType;
    }

    /** A frame's header fields, checked. */
    private record Header(int major, int minor, MessageType type, long id, int length) {
    }

    /** Checks the header just read, before anything is allocated for the frame. */
    private Header checkHeader() throws MalformedFrameException {
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        int magic = h.getInt(0);
        if (magic != Wire.MAGIC) {
            throw new MalformedFrameException(String.format("bad magic 0x%08X (expected 0x%08X)", magic, Wire.MAGIC));
        }
        int frameMajor = header[4] & 0xFF;
        int frameMinor = header[5] & 0xFF;
        int typeCode = header[6] & 0xFF;
        int flags = header[7] & 0xFF;
        long id = h.getInt(8) & 0xFFFF_FFFFL;
        long stated = h.getInt(12) & 0xFFFF_FFFFL;
        if (stated > Wire.MAX_PAYLOAD_BYTES) {
            throw new MalformedFrameException("payload length " + stated + " exceeds the limit of "
                    + Wire.MAX_PAYLOAD_BYTES + " bytes");
        }
        MessageType frameType = MessageType.fromCode(typeCode);
        if (frameType == null) {
            throw new MalformedFrameException(String.format("unknown message type 0x%02X", typeCode));
        }
        if (flags != 0) {
            throw new MalformedFrameException(String.format("flags 0x%02X set; version %d.%d defines none", flags,
                    frameMajor, frameMinor));
        }
        return new Header(frameMajor, frameMinor, frameType, id, (int) stated);
    }

    /** The header of the frame {@link #poll()} is collecting the payload of, or null while it collects a header. */
    private Header polled;
    /** Bytes of the header, or of the payload and CRC, that {@link #poll()} has collected so far. */
    private int polledBytes;
    /** The payload and CRC {@link #poll()} collects (grown to the largest frame seen). */
    private byte[] polledBody = new byte[0];

    /**
     * The resumable {@link #next()}: takes what the channel has now and returns the next frame's type once all of it
     * has come, or null when it has not yet (call again when the channel is readable: on a non-blocking channel, e.g.
     * one that a selector watches, so that one thread can read the frames of many). The same checks as {@link #next()}
     * (the header before anything is allocated, the CRC before the frame is handed out) with the same messages; the
     * frame is then read as after {@link #next()}. A WRITE is staged, never landed. Once polling has begun a frame,
     * only polling may go on with it.
     *
     * @throws EOFException when the stream ends before the first byte of a frame
     * @throws MalformedFrameException when the bytes are not a frame of this protocol, or the stream ends inside one
     */
    public MessageType poll() throws IOException, MalformedFrameException {
        if (channel == null) {
            throw new IllegalStateException("only a channel reader polls");
        }
        type = null;
        payload = null;
        landedData = null;
        while (true) {
            if (polled == null) {
                polledBytes += takeAvailable(header, polledBytes, Wire.HEADER_BYTES - polledBytes);
                if (polledBytes == Wire.HEADER_BYTES) {
                    polledBytes = 0;
                    polled = checkHeader();
                    int body = polled.length() + Wire.CRC_BYTES;
                    if (polledBody.length < body) {
                        polledBody = new byte[body];
                    }
                    continue;
                }
            } else {
                int body = polled.length() + Wire.CRC_BYTES;
                polledBytes += takeAvailable(polledBody, polledBytes, body - polledBytes);
                if (polledBytes == body) {
                    Header h = polled;
                    polled = null;
                    polledBytes = 0;
                    return polledFrame(h);
                }
            }
            if (!readAvailable()) {
                return null;
            }
        }
    }

    private int takeAvailable(byte[] into, int offset, int most) {
        int n = Math.min(inbox.remaining(), most);
        inbox.get(into, offset, n);
        return n;
    }

    /** Reads what the channel has into the empty read-ahead: false when it has nothing now. */
    private boolean readAvailable() throws IOException, MalformedFrameException {
        inbox.clear();
        int n = channel.read(inbox);
        inbox.flip();
        if (n >= 0) {
            return n > 0;
        }
        if (polled == null && polledBytes == 0) {
            throw new EOFException("connection closed");
        }
        if (polled == null) {
            throw new MalformedFrameException("connection closed inside a frame's header (" + polledBytes + " of "
                    + Wire.HEADER_BYTES + " bytes)");
        }
        int n0 = polled.length();
        throw new MalformedFrameException(polledBytes < n0 ? "connection closed inside a frame's payload ("
                + polledBytes + " of " + n0 + " bytes)" : "connection closed inside a frame's CRC (" + (polledBytes
                - n0) + " of " + Wire.CRC_BYTES + " bytes)");
    }

    /** A frame {@link #poll()} has collected whole: its CRC checked, then kept as {@link #next()} keeps one. */
    private MessageType polledFrame(Header h) throws MalformedFrameException {
        int n = h.length();
        System.arraycopy(polledBody, n, crcBytes, 0, Wire.CRC_BYTES);
        crc.reset();
        crc.update(header, 0, Wire.HEADER_BYTES);
        crc.update(polledBody, 0, n);
        checkCrc(h.type());
        if (h.type() == MessageType.WRITE) {
            staging(n).put(0, polledBody, 0, n);
        } else {
            payload = Arrays.copyOf(polledBody, n);
        }
        major = h.major();
        minor = h.minor();
        requestId = h.id();
        length = n;
        type = h.type();
        return type;
    }

    /**
     * A channel reader's WRITE: its data read straight from the socket into the landing's destination when there is
     * one, else into the direct staging buffer, in pieces each CRC-summed as it lands; a landed chunk that fails is
     * undone before the failure is thrown.
     */
    private MessageType nextDirectWrite(int frameMajor, int frameMinor, long id, int n) throws IOException,
            MalformedFrameException {
        crc.reset();
        crc.update(header, 0, Wire.HEADER_BYTES);
        landedData = null;
        WriteLanding.Target target = null;
        ByteBuffer into;
        int before;
        if (landing != null && n >= Messages.Write.FIELD_BYTES) {
            ByteBuffer f = fields.clear();
            receive(f, 0, n, null);
            long handle = f.getLong(0);
            long offset = f.getLong(8);
            int data = n - Messages.Write.FIELD_BYTES;
            // fields the staged path would refuse keep that path, so the refusal reads as it always did
            target = Messages.Write.fieldsValid(handle, offset, data) ? landing.open(handle, offset, data) : null;
            if (target != null) {
                into = target.bytes().duplicate();
                if (into.position() != 0 || into.remaining() != data) {
                    throw new IllegalStateException("a landing's destination holds " + into.remaining() + " bytes from "
                            + into.position() + ", the chunk " + data + " from 0");
                }
                landedHandle = handle;
                landedOffset = offset;
                before = Messages.Write.FIELD_BYTES;
            } else {
                into = staging(n).put(0, f, 0, Messages.Write.FIELD_BYTES).position(Messages.Write.FIELD_BYTES);
                before = 0;
            }
        } else {
            into = staging(n);
            before = 0;
        }
        try {
            receive(into, before, n, target);
            // a load's chunk: its CRC is read with the next frame's header and WRITE fields, and no more
            take(crcBytes, 0, Wire.CRC_BYTES, "CRC", target != null && n >= READ_AHEAD_BYTES ? Wire.CRC_BYTES
                    + WRITE_HEAD_BYTES : READ_AHEAD_BYTES);
            checkCrc(MessageType.WRITE);
        } catch (IOException | MalformedFrameException | RuntimeException | Error e) {
            if (target != null) {
                target.undo(into.position());
            }
            throw e;
        }
        landedData = target != null ? into.flip() : null;
        streamingWrites = target != null && n >= READ_AHEAD_BYTES;
        major = frameMajor;
        minor = frameMinor;
        requestId = id;
        length = n;
        type = MessageType.WRITE;
        return type;
    }

    /** The direct staging buffer, cleared to {@code n} bytes. */
    private ByteBuffer staging(int n) {
        if (directStaging.capacity() < n) {
            directStaging = ByteBuffer.allocateDirect(n).order(ByteOrder.LITTLE_ENDIAN);
        }
        return directStaging.clear().limit(n);
    }

    /**
     * Reads payload bytes into {@code into} from its position to its limit: what the read-ahead holds, then straight
     * from the socket in pieces a core's cache holds, each summed while the kernel's copy left it there; a landing
     * target is told before each piece overwrites its destination.
     *
     * @param before the payload's bytes before {@code into}'s position 0 (for the message when the stream ends)
     * @param n the payload's length
     */
    private void receive(ByteBuffer into, int before, int n, WriteLanding.Target target) throws IOException,
            MalformedFrameException {
        int end = into.limit();
        int ahead = Math.min(inbox.remaining(), into.remaining());
        if (ahead > 0) {
            int from = into.position();
            if (target != null) {
                target.saving(from, from + ahead);
            }
            into.put(from, inbox, inbox.position(), ahead).position(from + ahead);
            inbox.position(inbox.position() + ahead);
            crc.update(into.duplicate().flip().position(from));
        }
        while (into.position() < end) {
            int piece = into.position();
            int to = Math.min(end, piece + DIRECT_READ_BYTES);
            if (target != null) {
                target.saving(piece, to);
            }
            into.limit(to);
            while (into.position() < to) {
                int from = into.position();
                if (channel.read(into) < 0) {
                    into.limit(end);
                    throw new MalformedFrameException("connection closed inside a frame's payload (" + (before + from)
                            + " of " + n + " bytes)");
                }
                crc.update(into.duplicate().flip().position(from));
            }
        }
        into.limit(end);
    }

    private void checkCrc(MessageType frameType) throws MalformedFrameException {
        int expected = (int) crc.getValue();
        int actual = ByteBuffer.wrap(crcBytes).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (expected != actual) {
            throw new MalformedFrameException(String.format("CRC32C mismatch on %s frame: carried 0x%08X, computed"
                    + " 0x%08X", frameType, actual, expected));
        }
    }

    /** Reads more into the empty read-ahead; false at the end of the stream. */
    private boolean refill() throws IOException {
        return refill(READ_AHEAD_BYTES);
    }

    /** Reads at most {@code most} bytes into the empty read-ahead; false at the end of the stream. */
    private boolean refill(int most) throws IOException {
        inbox.clear().limit(most);
        int n;
        do {
            n = channel.read(inbox);
        } while (n == 0);
        inbox.flip();
        return n > 0;
    }

    /** Takes {@code count} bytes from the read-ahead, refilling it as needed. */
    private void take(byte[] into, int offset, int count, String part) throws IOException, MalformedFrameException {
        take(into, offset, count, part, READ_AHEAD_BYTES);
    }

    /** As {@link #take(byte[], int, int, String)}, reading at most {@code readAhead} bytes at a time. */
    private void take(byte[] into, int offset, int count, String part, int readAhead) throws IOException,
            MalformedFrameException {
        int done = 0;
        while (done < count) {
            if (!inbox.hasRemaining() && !refill(readAhead)) {
                throw new MalformedFrameException("connection closed inside a frame's " + part + " (" + done + " of "
                        + count + " bytes)");
            }
            int n = Math.min(inbox.remaining(), count - done);
            inbox.get(into, offset + done, n);
            done += n;
        }
    }

    public int major() {
        return major;
    }

    public long requestId() {
        return requestId;
    }

    /** The last frame's sender version, "major.minor". */
    public String version() {
        return major + "." + minor;
    }

    /** The last frame whole (a WRITE's payload copied out of the staging buffer). */
    public Frame frame() {
        requireFrame();
        return new Frame(major, minor, type, requestId, payload != null ? payload : stagedCopy());
    }

    private byte[] stagedCopy() {
        if (channel == null) {
            return Arrays.copyOf(staging, length);
        }
        byte[] copy = new byte[length];
        if (landedData != null) {
            ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putLong(landedHandle).putLong(landedOffset)
                    .put(landedData.duplicate());
            return copy;
        }
        directStaging.get(0, copy);
        return copy;
    }

    /**
     * The last frame, a WRITE, decoded as a view into the staging buffer: its data is valid until the next
     * {@link #next()}.
     */
    public Messages.Write write() throws MalformedFrameException {
        requireFrame();
        if (type != MessageType.WRITE) {
            throw new IllegalStateException("the last frame is a " + type + ", not a WRITE");
        }
        if (channel != null) {
            byte[] copy = stagedCopy();
            return Messages.Write.decode(copy, copy.length);
        }
        return Messages.Write.decode(staging, length);
    }

    /**
     * The last frame, a WRITE, with its data as a read-only view of the staging buffer (direct for a channel reader):
     * valid until the next {@link #next()}. Its fields are checked as {@link Messages.Write#decode} checks them.
     */
    public Messages.WriteChunk writeChunk() throws MalformedFrameException {
        requireFrame();
        if (type != MessageType.WRITE) {
            throw new IllegalStateException("the last frame is a " + type + ", not a WRITE");
        }
        if (landedData != null) {
            return new Messages.WriteChunk(landedHandle, landedOffset, landedData.asReadOnlyBuffer()
                    .order(ByteOrder.LITTLE_ENDIAN));
        }
        ByteBuffer staged = channel != null ? directStaging.duplicate().clear().limit(length)
                : ByteBuffer.wrap(staging, 0, length);
        return Messages.WriteChunk.decode(staged.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }

    private void requireFrame() {
        if (type == null) {
            throw new IllegalStateException("no frame read (or the last one was malformed)");
        }
    }

    private void readFully(byte[] into, int offset, int count, String part) throws IOException, MalformedFrameException {
        int done = 0;
        while (done < count) {
            int n = in.read(into, offset + done, count - done);
            if (n < 0) {
                throw new MalformedFrameException("connection closed inside a frame's " + part + " (" + done + " of "
                        + count + " bytes)");
            }
            done += n;
        }
    }
}
