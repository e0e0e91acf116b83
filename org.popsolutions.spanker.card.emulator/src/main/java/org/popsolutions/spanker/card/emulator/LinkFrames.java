package org.popsolutions.spanker.card.emulator;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.popsolutions.spanker.protocol.MalformedFrameException;

/**
 * Inter-card link frames (docs/protocol.md, "Inter-card links"): u16 magic "LK", u8 type, u8 reserved, u32 length,
 * payload, CRC32C of all before it. A SEND's message travels as DATA_MORE fragments and one DATA_END, the first
 * fragment led by the sending program's epoch; PROGRESS frames tell the neighbour how long ago this card last made
 * progress.
 */
final class LinkFrames {
    static final int MAGIC = 0x4B4C;
    static final int TRAIN = 1;
    static final int DATA_END = 2;
    static final int DATA_MORE = 3;
    /** A card's progress beacon: u64 nanoseconds since it (or a card it waits on) last made progress. */
    static final int PROGRESS = 4;
    /**
     * The first fragment of a message starts with the u64 epoch of the program that sent it and, on shaped cards,
     * the u64 hardware time the message has fully arrived (the sender's clock plus the link's time; 0 unshaped).
     */
    static final int MESSAGE_HEADER_BYTES = 16;
    static final int HEADER = 8;
    static final int MAX_FRAGMENT = 1 << 20;
    static final int TRAIN_CYCLES = 16;

    private LinkFrames() {
    }

    record LinkFrame(int type, byte[] payload) {
    }

    static void write(OutputStream out, int type, byte[] data, int offset, int length) throws IOException {
        write(out, type, false, 0, 0, data, offset, length);
    }

    /** One frame; with {@code stamped} its payload starts with the message header (a message's first fragment). */
    static void write(OutputStream out, int type, boolean stamped, long epoch, long arrivalNanos, byte[] data,
            int offset, int length) throws IOException {
        int prefix = stamped ? MESSAGE_HEADER_BYTES : 0;
        byte[] frame = new byte[HEADER + prefix + length + 4];
        ByteBuffer b = ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) MAGIC).put((byte) type).put((byte) 0).putInt(prefix + length);
        if (stamped) {
            b.putLong(epoch).putLong(arrivalNanos);
        }
        b.put(data, offset, length);
        CRC32C crc = new CRC32C();
        crc.update(frame, 0, HEADER + prefix + length);
        b.putInt((int) crc.getValue());
        out.write(frame);
    }

    static LinkFrame read(InputStream in) throws IOException, MalformedFrameException {
        byte[] header = readFully(in, HEADER);
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        int magic = h.getShort(0) & 0xFFFF;
        int type = header[2] & 0xFF;
        long length = h.getInt(4) & 0xFFFF_FFFFL;
        if (magic != MAGIC) {
            throw new MalformedFrameException(String.format("link frame magic 0x%04X, expected 0x%04X", magic, MAGIC));
        }
        if (type < TRAIN || type > PROGRESS || header[3] != 0) {
            throw new MalformedFrameException("link frame type " + type + " / reserved " + header[3] + " unknown");
        }
        if (length > MAX_FRAGMENT + 64) {
            throw new MalformedFrameException("link frame of " + length + " bytes exceeds " + (MAX_FRAGMENT + 64));
        }
        byte[] payload = readFully(in, (int) length);
        byte[] crcBytes = readFully(in, 4);
        CRC32C crc = new CRC32C();
        crc.update(header);
        crc.update(payload);
        if ((int) crc.getValue() != ByteBuffer.wrap(crcBytes).order(ByteOrder.LITTLE_ENDIAN).getInt()) {
            throw new MalformedFrameException("link frame failed its CRC32C");
        }
        return new LinkFrame(type, payload);
    }

    private static byte[] readFully(InputStream in, int length) throws IOException {
        byte[] out = new byte[length];
        int done = 0;
        while (done < length) {
            int n = in.read(out, done, length - done);
            if (n < 0) {
                throw new EOFException("the peer closed the link");
            }
            done += n;
        }
        return out;
    }
}
