package org.popsolutions.spanker.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The frame layer of docs/protocol.md. A frame is a 16-byte header, the payload and a CRC32C, all little-endian:
 *
 * <pre>
 *  0  u32 magic 0x4C494153 ("SAIL" as bytes)     8  u32 request id
 *  4  u8  major    5 u8 minor                      12 u32 payload length (&lt;= MAX_PAYLOAD_BYTES)
 *  6  u8  type     7 u8 flags (0)                  16 payload, then u32 CRC32C of bytes [0, 16 + length)
 * </pre>
 *
 * The header layout never changes between major versions, so a peer can always read a HELLO or an ERROR and name
 * both versions when they differ.
 */
public final class Wire {
    public static final int MAJOR = 1;
    public static final int MINOR = 2;
    public static final int MAGIC = 0x4C494153;
    public static final int HEADER_BYTES = 16;
    public static final int CRC_BYTES = 4;
    /** The most data one WRITE or READ_REPLY carries. */
    public static final int MAX_CHUNK_BYTES = 1 << 20;
    /** The largest payload of any frame: a full chunk plus its handle and offset with room to spare. */
    public static final int MAX_PAYLOAD_BYTES = MAX_CHUNK_BYTES + 64;

    private Wire() {
    }

    public static String version() {
        return MAJOR + "." + MINOR;
    }

    /** Writes one frame and flushes. */
    public static void write(OutputStream out, Frame frame) throws IOException {
        // Header, payload and CRC go out as they are: a 1 MiB WRITE is not copied into a frame first.
        byte[] payload = frame.payload();
        byte[] header = header(frame, payload.length);
        CRC32C crc = new CRC32C();
        crc.update(header, 0, HEADER_BYTES);
        crc.update(payload, 0, payload.length);
        byte[] trailer = new byte[CRC_BYTES];
        ByteBuffer.wrap(trailer).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
        out.write(header);
        out.write(payload);
        out.write(trailer);
        out.flush();
    }

    /**
     * Writes one WRITE frame of {@code length} bytes of {@code source} from {@code index} and flushes: the bytes are
     * copied once, straight into the frame, and the frame goes out in one piece (a separate header and CRC would
     * each be a small TCP segment of their own on a no-delay socket).
     */
    public static void writeWrite(OutputStream out, long requestId, long handle, long offset, ByteBuffer source,
            int index, int length) throws IOException {
        int payload = Messages.Write.FIELD_BYTES + length;
        byte[] bytes = new byte[HEADER_BYTES + payload + CRC_BYTES];
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).put((byte) MAJOR).put((byte) MINOR).put((byte) MessageType.WRITE.code()).put((byte) 0)
                .putInt((int) requestId).putInt(payload).putLong(handle).putLong(offset);
        source.get(index, bytes, HEADER_BYTES + Messages.Write.FIELD_BYTES, length);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, HEADER_BYTES + payload);
        b.putInt(HEADER_BYTES + payload, (int) crc.getValue());
        out.write(bytes);
        out.flush();
    }

    private static byte[] header(Frame frame, int payloadLength) {
        byte[] header = new byte[HEADER_BYTES];
        ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).putInt(MAGIC).put((byte) frame.major())
                .put((byte) frame.minor()).put((byte) frame.type().code()).put((byte) 0)
                .putInt((int) frame.requestId()).putInt(payloadLength);
        return header;
    }

    /** The bytes of one frame. */
    public static byte[] encode(Frame frame) {
        byte[] payload = frame.payload();
        byte[] bytes = new byte[HEADER_BYTES + payload.length + CRC_BYTES];
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(header(frame, payload.length)).put(payload);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, HEADER_BYTES + payload.length);
        b.putInt((int) crc.getValue());
        return bytes;
    }

    /**
     * Reads one frame. Nothing is allocated before the stated length has been checked against
     * {@link #MAX_PAYLOAD_BYTES}.
     *
     * @throws EOFException when the stream ends before the first byte of a frame (the peer closed cleanly)
     * @throws MalformedFrameException when the bytes are not a frame of this protocol
     */
    public static Frame read(InputStream in) throws IOException, MalformedFrameException {
        byte[] header = new byte[HEADER_BYTES];
        int first = in.read();
        if (first < 0) {
            throw new EOFException("connection closed");
        }
        header[0] = (byte) first;
        readFully(in, header, 1, HEADER_BYTES - 1, "header");
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        int magic = h.getInt(0);
        if (magic != MAGIC) {
            throw new MalformedFrameException(String.format("bad magic 0x%08X (expected 0x%08X)", magic, MAGIC));
        }
        int major = header[4] & 0xFF;
        int minor = header[5] & 0xFF;
        int typeCode = header[6] & 0xFF;
        int flags = header[7] & 0xFF;
        long requestId = h.getInt(8) & 0xFFFF_FFFFL;
        long length = h.getInt(12) & 0xFFFF_FFFFL;
        if (length > MAX_PAYLOAD_BYTES) {
            throw new MalformedFrameException("payload length " + length + " exceeds the limit of " + MAX_PAYLOAD_BYTES
                    + " bytes");
        }
        MessageType type = MessageType.fromCode(typeCode);
        if (type == null) {
            throw new MalformedFrameException(String.format("unknown message type 0x%02X", typeCode));
        }
        if (flags != 0) {
            throw new MalformedFrameException(String.format("flags 0x%02X set; version %d.%d defines none", flags,
                    major, minor));
        }
        byte[] payload = new byte[(int) length];
        readFully(in, payload, 0, payload.length, "payload");
        byte[] crcBytes = new byte[CRC_BYTES];
        readFully(in, crcBytes, 0, CRC_BYTES, "CRC");
        CRC32C crc = new CRC32C();
        crc.update(header);
        crc.update(payload);
        int expected = (int) crc.getValue();
        int actual = ByteBuffer.wrap(crcBytes).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (expected != actual) {
            throw new MalformedFrameException(String.format("CRC32C mismatch on %s frame: carried 0x%08X, computed 0x%08X",
                    type, actual, expected));
        }
        return new Frame(major, minor, type, requestId, payload);
    }

    private static void readFully(InputStream in, byte[] into, int offset, int length, String part)
            throws IOException, MalformedFrameException {
        int done = 0;
        while (done < length) {
            int n = in.read(into, offset + done, length - done);
            if (n < 0) {
                throw new MalformedFrameException("connection closed inside a frame's " + part + " (" + done + " of "
                        + length + " bytes)");
            }
            done += n;
        }
    }
}
