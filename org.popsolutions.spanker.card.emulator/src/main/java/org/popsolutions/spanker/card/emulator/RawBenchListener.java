package org.popsolutions.spanker.card.emulator;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Raw TCP in the card's own process, for measuring the protocol against the bare socket between the same two
 * processes (opened only with {@code --bench}; it moves no card data). The first byte picks the test: {@code S}
 * reads to the end of the stream and answers the byte count (u64), {@code E} echoes 64-byte messages.
 */
final class RawBenchListener implements AutoCloseable {
    private final ServerSocket server;

    RawBenchListener(String bind) throws IOException {
        server = new ServerSocket();
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

    private static void serve(Socket s) {
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

    @Override
    public void close() throws IOException {
        server.close();
    }
}
