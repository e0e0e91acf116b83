package org.popsolutions.spanker.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A channel reader landing WRITE data straight in its destination, and undoing a chunk that fails. */
class WriteLandingTest {
    private static final int CHUNK = Wire.MAX_CHUNK_BYTES;

    /** A memory of one buffer (handle 7) that keeps what each chunk overwrites, as a card does. */
    private static final class Memory implements WriteLanding {
        final ByteBuffer bytes;
        final ByteBuffer kept = ByteBuffer.allocate(CHUNK);
        int opened;
        int undone = -1;
        /** Per chunk opened, the bytes of the first piece it was told is about to land. */
        final java.util.List<Integer> firstPieces = new java.util.ArrayList<>();

        Memory(byte[] initial) {
            bytes = ByteBuffer.allocateDirect(initial.length).put(0, initial);
        }

        @Override
        public Target open(long handle, long offset, int length) {
            if (handle != 7 || offset + length > bytes.capacity()) {
                return null;
            }
            opened++;
            ByteBuffer range = bytes.slice((int) offset, length);
            int chunk = opened - 1;
            return new Target() {
                @Override
                public ByteBuffer bytes() {
                    return range;
                }

                @Override
                public void saving(int from, int to) {
                    if (firstPieces.size() == chunk) {
                        firstPieces.add(to - from);
                    }
                    kept.put(from, range, from, to - from);
                }

                @Override
                public void undo(int landed) {
                    undone = landed;
                    range.put(0, kept, 0, landed);
                }
            };
        }

        byte[] contents() {
            byte[] b = new byte[bytes.capacity()];
            bytes.get(0, b);
            return b;
        }
    }

    private static byte[] frames(long handle, long offset, byte[] data, byte[] memoryPayload) throws IOException {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        FrameWriter writer = new FrameWriter(stream);
        writer.writeWrite(5, handle, offset, ByteBuffer.wrap(data), 0, data.length, false);
        writer.write(Frame.of(MessageType.MEMORY, 6, memoryPayload), true);
        return stream.toByteArray();
    }

    /** A channel that hands out at most a few random bytes per read, as a socket may, to split frames anywhere. */
    private static ReadableByteChannel trickling(byte[] bytes, long seed, int most) {
        Random random = new Random(seed);
        return Channels.newChannel(new ByteArrayInputStream(bytes) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1 + random.nextInt(most)));
            }
        });
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void aLandedWriteIsInItsDestinationAfterItsCrcPassedAcrossAnySplit() throws Exception {
        byte[] data = random(CHUNK, 1);
        byte[] bytes = frames(7, 100, data, new byte[] {42});
        for (int most : new int[] {7, 70_000, 1 << 21}) {
            Memory memory = new Memory(new byte[CHUNK + 200]);
            FrameReader reader = new FrameReader(trickling(bytes, most, most));
            reader.landWrites(memory);
            assertEquals(MessageType.WRITE, reader.next());
            assertTrue(reader.landed());
            assertEquals(1, memory.opened);
            assertEquals(-1, memory.undone, "nothing undone");
            assertArrayEquals(data, Arrays.copyOfRange(memory.contents(), 100, 100 + CHUNK), "pieces of " + most);
            Messages.WriteChunk chunk = reader.writeChunk();
            assertEquals(7, chunk.handle());
            assertEquals(100, chunk.offset());
            assertEquals(CHUNK, chunk.length());
            assertArrayEquals(data, reader.write().bytes(), "the landed data read back through the staged API");
            assertEquals(MessageType.MEMORY, reader.next());
            assertFalse(reader.landed());
            assertArrayEquals(new byte[] {42}, reader.frame().payload());
            assertThrows(EOFException.class, reader::next);
        }
    }

    @Test
    void aLandedWriteWhoseCrcFailsIsUndoneAndTheReaderThrowsAsBefore() throws Exception {
        byte[] before = random(CHUNK, 2);
        byte[] bytes = frames(7, 0, random(CHUNK, 3), new byte[0]);
        bytes[Wire.HEADER_BYTES + Messages.Write.FIELD_BYTES + CHUNK - 1] ^= 1; // the data's last byte
        Memory memory = new Memory(before);
        FrameReader reader = new FrameReader(trickling(bytes, 4, 1 << 17));
        reader.landWrites(memory);
        MalformedFrameException e = assertThrows(MalformedFrameException.class, reader::next);
        assertTrue(e.getMessage().contains("CRC32C mismatch on WRITE"), e.getMessage());
        assertEquals(CHUNK, memory.undone, "every landed byte undone");
        assertArrayEquals(before, memory.contents(), "the destination holds what it held before the chunk");
        assertThrows(IllegalStateException.class, reader::writeChunk);
    }

    @Test
    void aStreamEndingInsideALandedWriteUndoesWhatLandedAndSaysWhereItEnded() throws Exception {
        byte[] before = random(CHUNK, 5);
        byte[] whole = frames(7, 0, random(CHUNK, 6), new byte[0]);
        int cut = Wire.HEADER_BYTES + Messages.Write.FIELD_BYTES + 300_000;
        Memory memory = new Memory(before);
        FrameReader reader = new FrameReader(trickling(Arrays.copyOf(whole, cut), 7, 1 << 16));
        reader.landWrites(memory);
        MalformedFrameException e = assertThrows(MalformedFrameException.class, reader::next);
        assertTrue(e.getMessage().contains("closed inside a frame's payload (" + (cut - Wire.HEADER_BYTES) + " of "
                + (Messages.Write.FIELD_BYTES + CHUNK) + " bytes)"), e.getMessage());
        assertEquals(300_000, memory.undone);
        assertArrayEquals(before, memory.contents());
        // ending inside the CRC: all the data landed, and is undone
        Memory again = new Memory(before);
        FrameReader inCrc = new FrameReader(trickling(Arrays.copyOf(whole, Wire.HEADER_BYTES
                + Messages.Write.FIELD_BYTES + CHUNK + 2), 8, 1 << 16));
        inCrc.landWrites(again);
        assertThrows(MalformedFrameException.class, inCrc::next);
        assertEquals(CHUNK, again.undone);
        assertArrayEquals(before, again.contents());
    }

    @Test
    void aChunkTheLandingRefusesOrWhoseFieldsAreBadIsStagedAndReadsAsWithoutALanding() throws Exception {
        byte[] data = random(4096, 9);
        Memory memory = new Memory(new byte[8192]);
        FrameReader reader = new FrameReader(trickling(frames(8, 0, data, new byte[0]), 10, 500));
        reader.landWrites(memory);
        assertEquals(MessageType.WRITE, reader.next());
        assertFalse(reader.landed(), "handle 8 is not the memory's: staged");
        assertEquals(8, reader.writeChunk().handle());
        assertArrayEquals(data, reader.write().bytes());
        assertArrayEquals(new byte[8192], memory.contents());
        // an offset beyond the protocol's limit: never offered to the landing, refused as a staged one is
        byte[] bad = frames(7, Messages.MAX_MEMORY_BYTES + 1, data, new byte[0]);
        FrameReader refusing = new FrameReader(trickling(bad, 11, 500));
        refusing.landWrites(memory);
        assertEquals(MessageType.WRITE, refusing.next());
        assertFalse(refusing.landed());
        MalformedFrameException e = assertThrows(MalformedFrameException.class, refusing::writeChunk);
        assertTrue(e.getMessage().startsWith("offset "), e.getMessage());
        assertEquals(0, memory.opened);
    }

    /**
     * A load, chunk after chunk: the first chunk's data begins in the read-ahead that took its header, the next one's
     * comes straight from the socket (its header and fields were read alone), and a frame of another kind after it,
     * and a small WRITE after that, read as before.
     */
    @Test
    void afterALandedChunkTheNextChunksDataComesStraightFromTheSocketNotThroughTheReadAhead() throws Exception {
        byte[] first = random(CHUNK, 12);
        byte[] second = random(CHUNK, 13);
        byte[] small = random(100, 14);
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        FrameWriter writer = new FrameWriter(stream);
        writer.writeWrite(1, 7, 0, ByteBuffer.wrap(first), 0, CHUNK, false);
        writer.writeWrite(2, 7, CHUNK, ByteBuffer.wrap(second), 0, CHUNK, false);
        writer.write(Frame.of(MessageType.MEMORY, 3, new byte[] {42}), false);
        writer.writeWrite(4, 7, 2L * CHUNK, ByteBuffer.wrap(small), 0, small.length, true);
        ByteBuffer sent = ByteBuffer.wrap(stream.toByteArray());
        // a socket with everything already arrived: each read gets all it asks for
        ReadableByteChannel arrived = new ReadableByteChannel() {
            @Override
            public int read(ByteBuffer into) {
                if (!sent.hasRemaining()) {
                    return -1;
                }
                int n = Math.min(into.remaining(), sent.remaining());
                into.put(into.position(), sent, sent.position(), n).position(into.position() + n);
                sent.position(sent.position() + n);
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        Memory memory = new Memory(new byte[2 * CHUNK + 100]);
        FrameReader reader = new FrameReader(arrived);
        reader.landWrites(memory);
        assertEquals(MessageType.WRITE, reader.next());
        assertTrue(reader.landed());
        assertEquals(MessageType.WRITE, reader.next());
        assertTrue(reader.landed());
        assertTrue(memory.firstPieces.get(1) > memory.firstPieces.get(0), "the first chunk began with the read-ahead's "
                + memory.firstPieces.get(0) + " bytes, the second with a piece read straight: " + memory.firstPieces);
        assertEquals(MessageType.MEMORY, reader.next());
        assertArrayEquals(new byte[] {42}, reader.frame().payload());
        assertEquals(MessageType.WRITE, reader.next());
        assertTrue(reader.landed());
        assertEquals(4, reader.requestId());
        assertThrows(EOFException.class, reader::next);
        byte[] contents = memory.contents();
        assertArrayEquals(first, Arrays.copyOfRange(contents, 0, CHUNK));
        assertArrayEquals(second, Arrays.copyOfRange(contents, CHUNK, 2 * CHUNK));
        assertArrayEquals(small, Arrays.copyOfRange(contents, 2 * CHUNK, 2 * CHUNK + 100));
    }

    @Test
    void onlyAChannelReaderLands() {
        FrameReader stream = new FrameReader(InputStream.nullInputStream());
        assertThrows(IllegalStateException.class, () -> stream.landWrites(new Memory(new byte[1])));
    }
}
