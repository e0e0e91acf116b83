package org.popsolutions.spanker.cluster.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.ClusterTask;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.Level;
import org.popsolutions.spanker.api.cluster.NodeInfo;
import org.popsolutions.spanker.api.cluster.NodeState;
import org.popsolutions.spanker.api.cluster.Orchestrator;
import org.popsolutions.spanker.api.cluster.TaskContext;
import org.popsolutions.spanker.api.cluster.TaskParam;
import org.popsolutions.spanker.cluster.ring.RingConfig;
import org.popsolutions.spanker.cluster.ring.RingTransport;
import org.popsolutions.spanker.cluster.ring.TaskRing;
import org.popsolutions.spanker.cluster.wire.Address;
import org.popsolutions.spanker.cluster.wire.Message;
import org.popsolutions.spanker.cluster.wire.Status;
import org.popsolutions.spanker.cluster.wire.Wire;

/**
 * One logical node: its own endpoint (a server socket on 127.0.0.1), its own connections, tensor store and task
 * ring. Nodes sharing a process share only the process's membership, framework and thread pool; they talk to each
 * other over sockets like any two nodes.
 */
public final class Node implements Connection.Handler, RingTransport, AutoCloseable {
    static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(15);
    private static final int CONNECT_TIMEOUT_MILLIS = 3_000;

    private final Coordinate self;
    private final Address address;
    private final Layout layout;
    private final ServerSocket server;
    private final ProcessRuntime process;
    private final TaskRing ring;
    private final Map<Long, byte[]> store = new ConcurrentHashMap<>();
    private final Map<Coordinate, Connection> outbound = new ConcurrentHashMap<>();
    private final Set<Connection> inbound = ConcurrentHashMap.newKeySet();
    private final Map<Long, CompletableFuture<Message.TensorData>> lookups = new ConcurrentHashMap<>();
    private final Map<Long, CompletableFuture<Message.TensorData>> stored = new ConcurrentHashMap<>();
    private final AtomicLong nextLookup = new AtomicLong(1);
    /**
     * One program orchestrates this node's ring at a time (Linqu's orchestrator is single-threaded): scopes are a
     * stack, and two programs interleaving their scope ends would release each other's tensors.
     */
    private final java.util.concurrent.locks.ReentrantLock orchestration = new java.util.concurrent.locks.ReentrantLock(true);
    private volatile boolean closed;

    Node(Coordinate self, Layout layout, ProcessRuntime process, RingConfig ringConfig) throws IOException {
        this.self = self;
        this.address = Address.of(self);
        this.layout = layout;
        this.process = process;
        this.server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        this.ring = self.level() == Level.HOST ? null : new TaskRing(self, ringConfig, this);
    }

    public Coordinate coordinate() {
        return self;
    }

    public int port() {
        return server.getLocalPort();
    }

    Layout layout() {
        return layout;
    }

    TaskRing ring() {
        return ring;
    }

    /** Accepts connections until closed. */
    void start() {
        Thread acceptor = new Thread(this::accept, "linqu-accept-" + self);
        acceptor.setDaemon(true);
        acceptor.start();
        if (ring != null) {
            process.membership().onDeath(node -> {
                if (node.level() != Level.CLOS2 && node.parent().equals(self)) {
                    ring.onNodeDead(node);
                }
            });
        }
        process.membership().onDeath(this::forget);
    }

    private void accept() {
        while (!closed) {
            try {
                Socket socket = server.accept();
                Connection connection = Connection.accepted(socket, address);
                inbound.add(connection);
                connection.start(this, "linqu-in-" + self);
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    /** A dead node's connection is dropped, and lookups waiting on it fail now rather than at their timeout. */
    private void forget(Coordinate dead) {
        Connection connection = outbound.remove(dead);
        if (connection != null) {
            connection.close();
        }
    }

    @Override
    public void received(Connection connection, Wire.Received received) {
        Address sender = received.header().sender();
        Message message = received.message();
        if (!received.header().target().equals(address)) {
            if (message instanceof Message.CallTask call) {
                reply(connection, sender, new Message.TaskComplete(call.taskId(), Status.BAD_REQUEST, new byte[0],
                        "addressed to " + received.header().target() + " but this endpoint is " + self));
            }
            return;
        }
        if (message instanceof Message.CallTask call) {
            process.executor().execute(() -> runTask(connection, sender, call));
        } else if (message instanceof Message.TaskComplete complete) {
            if (ring != null && !sender.isUser()) {
                ring.onComplete(sender.coordinate(), complete);
            }
        } else if (message instanceof Message.RetryWithCode retry) {
            if (ring != null && !sender.isUser()) {
                process.executor().execute(() -> ring.onRetryWithCode(sender.coordinate(), retry));
            }
        } else if (message instanceof Message.RegData data) {
            store.put(data.handle(), data.bytes());
            reply(connection, sender, new Message.TensorData(0, data.handle(), Status.OK, new byte[0]));
        } else if (message instanceof Message.RegCode code) {
            // Installed on the reader thread: the CALL_TASK sent after it on this connection must find the kernel.
            try {
                process.services().install(code.blobHash(), code.bytes());
            } catch (IllegalArgumentException e) {
                System.err.println(self + ": shipped code rejected: " + e.getMessage());
            }
        } else if (message instanceof Message.TensorLookup lookup) {
            byte[] bytes = store.get(lookup.handle());
            reply(connection, sender, bytes == null
                    ? new Message.TensorData(lookup.requestId(), lookup.handle(), Status.BAD_REQUEST, new byte[0])
                    : new Message.TensorData(lookup.requestId(), lookup.handle(), Status.OK, bytes));
        } else if (message instanceof Message.TensorData data) {
            CompletableFuture<Message.TensorData> waiting = data.requestId() == 0 ? stored.remove(data.handle())
                    : lookups.remove(data.requestId());
            if (waiting != null) {
                waiting.complete(data);
            }
        } else if (message instanceof Message.TensorFree free) {
            for (long handle : free.handles()) {
                store.remove(handle);
            }
        } else if (message instanceof Message.Heartbeat) {
            reply(connection, sender, new Message.Heartbeat(address, 0, System.currentTimeMillis(),
                    Long.toString(process.pid()), "port " + port()));
        } else if (message instanceof Message.Shutdown shutdown) {
            process.shutdownSoon(shutdown.graceful());
        }
    }

    private void reply(Connection connection, Address to, Message message) {
        try {
            connection.send(to, message);
        } catch (UncheckedIOException e) {
            // The asker is gone; nothing waits for this answer any more.
        }
    }

    @Override
    public void closed(Connection connection, String reason) {
        inbound.remove(connection);
        outbound.values().remove(connection);
    }

    private void runTask(Connection connection, Address sender, Message.CallTask call) {
        ClusterTask kernel = process.services().find(call.name());
        if (kernel == null) {
            reply(connection, sender, new Message.RetryWithCode(call.taskId(), call.name()));
            return;
        }
        Message.TaskComplete answer;
        Context context = null;
        try {
            context = new Context(call.params());
            byte[] result = kernel.run(context);
            context.storeOutputs();
            answer = new Message.TaskComplete(call.taskId(), Status.OK, result == null ? new byte[0] : result, "");
        } catch (InputUnavailable e) {
            answer = new Message.TaskComplete(call.taskId(), Status.INPUT_UNAVAILABLE, new byte[0], e.getMessage());
        } catch (Exception | LinkageError e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            answer = new Message.TaskComplete(call.taskId(), Status.TASK_ERROR, new byte[0],
                    "'" + call.name() + "' on " + self + ": " + reason);
        } finally {
            if (context != null && context.orchestrating) {
                orchestration.unlock();
            }
        }
        reply(connection, sender, answer);
    }

    private static final class InputUnavailable extends Exception {
        private static final long serialVersionUID = 1L;

        InputUnavailable(String message) {
            super(message);
        }
    }

    private final class Context implements TaskContext {
        private final List<TaskParam> params;
        private final byte[][] inputs;
        private final byte[][] outputs;
        private boolean orchestrating;

        Context(List<TaskParam> params) throws InputUnavailable {
            this.params = params;
            this.inputs = new byte[params.size()][];
            this.outputs = new byte[params.size()][];
            for (int i = 0; i < params.size(); i++) {
                TaskParam param = params.get(i);
                if (param.type().reads()) {
                    inputs[i] = fetch(param.handle(), Coordinate.unpack(param.scalar()));
                }
            }
        }

        @Override
        public Coordinate self() {
            return self;
        }

        @Override
        public List<TaskParam> params() {
            return params;
        }

        @Override
        public byte[] input(int index) {
            if (index < 0 || index >= params.size() || inputs[index] == null) {
                throw new IllegalArgumentException("parameter " + index + " is not an INPUT or INOUT tensor");
            }
            return inputs[index];
        }

        @Override
        public void output(int index, byte[] data) {
            if (index < 0 || index >= params.size() || !params.get(index).type().writes()) {
                throw new IllegalArgumentException("parameter " + index + " is not an OUTPUT or INOUT tensor");
            }
            TaskParam param = params.get(index);
            long expected = param.type() == org.popsolutions.spanker.api.cluster.ParamType.OUTPUT ? param.scalar()
                    : inputs[index].length;
            if (data.length != expected) {
                throw new IllegalArgumentException("output " + index + " is " + data.length + " bytes; tensor "
                        + param.handle() + " holds " + expected);
            }
            outputs[index] = data.clone();
        }

        void storeOutputs() {
            for (int i = 0; i < params.size(); i++) {
                if (params.get(i).type().writes()) {
                    if (outputs[i] == null) {
                        throw new IllegalStateException("the kernel did not write output " + i + " (tensor "
                                + params.get(i).handle() + ")");
                    }
                    store.put(params.get(i).handle(), outputs[i]);
                }
            }
        }

        @Override
        public Orchestrator orchestrator() {
            if (ring == null) {
                throw new ClusterException(self + " is an L3 host; it has no level below to orchestrate");
            }
            if (!orchestrating) {
                orchestration.lock();
                orchestrating = true;
            }
            return ring;
        }

        @Override
        public long pid() {
            return process.pid();
        }
    }

    private byte[] fetch(long handle, Coordinate holder) throws InputUnavailable {
        if (holder.equals(self)) {
            byte[] bytes = store.get(handle);
            if (bytes == null) {
                throw new InputUnavailable("tensor " + handle + " is not on " + self + ", which should hold it");
            }
            return bytes;
        }
        if (!isLive(holder)) {
            throw new InputUnavailable("tensor " + handle + " was held by " + holder + ", which died ("
                    + describeDeath(holder) + ")");
        }
        long requestId = nextLookup.getAndUpdate(id -> id == 0xFFFF_FFFFL ? 1 : id + 1);
        CompletableFuture<Message.TensorData> answer = new CompletableFuture<>();
        lookups.put(requestId, answer);
        try {
            send(holder, new Message.TensorLookup(requestId, handle));
            Message.TensorData data = awaitLookup(answer, holder);
            if (data.status() != Status.OK) {
                throw new InputUnavailable("tensor " + handle + " is not on " + holder + " (status " + data.status()
                        + ")");
            }
            return data.bytes();
        } catch (UncheckedIOException | ClusterException e) {
            throw new InputUnavailable("tensor " + handle + " could not be fetched from " + holder + ": "
                    + e.getMessage());
        } catch (TimeoutException e) {
            throw new InputUnavailable("tensor " + handle + " did not arrive from " + holder + " within "
                    + LOOKUP_TIMEOUT.toSeconds() + " s" + (isLive(holder) ? "" : "; " + holder + " died"));
        } catch (ExecutionException e) {
            throw new InputUnavailable("tensor " + handle + " lookup failed: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InputUnavailable("interrupted while fetching tensor " + handle);
        } finally {
            lookups.remove(requestId);
        }
    }

    /** Waits for a lookup's answer, giving up as soon as membership reports the holder dead. */
    private Message.TensorData awaitLookup(CompletableFuture<Message.TensorData> answer, Coordinate holder)
            throws InterruptedException, ExecutionException, TimeoutException, InputUnavailable {
        long deadline = System.nanoTime() + LOOKUP_TIMEOUT.toNanos();
        while (true) {
            try {
                return answer.get(200, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (!isLive(holder)) {
                    throw new InputUnavailable("tensor holder " + holder + " died (" + describeDeath(holder) + ")");
                }
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
        }
    }

    @Override
    public void send(Coordinate target, Message message) {
        Connection connection = connectionTo(target);
        try {
            connection.send(Address.of(target), message);
        } catch (UncheckedIOException e) {
            outbound.remove(target, connection);
            throw e;
        }
    }

    private Connection connectionTo(Coordinate target) {
        Connection existing = outbound.get(target);
        if (existing != null && !existing.isClosed()) {
            return existing;
        }
        NodeInfo info = process.membership().info(target);
        if (info == null || info.state() != NodeState.LIVE) {
            throw new ClusterException(target + " is not live: " + describeDeath(target));
        }
        synchronized (outbound) {
            existing = outbound.get(target);
            if (existing != null && !existing.isClosed()) {
                return existing;
            }
            try {
                Connection connection = Connection.connect(info.port(), address, CONNECT_TIMEOUT_MILLIS)
                        .start(this, "linqu-out-" + self + "-" + target);
                outbound.put(target, connection);
                return connection;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot connect to " + target + " on port " + info.port(), e);
            }
        }
    }

    @Override
    public void store(Coordinate target, Message.RegData data) {
        CompletableFuture<Message.TensorData> acknowledged = new CompletableFuture<>();
        stored.put(data.handle(), acknowledged);
        try {
            send(target, data);
            awaitLookup(acknowledged, target);
        } catch (UncheckedIOException | ExecutionException | TimeoutException | InputUnavailable e) {
            throw new ClusterException("regData: " + target + " did not store tensor " + data.handle() + " ("
                    + e.getMessage() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterException("interrupted while storing tensor " + data.handle() + " on " + target);
        } finally {
            stored.remove(data.handle());
        }
    }

    @Override
    public boolean shipCode(Coordinate target, String kernel) {
        TaskServices.Code code = process.services().codeOf(kernel);
        if (code == null) {
            return false;
        }
        send(target, new Message.RegCode(code.hash(), code.bytes()));
        return true;
    }

    @Override
    public boolean isLive(Coordinate node) {
        return process.membership().isLive(node);
    }

    @Override
    public String describeDeath(Coordinate node) {
        NodeInfo info = process.membership().info(node);
        if (info == null) {
            return node + " never registered";
        }
        return info.state() == NodeState.LIVE ? "live" : "process " + info.pid() + " left the membership";
    }

    @Override
    public List<NodeInfo> peers(Coordinate of) {
        List<NodeInfo> peers = new ArrayList<>();
        if (of.level() == Level.CLOS2) {
            return peers;
        }
        Coordinate parent = of.parent();
        for (int i = 0; i < layout.fanout(parent.level()); i++) {
            Coordinate sibling = parent.child(i);
            NodeInfo info = process.membership().info(sibling);
            if (!sibling.equals(of) && info != null && info.state() == NodeState.LIVE) {
                peers.add(info);
            }
        }
        return peers;
    }

    @Override
    public List<Coordinate> liveChildren(Coordinate parent) {
        List<Coordinate> children = new ArrayList<>();
        for (int i = 0; i < layout.fanout(parent.level()); i++) {
            Coordinate child = parent.child(i);
            if (isLive(child)) {
                children.add(child);
            }
        }
        return children;
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // Closing anyway.
        }
        outbound.values().forEach(Connection::close);
        inbound.forEach(Connection::close);
    }
}
