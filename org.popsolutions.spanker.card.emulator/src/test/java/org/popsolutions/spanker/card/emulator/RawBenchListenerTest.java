package org.popsolutions.spanker.card.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.net.Socket;
import org.junit.jupiter.api.Test;

class RawBenchListenerTest {
    /** One raw stream: the mode byte, then (for M) the stated length, then {@code bytes} bytes; the sink's count. */
    private static long stream(RawBenchListener sink, char mode, long stated, int bytes) throws Exception {
        try (Socket s = new Socket("127.0.0.1", sink.port())) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.write(mode);
            if (mode == 'M') {
                out.writeLong(stated);
            }
            byte[] block = new byte[64 << 10];
            for (int done = 0; done < bytes; done += block.length) {
                out.write(block, 0, Math.min(block.length, bytes - done));
            }
            s.shutdownOutput();
            return new DataInputStream(s.getInputStream()).readLong();
        }
    }

    @Test
    void theMemorySinkCountsTheStatedLengthAndKeepsItsMemoryForTheNextStream() throws Exception {
        try (RawBenchListener sink = new RawBenchListener("127.0.0.1")) {
            assertEquals(3 << 20, stream(sink, 'M', 3 << 20, 3 << 20));
            // a shorter stream into the memory the first one made, then a longer one that grows it
            assertEquals(1 << 20, stream(sink, 'M', 1 << 20, 1 << 20));
            assertEquals(5 << 20, stream(sink, 'M', 5 << 20, 5 << 20));
            // a stream that ends early is counted as far as it came
            assertEquals(100_000, stream(sink, 'M', 2 << 20, 100_000));
            assertEquals(7 << 20, stream(sink, 'S', 0, 7 << 20));
        }
    }

    @Test
    void aLengthBeyondTheLimitIsClosedUnanswered() throws Exception {
        try (RawBenchListener sink = new RawBenchListener("127.0.0.1")) {
            assertThrows(EOFException.class, () -> stream(sink, 'M', RawBenchListener.MAX_MEMORY_BYTES + 1, 0));
            assertThrows(EOFException.class, () -> stream(sink, 'M', -1, 0));
            assertEquals(4096, stream(sink, 'M', 4096, 4096));
        }
    }
}
