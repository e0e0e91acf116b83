package org.popsolutions.spanker.cluster.control;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.TaskParam;
import org.popsolutions.spanker.cluster.wire.Address;
import org.popsolutions.spanker.cluster.wire.Message;
import org.popsolutions.spanker.cluster.wire.Status;
import org.popsolutions.spanker.cluster.wire.Wire;
import org.popsolutions.spanker.cluster.wire.WireException;

/**
 * A user program's connection to one node (the L6 root): it calls kernels there and waits for the answer, shipping
 * code when the node asks for it. One call at a time.
 */
public final class ClusterClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final Address node;
    private long nextTaskId = 1;

    public ClusterClient(int port, Coordinate node, Duration connectTimeout) {
        this.node = Address.of(node);
        this.socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                    (int) connectTimeout.toMillis());
            socket.setTcpNoDelay(true);
            in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            out = socket.getOutputStream();
        } catch (IOException e) {
            close();
            throw new ClusterException("cannot reach " + node + " on 127.0.0.1:" + port + " (" + e.getMessage()
                    + "); is the cluster running? (cluster status)");
        }
    }

    /** The code of a kernel the node may lack, addressed by content hash. */
    public record Code(long hash, byte[] bytes) {
    }

    /** Calls {@code kernel} and returns its result bytes; a failure becomes a ClusterException with its reason. */
    public byte[] call(String kernel, List<TaskParam> params, Duration timeout, Code code) {
        long taskId = nextTaskId++;
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean shipped = false;
        send(new Message.CallTask(kernel, taskId, 0, params));
        while (true) {
            Message answer = receive(deadline, kernel, timeout);
            if (answer instanceof Message.TaskComplete complete && complete.taskId() == taskId) {
                if (complete.status() != Status.OK) {
                    throw new ClusterException(complete.message());
                }
                return complete.result();
            }
            if (answer instanceof Message.RetryWithCode retry && retry.taskId() == taskId) {
                if (code == null || shipped) {
                    throw new ClusterException(node + " has no kernel '" + kernel + "'"
                            + (shipped ? " even after its code was shipped" : " and no code was given to ship"));
                }
                send(new Message.RegCode(code.hash(), code.bytes()));
                send(new Message.CallTask(kernel, taskId, 0, params));
                shipped = true;
            }
        }
    }

    /**
     * Puts a tensor's bytes on the node (REG_DATA) and waits for its acknowledgement; a task called next may read it
     * as an INPUT held by that node.
     */
    public void store(long handle, byte[] bytes, Duration timeout) {
        send(new Message.RegData(handle, 0, bytes));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (receive(deadline, "storing tensor " + handle, timeout) instanceof Message.TensorData data
                    && data.requestId() == 0 && data.handle() == handle) {
                if (data.status() != Status.OK) {
                    throw new ClusterException(node + " did not store tensor " + handle + " (status "
                            + data.status() + ")");
                }
                return;
            }
        }
    }

    /** Lets the node drop tensors it holds for this program (TENSOR_FREE); nothing is answered. */
    public void free(long... handles) {
        send(new Message.TensorFree(handles));
    }

    /** A HEARTBEAT round trip: the node's answer, or an exception. */
    public Message.Heartbeat ping(Duration timeout) {
        send(new Message.Heartbeat(Address.USER, 0, System.currentTimeMillis(), "", ""));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (receive(deadline, "heartbeat", timeout) instanceof Message.Heartbeat heartbeat) {
                return heartbeat;
            }
        }
    }

    private void send(Message message) {
        try {
            out.write(Wire.encode(Address.USER, node, message));
            out.flush();
        } catch (IOException e) {
            throw new ClusterException("lost the connection to " + node + " (" + e.getMessage() + ")");
        }
    }

    private Message receive(long deadline, String what, Duration timeout) {
        try {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new SocketTimeoutException();
            }
            socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
            Wire.Received received = Wire.read(in);
            if (received == null) {
                throw new ClusterException(node + " closed the connection while running '" + what + "'");
            }
            return received.message();
        } catch (SocketTimeoutException e) {
            throw new ClusterException("'" + what + "' on " + node + " did not answer within " + timeout.toSeconds()
                    + " s");
        } catch (WireException e) {
            throw new ClusterException(node + " broke the protocol: " + e.getMessage());
        } catch (IOException e) {
            throw new ClusterException("lost the connection to " + node + " (" + e.getMessage() + ")");
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // Closing anyway.
        }
    }
}
