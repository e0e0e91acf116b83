package org.popsolutions.spanker.card.emulator;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Raw TCP in the card's own process, for measuring the protocol against the bare socket between the same two
 * processes (opened only with {@code --bench}; it moves no card data). The first byte picks the test: {@code S}
 * reads to the end of the stream into a small buffer and answers the byte count (u64); {@code M} (memory) reads a
 * length (u64, at most {@link #MAX_MEMORY_BYTES}) and then that many bytes into memory as large, kept from one
 * stream to the next as the card's DDR is, and answers the byte count; {@code E} echoes 64-byte messages.
 *
 * <p>{@code M} is the stricter reference for WRITE throughput (bench-hostlink with -Dspanker.bench.rawSink=M): a
 * receiver that keeps the bytes lands each one in memory, as the card lands a WRITE in DDR, with one copy (the
 * channel's); {@code S}, the default, drops what it reads into a 64 KiB buffer through the socket's stream (a
 * temporary direct buffer, then the array: two copies, both in cache).
 */
final class RawBenchListener implements AutoCloseable {
    /**
     * The largest stream {@code M} takes: bench-hostlink's largest (--mib 1024). Its memory counts against the
     * process's direct-memory limit beside the card's DDR; when it does not fit, the count answered is 0.
     */
    static final long MAX_MEMORY_BYTES = 1L << 30;
    private final ServerSocket server;
    /** {@code M}'s memory (direct, read into straight from the socket), grown to the largest stream. */
    private ByteBuffer memory = ByteBuffer.allocateDirect(0);

    RawBenchListener(String bind) throws IOException {
        // a channel's server socket: {@code M} reads through its connections' channels
        server = ServerSocketChannel.open().socket();
        server.bind(new InetSocketAddress(bind, 0));
        Thread t = new Thread(this::acceptLoop, "raw-bench");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (true) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return;
            }
            Thread t = new Thread(() -> serve(s), "raw-bench-connection");
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            int mode = in.read();
            if (mode == 'S') {
                byte[] buffer = new byte[1 << 16];
                long total = 0;
                int n;
                while ((n = in.read(buffer)) > 0) {
                    total += n;
                    if (total >= Long.MAX_VALUE / 2) {
                        break;
                    }
                }
                new DataOutputStream(out).writeLong(total);
            } else if (mode == 'M') {
                long length = new DataInputStream(in).readLong();
                if (length < 0 || length > MAX_MEMORY_BYTES) {
                    return; // closed unanswered: the benchmark names the failure
                }
                new DataOutputStream(out).writeLong(intoMemory(s.getChannel(), (int) length));
            } else if (mode == 'E') {
                DataInputStream data = new DataInputStream(in);
                byte[] message = new byte[64];
                while (true) {
                    data.readFully(message);
                    out.write(message);
                    out.flush();
                }
            }
        } catch (IOException done) {
            // the benchmark closed its side
        }
    }

    /** Reads {@code length} bytes (or to the end of the stream) straight into {@link #memory}; the bytes read. */
    private long intoMemory(SocketChannel channel, int length) throws IOException {
        ByteBuffer into;
        synchronized (this) {
            // one stream at a time uses the memory (bench-hostlink sends one at a time)
            if (memory.capacity() < length) {
                memory = ByteBuffer.allocateDirect(0); // the old memory may go before the new is made
                try {
                    memory = ByteBuffer.allocateDirect(length);
                } catch (OutOfMemoryError e) {
                    return 0; // the benchmark reports the count it did not get
                }
            }
            into = memory.duplicate().clear().limit(length);
        }
        while (into.hasRemaining()) {
            if (channel.read(into) < 0) {
                break;
            }
        }
        return into.position();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
