package org.popsolutions.spanker.cluster.node;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.cluster.ring.RingConfig;

/**
 * A node process: {@code java -cp <cluster jar, api, hazelcast, felix> org.popsolutions.spanker.cluster.node.NodeMain
 * --cluster NAME --layout A,B,C --process K --processes P --ports p0,...,pP-1 --dir DIR}. It holds its share of the
 * layout's nodes (each with its own endpoint and ring), joins the membership on port pK, writes
 * {@code DIR/process-K.ready} (pid and each node's port) and runs until SHUTDOWN, SIGTERM, or its parent directory
 * vanishes.
 */
public final class NodeMain implements ProcessRuntime {
    private final List<Node> nodes = new ArrayList<>();
    private final CountDownLatch stop = new CountDownLatch(1);
    private final long pid = ProcessHandle.current().pid();
    private final ExecutorService executor;
    private Membership membership;
    private TaskServices services;

    private NodeMain() {
        AtomicInteger count = new AtomicInteger();
        executor = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "linqu-task-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    public static void main(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        NodeMain main = new NodeMain();
        try {
            main.run(options);
        } catch (Exception | LinkageError e) {
            System.err.println("node process failed: " + e);
            e.printStackTrace(System.err);
            System.exit(3);
        }
        System.exit(0);
    }

    private void run(Map<String, String> options) throws Exception {
        String cluster = required(options, "cluster");
        Layout layout = Layout.parse(required(options, "layout"));
        int index = Integer.parseInt(required(options, "process"));
        int processes = Integer.parseInt(required(options, "processes"));
        List<Integer> ports = new ArrayList<>();
        for (String port : required(options, "ports").split(",")) {
            ports.add(Integer.parseInt(port));
        }
        Path directory = Path.of(required(options, "dir"));
        long begin = System.nanoTime();
        services = TaskServices.start();
        log("framework started", begin);
        Kernels.registerAll(services, layout, directory);
        Map<Coordinate, Integer> endpoints = new LinkedHashMap<>();
        for (Coordinate coordinate : layout.nodesOfProcess(index, processes)) {
            Node node = new Node(coordinate, layout, this, RingConfig.DEFAULT);
            nodes.add(node);
            endpoints.put(coordinate, node.port());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(this::close, "linqu-shutdown"));
        log(nodes.size() + " node endpoints open", begin);
        membership = Membership.join(cluster, ports.get(index), ports, pid, endpoints);
        log("member of " + cluster + " with " + membership.memberCount() + " processes", begin);
        Membership view = membership;
        services.register(Programs.STATUS, context -> Programs.status(view));
        for (Node node : nodes) {
            node.start();
        }
        writeReady(directory, index, endpoints);
        watchDirectory(directory);
        stop.await();
    }

    private void log(String what, long begin) {
        System.out.println("pid " + pid + ": " + what + " after " + (System.nanoTime() - begin) / 1_000_000 + " ms");
        System.out.flush();
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return value;
    }

    private void writeReady(Path directory, int index, Map<Coordinate, Integer> endpoints) throws IOException {
        StringBuilder text = new StringBuilder("pid ").append(pid).append('\n');
        endpoints.forEach((node, port) -> text.append(Long.toHexString(node.pack())).append(' ').append(port)
                .append('\n'));
        Path temporary = directory.resolve("process-" + index + ".ready.tmp");
        Files.writeString(temporary, text, StandardCharsets.UTF_8);
        Files.move(temporary, directory.resolve("process-" + index + ".ready"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    /** A cluster whose state directory is deleted has been abandoned: its processes end instead of lingering. */
    private void watchDirectory(Path directory) {
        Thread watcher = new Thread(() -> {
            while (stop.getCount() > 0) {
                if (!Files.isDirectory(directory)) {
                    shutdownSoon(true);
                    return;
                }
                try {
                    Thread.sleep(2_000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "linqu-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    @Override
    public Membership membership() {
        return membership;
    }

    @Override
    public TaskServices services() {
        return services;
    }

    @Override
    public ExecutorService executor() {
        return executor;
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public List<Node> nodes() {
        return nodes;
    }

    @Override
    public void shutdownSoon(boolean graceful) {
        stop.countDown();
    }

    private synchronized void close() {
        stop.countDown();
        try {
            // the hosts' card runtimes first: their Sails fleets are stopped while the process can still wait
            PipelineKernels.closeAll();
        } catch (LinkageError noPipelineLibraries) {
            // a node without the model libraries ran no stage
        }
        for (Node node : nodes) {
            node.close();
        }
        if (membership != null) {
            membership.close();
        }
        if (services != null) {
            services.close();
        }
        executor.shutdownNow();
        PrintStream out = System.out;
        out.flush();
    }
}
