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
    public static final int MINOR = 3;
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

    /** Writes one frame and flushes (a connection that sends many keeps a {@link FrameWriter}). */
    public static void write(OutputStream out, Frame frame) throws IOException {
        new FrameWriter(out).write(frame);
    }

    /**
     * Writes one WRITE frame of {@code length} bytes of {@code source} from {@code index} and flushes (a connection
     * that sends many keeps a {@link FrameWriter}).
     */
    public static void writeWrite(OutputStream out, long requestId, long handle, long offset, ByteBuffer source,
            int index, int length) throws IOException {
        new FrameWriter(out).writeWrite(requestId, handle, offset, source, index, length, true);
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
     * {@link #MAX_PAYLOAD_BYTES} (a connection that reads many keeps a {@link FrameReader}).
     *
     * @throws EOFException when the stream ends before the first byte of a frame (the peer closed cleanly)
     * @throws MalformedFrameException when the bytes are not a frame of this protocol
     */
    public static Frame read(InputStream in) throws IOException, MalformedFrameException {
        FrameReader reader = new FrameReader(in);
        reader.next();
        return reader.frame();
    }
}
