package org.popsolutions.spanker.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Reads the frames of one connection. A WRITE's payload is read into a staging buffer the reader keeps (grown to the
 * largest WRITE seen, never beyond {@link Wire#MAX_PAYLOAD_BYTES}), so a card receiving a load allocates no 1 MiB
 * array per chunk; its CRC is checked before {@link #write()} hands the data out, so a corrupted chunk never reaches
 * the card's memory. Every other frame gets a payload array of its own ({@link #frame()}).
 */
public final class FrameReader {
    private final InputStream in;
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
        int first = in.read();
        if (first < 0) {
            throw new EOFException("connection closed");
        }
        header[0] = (byte) first;
        readFully(header, 1, Wire.HEADER_BYTES - 1, "header");
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
        byte[] into;
        if (frameType == MessageType.WRITE) {
            if (staging.length < n) {
                staging = new byte[n];
            }
            into = staging;
        } else {
            into = new byte[n];
        }
        readFully(into, 0, n, "payload");
        readFully(crcBytes, 0, Wire.CRC_BYTES, "CRC");
        crc.reset();
        crc.update(header, 0, Wire.HEADER_BYTES);
        crc.update(into, 0, n);
        int expected = (int) crc.getValue();
        int actual = ByteBuffer.wrap(crcBytes).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (expected != actual) {
            throw new MalformedFrameException(String.format("CRC32C mismatch on %s frame: carried 0x%08X, computed"
                    + " 0x%08X", frameType, actual, expected));
        }
        major = frameMajor;
        minor = frameMinor;
        requestId = id;
        length = n;
        payload = frameType == MessageType.WRITE ? null : into;
        type = frameType;
        return frameType;
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
        return new Frame(major, minor, type, requestId, payload != null ? payload : Arrays.copyOf(staging, length));
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
        return Messages.Write.decode(staging, length);
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
