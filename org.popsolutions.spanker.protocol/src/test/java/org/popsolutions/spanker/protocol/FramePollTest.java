package org.popsolutions.spanker.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The resumable reader: frames collected from a non-blocking channel piece by piece, as a selector thread would. */
class FramePollTest {
    private static byte[] stream() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        FrameWriter writer = new FrameWriter(out);
        writer.write(Frame.of(MessageType.OK, 3, new byte[0]), false);
        byte[] big = new byte[Wire.MAX_CHUNK_BYTES];
        new Random(1).nextBytes(big);
        writer.writeWrite(4, 7, 11, ByteBuffer.wrap(big), 0, big.length, false);
        writer.write(Frame.of(MessageType.READ_REPLY, 5, Arrays.copyOf(big, 70_000)), false);
        writer.write(Frame.of(MessageType.MEMORY_REPLY, 6, new Messages.Memory(1 << 30, 12, 2).encode()), true);
        return out.toByteArray();
    }

    /** One end of a pipe, non-blocking, and a reader polling it. */
    private static final class Polled {
        final Pipe pipe = Pipe.open();
        final FrameReader reader;

        Polled() throws IOException {
            pipe.source().configureBlocking(false);
            pipe.sink().configureBlocking(false);
            reader = new FrameReader(pipe.source());
        }

        /** Feeds {@code bytes} in pieces of at most {@code most}, polling after each; the frames that came whole. */
        List<Frame> feed(byte[] bytes, int most, long seed) throws Exception {
            Random random = new Random(seed);
            List<Frame> frames = new ArrayList<>();
            int at = 0;
            while (at < bytes.length) {
                int n = Math.min(bytes.length - at, 1 + random.nextInt(most));
                ByteBuffer piece = ByteBuffer.wrap(bytes, at, n);
                at += pipe.sink().write(piece);
                MessageType t;
                while ((t = reader.poll()) != null) {
                    frames.add(reader.frame());
                    if (t == MessageType.WRITE) {
                        assertEquals(7, reader.writeChunk().handle());
                    }
                }
            }
            return frames;
        }
    }

    @Test
    void framesSplitAnywhereComeWholeFromPollAsFromNext() throws Exception {
        byte[] bytes = stream();
        List<Frame> expected = new ArrayList<>();
        FrameReader blocking = new FrameReader(java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(
                bytes)));
        for (int i = 0; i < 4; i++) {
            blocking.next();
            expected.add(blocking.frame());
        }
        for (int most : new int[] {1, 13, 5000, 200_000}) {
            Polled p = new Polled();
            assertNull(p.reader.poll(), "nothing sent yet");
            List<Frame> got = p.feed(bytes, most, most);
            assertEquals(4, got.size(), "pieces of at most " + most);
            for (int i = 0; i < 4; i++) {
                assertEquals(expected.get(i).type(), got.get(i).type());
                assertEquals(expected.get(i).requestId(), got.get(i).requestId());
                assertArrayEquals(expected.get(i).payload(), got.get(i).payload());
            }
            assertNull(p.reader.poll(), "nothing more");
            p.pipe.sink().close();
            assertThrows(EOFException.class, p.reader::poll, "closed between frames: a clean end");
        }
    }

    @Test
    void pollRefusesWhatNextRefusesWithTheSameWords() throws Exception {
        byte[] ok = Wire.encode(Frame.of(MessageType.OK, 1, new byte[0]));
        byte[] badMagic = ok.clone();
        badMagic[0] = 0;
        byte[] tooLong = ok.clone();
        ByteBuffer.wrap(tooLong).order(ByteOrder.LITTLE_ENDIAN).putInt(12, Wire.MAX_PAYLOAD_BYTES + 1);
        byte[] badCrc = Wire.encode(Frame.of(MessageType.READ_REPLY, 1, new byte[] {1, 2, 3}));
        badCrc[Wire.HEADER_BYTES + 1] ^= 1;
        for (byte[] bad : List.of(badMagic, tooLong, badCrc)) {
            FrameReader next = new FrameReader(java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(
                    bad)));
            String expected = assertThrows(MalformedFrameException.class, next::next).getMessage();
            Polled p = new Polled();
            p.pipe.sink().write(ByteBuffer.wrap(bad));
            assertEquals(expected, assertThrows(MalformedFrameException.class, p.reader::poll).getMessage());
        }
        // the stream ending inside a header, a payload, a CRC
        byte[] frame = Wire.encode(Frame.of(MessageType.READ_REPLY, 1, new byte[100]));
        int[] cuts = {5, Wire.HEADER_BYTES + 40, Wire.HEADER_BYTES + 100 + 2};
        String[] words = {"header (5 of 16 bytes)", "payload (40 of 100 bytes)", "CRC (2 of 4 bytes)"};
        for (int i = 0; i < cuts.length; i++) {
            Polled p = new Polled();
            p.pipe.sink().write(ByteBuffer.wrap(frame, 0, cuts[i]));
            assertNull(p.reader.poll());
            p.pipe.sink().close();
            MalformedFrameException e = assertThrows(MalformedFrameException.class, p.reader::poll);
            assertTrue(e.getMessage().endsWith(words[i]), e.getMessage());
        }
    }

    @Test
    void aHalfPolledFrameIsNotTakenOverByNextAndAStreamReaderDoesNotPoll() throws Exception {
        Polled p = new Polled();
        p.pipe.sink().write(ByteBuffer.wrap(Wire.encode(Frame.of(MessageType.OK, 1, new byte[0])), 0, 7));
        assertNull(p.reader.poll());
        assertThrows(IllegalStateException.class, p.reader::next);
        assertThrows(IllegalStateException.class, new FrameReader(InputStream.nullInputStream())::poll);
    }
}
