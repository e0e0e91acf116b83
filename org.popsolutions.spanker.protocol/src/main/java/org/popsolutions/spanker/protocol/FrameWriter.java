package org.popsolutions.spanker.protocol;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.GatheringByteChannel;
import java.util.zip.CRC32C;

/**
 * Writes the frames of one connection, each in one piece from a buffer the writer keeps (grown to the largest frame
 * sent): no array per frame, and a separate header or CRC never goes out as a small TCP segment of its own on a
 * no-delay socket. Not thread-safe: a connection's senders share it under the lock that orders their frames.
 */
public final class FrameWriter {
    private final OutputStream out;
    private final GatheringByteChannel channel;
    private final CRC32C crc = new CRC32C();
    private byte[] buffer = new byte[256];
    private final ByteBuffer[] pieces = {ByteBuffer.allocateDirect(Wire.HEADER_BYTES + Messages.Write.FIELD_BYTES)
            .order(ByteOrder.LITTLE_ENDIAN), null, ByteBuffer.allocateDirect(Wire.CRC_BYTES)
            .order(ByteOrder.LITTLE_ENDIAN)};

    /**
     * A WRITE's data goes out in pieces of at most this, each summed just before. Half a core's L2 here (512 KiB), so a
     * piece is still in cache for the kernel's copy; perf on loopback counted a third fewer host samples per byte than
     * with 128 KiB pieces, eight sends a chunk whose socket-lock hand-offs and wake-ups cost the sender more than the
     * cache saved; 1 MiB pieces fell out of L2 and the kernel's copy grew instead.
     */
    private static final int PIECE_BYTES = 256 << 10;
    /** The direct buffer a heap source's pieces are copied into (made at the first such WRITE). */
    private ByteBuffer copyBuffer;

    public FrameWriter(OutputStream out) {
        this(out, null);
    }

    /**
     * A writer that sends WRITE data straight from its source through {@code channel} (the channel of the socket
     * {@code out} writes to): header, data and CRC go out in gathering writes of at most 256 KiB of data, each
     * piece CRC-summed just before it is sent (still in cache), and data in a direct buffer (a mapped model file) is
     * not copied on the way.
     */
    public FrameWriter(OutputStream out, GatheringByteChannel channel) {
        this.out = out;
        this.channel = channel;
    }

    /** Writes one frame, and flushes when {@code flush} (false lets several frames go out in one segment). */
    public void write(Frame frame, boolean flush) throws IOException {
        byte[] payload = frame.payload();
        ByteBuffer b = start(frame.major(), frame.minor(), frame.type(), frame.requestId(), payload.length);
        b.put(payload);
        finish(b, payload.length, flush);
    }

    /** Writes one frame and flushes. */
    public void write(Frame frame) throws IOException {
        write(frame, true);
    }

    /** A WRITE of {@code length} bytes of {@code source} from {@code index}, copied once, straight into the frame. */
    public void writeWrite(long requestId, long handle, long offset, ByteBuffer source, int index, int length,
            boolean flush) throws IOException {
        int payload = Messages.Write.FIELD_BYTES + length;
        if (channel != null) {
            out.flush(); // frames written before it go first
            ByteBuffer head = pieces[0].clear();
            head.putInt(Wire.MAGIC).put((byte) Wire.MAJOR).put((byte) Wire.MINOR).put((byte) MessageType.WRITE.code())
                    .put((byte) 0).putInt((int) requestId).putInt(payload).putLong(handle).putLong(offset).flip();
            crc.reset();
            crc.update(head.duplicate());
            ByteBuffer data = source.slice(index, length);
            boolean heap = !data.isDirect();
            if (heap && copyBuffer == null) {
                copyBuffer = ByteBuffer.allocateDirect(PIECE_BYTES);
            }
            // in pieces a core's cache holds: each summed and sent while hot (a heap source copied into one reused
            // direct buffer, as the JDK would copy it anyway, a direct one sent in place); the CRC trails the data
            int at = 0;
            do {
                int n = Math.min(PIECE_BYTES, length - at);
                ByteBuffer piece = heap ? copyBuffer.clear().put(0, data, at, n).limit(n) : data.slice(at, n);
                crc.update(piece.duplicate());
                boolean first = at == 0;
                at += n;
                boolean last = at == length;
                if (last) {
                    pieces[2].clear().putInt((int) crc.getValue()).flip();
                }
                pieces[1] = piece;
                writeFully(first ? 0 : 1, (first ? 1 : 0) + 1 + (last ? 1 : 0));
            } while (at < length);
            pieces[1] = null;
            return;
        }
        ByteBuffer b = start(Wire.MAJOR, Wire.MINOR, MessageType.WRITE, requestId, payload);
        b.putLong(handle).putLong(offset);
        source.get(index, buffer, b.position(), length);
        b.position(b.position() + length);
        finish(b, payload, flush);
    }

    /** Writes {@code count} of {@link #pieces} from {@code from} whole (a blocking channel may take them in parts). */
    private void writeFully(int from, int count) throws IOException {
        long left = 0;
        for (int i = from; i < from + count; i++) {
            left += pieces[i].remaining();
        }
        while (left > 0) {
            left -= channel.write(pieces, from, count);
        }
    }

    /** Sends what earlier frames left unflushed. */
    public void flush() throws IOException {
        out.flush();
    }

    private ByteBuffer start(int major, int minor, MessageType type, long requestId, int payloadLength) {
        if (payloadLength > Wire.MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("a payload holds at most " + Wire.MAX_PAYLOAD_BYTES + " bytes, got "
                    + payloadLength);
        }
        int frameBytes = Wire.HEADER_BYTES + payloadLength + Wire.CRC_BYTES;
        if (buffer.length < frameBytes) {
            buffer = new byte[Math.max(frameBytes, Math.min(2 * buffer.length, Wire.HEADER_BYTES
                    + Wire.MAX_PAYLOAD_BYTES + Wire.CRC_BYTES))];
        }
        return ByteBuffer.wrap(buffer).order(ByteOrder.LITTLE_ENDIAN).putInt(Wire.MAGIC).put((byte) major)
                .put((byte) minor).put((byte) type.code()).put((byte) 0).putInt((int) requestId).putInt(payloadLength);
    }

    private void finish(ByteBuffer b, int payloadLength, boolean flush) throws IOException {
        int covered = Wire.HEADER_BYTES + payloadLength;
        crc.reset();
        crc.update(buffer, 0, covered);
        b.putInt(covered, (int) crc.getValue());
        out.write(buffer, 0, covered + Wire.CRC_BYTES);
        if (flush) {
            out.flush();
        }
    }
}
