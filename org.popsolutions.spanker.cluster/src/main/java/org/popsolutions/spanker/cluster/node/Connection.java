package org.popsolutions.spanker.cluster.node;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.popsolutions.spanker.cluster.wire.Address;
import org.popsolutions.spanker.cluster.wire.Message;
import org.popsolutions.spanker.cluster.wire.Wire;
import org.popsolutions.spanker.cluster.wire.WireException;

/**
 * One TCP connection on 127.0.0.1, used both ways: a reader thread hands every message to the handler with this
 * connection to answer on; writes are whole messages under a lock. A protocol violation closes the connection.
 */
public final class Connection implements AutoCloseable {
    /** What to do with a received message, and when the connection ends. */
    public interface Handler {
        void received(Connection connection, Wire.Received message);

        void closed(Connection connection, String reason);
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final Address self;
    private volatile boolean closed;

    private Connection(Socket socket, Address self) throws IOException {
        this.socket = socket;
        this.self = self;
        socket.setTcpNoDelay(true);
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
        this.out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
    }

    public static Connection connect(int port, Address self, int timeoutMillis) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), timeoutMillis);
            return new Connection(socket, self);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    public static Connection accepted(Socket socket, Address self) throws IOException {
        return new Connection(socket, self);
    }

    /** Starts the reader thread. */
    public Connection start(Handler handler, String name) {
        Thread reader = new Thread(() -> read(handler), name);
        reader.setDaemon(true);
        reader.start();
        return this;
    }

    private void read(Handler handler) {
        String reason = "closed by the peer";
        try {
            Wire.Received received;
            while ((received = Wire.read(in)) != null) {
                handler.received(this, received);
            }
        } catch (WireException e) {
            reason = "protocol error: " + e.getMessage();
        } catch (IOException e) {
            reason = closed ? "closed" : "connection lost: " + e.getMessage();
        } finally {
            close();
            handler.closed(this, reason);
        }
    }

    /** Sends one message; throws {@link UncheckedIOException} when the connection is gone. */
    public void send(Address target, Message message) {
        byte[] bytes = Wire.encode(self, target, message);
        synchronized (out) {
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException e) {
                close();
                throw new UncheckedIOException("sending " + message.type() + " to " + target + " failed", e);
            }
        }
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            // Already gone.
        }
    }
}
