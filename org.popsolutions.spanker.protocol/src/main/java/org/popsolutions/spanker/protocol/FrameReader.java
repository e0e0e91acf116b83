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
 * array per chunk; its CRC is checked before {@link #write()} hands the data out, so a corrupted chunk never reaches
 * the card's memory. Every other frame gets a payload array of its own ({@link #frame()}).
 *
 * <p>Read from a channel ({@link #FrameReader(ReadableByteChannel)}), the reader keeps its own direct read-ahead
 * buffer for headers and small frames and reads a WRITE's data straight from the socket into a direct staging
 * buffer, as large as the chunk: the kernel copies the bytes once, where a stream copies them into a temporary
 * direct buffer and again into an array, at most 128 KiB per read; the CRC is then computed on the direct buffer.
 */
public final class FrameReader {
    /** The read-ahead of a channel reader: several small frames per read, a WRITE's fields and its first bytes. */
    private static final int READ_AHEAD_BYTES = 64 << 10;
    /** A WRITE's data is read in pieces of at most this (well inside a core's L2), each CRC-summed at once. */
    private static final int DIRECT_READ_BYTES = 128 << 10;

    private final InputStream in;
    private final ReadableByteChannel channel;
    /** A channel reader's read-ahead (read mode: position..limit are the bytes read but not yet taken). */
    private final ByteBuffer inbox;
    /** A channel reader's WRITE staging buffer (direct). */
    private ByteBuffer directStaging = ByteBuffer.allocateDirect(0);
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
        if (!refill()) {
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
        type = null;
        payload = null;
        if (channel != null) {
            if (!inbox.hasRemaining() && !refill()) {
                throw new EOFException("connection closed");
            }
            take(header, 0, Wire.HEADER_BYTES, "header");
        } else {
            int first = in.read();
            if (first < 0) {
                throw new EOFException("connection closed");
            }
            header[0] = (byte) first;
            readFully(header, 1, Wire.HEADER_BYTES - 1, "header");
        }
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
        int n = (int) stated;
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

    /** A channel reader's WRITE: its payload read into the direct staging buffer, mostly straight from the socket. */
    private MessageType nextDirectWrite(int frameMajor, int frameMinor, long id, int n) throws IOException,
            MalformedFrameException {
        if (directStaging.capacity() < n) {
            directStaging = ByteBuffer.allocateDirect(n).order(ByteOrder.LITTLE_ENDIAN);
        }
        ByteBuffer into = directStaging.clear().limit(n);
        int ahead = Math.min(inbox.remaining(), n);
        into.put(0, inbox, inbox.position(), ahead).position(ahead);
        inbox.position(inbox.position() + ahead);
        crc.reset();
        crc.update(header, 0, Wire.HEADER_BYTES);
        crc.update(into.duplicate().flip());
        // read in pieces a core's cache holds, each summed while the kernel's copy left it there
        while (into.position() < n) {
            int from = into.position();
            into.limit(Math.min(n, from + DIRECT_READ_BYTES));
            if (channel.read(into) < 0) {
                throw new MalformedFrameException("connection closed inside a frame's payload (" + into.position()
                        + " of " + n + " bytes)");
            }
            crc.update(into.duplicate().flip().position(from));
        }
        take(crcBytes, 0, Wire.CRC_BYTES, "CRC");
        checkCrc(MessageType.WRITE);
        major = frameMajor;
        minor = frameMinor;
        requestId = id;
        length = n;
        type = MessageType.WRITE;
        return type;
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
        inbox.clear();
        int n;
        do {
            n = channel.read(inbox);
        } while (n == 0);
        inbox.flip();
        return n > 0;
    }

    /** Takes {@code count} bytes from the read-ahead, refilling it as needed. */
    private void take(byte[] into, int offset, int count, String part) throws IOException, MalformedFrameException {
        int done = 0;
        while (done < count) {
            if (!inbox.hasRemaining() && !refill()) {
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
