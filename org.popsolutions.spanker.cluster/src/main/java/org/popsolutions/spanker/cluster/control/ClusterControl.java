package org.popsolutions.spanker.cluster.control;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.Level;
import org.popsolutions.spanker.api.cluster.NodeInfo;
import org.popsolutions.spanker.api.cluster.NodeState;
import org.popsolutions.spanker.api.cluster.TaskParam;
import org.popsolutions.spanker.cluster.node.Layout;
import org.popsolutions.spanker.cluster.node.Longs;

/**
 * Starts, inspects, tests and stops a cluster of node processes on this machine. Container-neutral: the console
 * command and the tests drive it the same way.
 */
public final class ClusterControl {
    static final String NODE_MAIN = "org.popsolutions.spanker.cluster.node.NodeMain";
    private static final Duration CONNECT = Duration.ofSeconds(3);
    /**
     * A pipeline stage computes with the ggml kernels: the Vector API ones when this JVM has the incubator module
     * (as the launcher does), so a host computes with the same kernels, and gets the same bits, as one card here.
     */
    private static final String VECTOR_MODULES = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            ? "java.se,jdk.incubator.vector" : "java.se";

    private final StateFile stateFile;

    public ClusterControl(StateFile stateFile) {
        this.stateFile = stateFile;
    }

    // ---------------------------------------------------------------- start

    /** What {@link #start} did. */
    public record Started(String name, Layout layout, Map<Level, Integer> nodesPerLevel, List<Long> pids,
            long startMillis, int rootPort) {
    }

    public Started start(Layout layout, int processes) {
        if (processes < 1 || processes > layout.nodeCount()) {
            throw new IllegalArgumentException("--processes must be 1 to " + layout.nodeCount() + " (the node count), was "
                    + processes);
        }
        StateFile.State existing = stateFile.read();
        if (existing != null && anyAlive(existing)) {
            throw new ClusterException("cluster " + existing.name() + " is already running (processes "
                    + pidsOf(existing) + "); run 'cluster stop' first");
        }
        long begin = System.nanoTime();
        String name = "spanker-" + UUID.randomUUID().toString().substring(0, 8);
        List<Process> started = new ArrayList<>();
        Path directory = null;
        try {
            directory = stateFile.runDirectory(name);
            List<Integer> ports = freePorts(processes);
            String classpath = NodeClasspath.resolve();
            List<String> hostProperties = hostProperties();
            String java = ProcessHandle.current().info().command().orElse("java");
            int nodesPerProcess = (layout.nodeCount() + processes - 1) / processes;
            // Each Hazelcast member needs ~40 MiB; nodes add their buffers and threads, and a host running a
            // pipeline stage holds its cards' weights and KV caches (mock cards live in the heap).
            int heapMiB = Math.min(1024, Math.max(512, 96 + nodesPerProcess * 4));
            // Processes packed with many nodes (the 1024-host layouts) start on the quick compiler alone, which
            // saves the 2 cores most of the JIT work; small clusters keep C2, which the pipeline stages' Vector API
            // kernels need (under C1 they run boxed, many times slower).
            String jit = nodesPerProcess > 8 ? "-XX:TieredStopAtLevel=1" : "-XX:+TieredCompilation";
            for (int index = 0; index < processes; index++) {
                List<String> command = new ArrayList<>(List.of(java, "-Xmx" + heapMiB + "m", "-Xss512k",
                        "-XX:+UseSerialGC", jit, "-Djava.net.preferIPv4Stack=true",
                        // What Hazelcast asks for to use its fast paths instead of warning at startup.
                        "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
                        "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens",
                        "java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens", "java.management/sun.management=ALL-UNNAMED",
                        "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
                        "--add-modules", VECTOR_MODULES));
                command.addAll(hostProperties);
                command.addAll(List.of("-cp", classpath, NODE_MAIN, "--cluster", name, "--layout", layout.toString(),
                        "--process", Integer.toString(index), "--processes", Integer.toString(processes),
                        "--ports", join(ports), "--dir", directory.toString()));
                Path log = directory.resolve("process-" + index + ".log");
                started.add(new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE).start());
            }
            // A hang guard, not a speed claim: on 2 cores shared with several builds (load 40) a node process took
            // over 2 minutes to load its framework and Hazelcast.
            Duration readyTimeout = Duration.ofSeconds(300 + layout.nodeCount() / 5);
            int rootPort = awaitReady(directory, started, readyTimeout);
            List<StateFile.ProcessEntry> entries = new ArrayList<>();
            for (int index = 0; index < processes; index++) {
                entries.add(new StateFile.ProcessEntry(index, started.get(index).pid(), ports.get(index),
                        layout.nodesOfProcess(index, processes).size()));
            }
            StateFile.State state = new StateFile.State(1, name, layout.toString(), rootPort, directory.toString(),
                    System.currentTimeMillis(), entries);
            stateFile.write(state);
            awaitMembership(state, layout, readyTimeout);
            Map<Level, Integer> perLevel = new LinkedHashMap<>();
            for (Level level : new Level[] {Level.CLOS2, Level.CLOS1, Level.POD, Level.HOST}) {
                perLevel.put(level, layout.count(level));
            }
            return new Started(name, layout, perLevel, started.stream().map(Process::pid).toList(),
                    (System.nanoTime() - begin) / 1_000_000, rootPort);
        } catch (IOException e) {
            destroy(started, directory);
            throw new ClusterException("could not start the node processes: " + e.getMessage());
        } catch (RuntimeException e) {
            destroy(started, null); // the logs stay for the error message to point at
            deleteRun(directory);
            try {
                stateFile.delete();
            } catch (IOException ignored) {
                // Best effort; the message below says what went wrong.
            }
            throw e;
        }
    }

    private static String join(List<Integer> ports) {
        StringBuilder text = new StringBuilder();
        for (int port : ports) {
            if (text.length() > 0) {
                text.append(',');
            }
            text.append(port);
        }
        return text.toString();
    }

    /**
     * Ports for the Hazelcast members, below Linux's ephemeral range (32768 and up): the node endpoints bind
     * ephemeral ports while the processes start, and must not take a member's port between this check and its bind.
     */
    private static List<Integer> freePorts(int count) throws IOException {
        List<Integer> ports = new ArrayList<>();
        int base = 20_000 + new java.util.Random().nextInt(10_000);
        for (int port = base; port < 32_768 && ports.size() < count; port++) {
            try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                ports.add(port);
            } catch (IOException taken) {
                // In use; try the next one.
            }
        }
        if (ports.size() < count) {
            throw new IOException("found only " + ports.size() + " free ports from " + base + " to 32767 for " + count
                    + " processes");
        }
        return ports;
    }

    /** Waits for every process's ready file; returns the root's port. */
    private static int awaitReady(Path directory, List<Process> processes, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int ready = 0;
            for (int index = 0; index < processes.size(); index++) {
                Process process = processes.get(index);
                if (Files.exists(directory.resolve("process-" + index + ".ready"))) {
                    ready++;
                } else if (!process.isAlive()) {
                    throw new ClusterException("node process " + index + " (pid " + process.pid()
                            + ") exited with status " + process.exitValue() + " before it was ready: "
                            + lastLine(directory.resolve("process-" + index + ".log")));
                }
            }
            if (ready == processes.size()) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new ClusterException("only " + ready + " of " + processes.size() + " node processes were ready "
                        + "after " + timeout.toSeconds() + " s; logs in " + directory);
            }
            sleep(100);
        }
        String root = Long.toHexString(Coordinate.root().pack());
        for (String line : Files.readAllLines(directory.resolve("process-0.ready"), StandardCharsets.UTF_8)) {
            String[] fields = line.split(" ");
            if (fields[0].equals(root)) {
                return Integer.parseInt(fields[1]);
            }
        }
        throw new ClusterException("process 0 does not list the root node in its ready file");
    }

    private static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (String line : lines) {
                if (line.startsWith("node process failed: ")) {
                    return line + " (log: " + log + ")";
                }
            }
            for (int i = lines.size() - 1; i >= 0; i--) {
                String line = lines.get(i).trim();
                if (!line.isEmpty() && !line.startsWith("at ") && !line.startsWith("...")) {
                    return line + " (log: " + log + ")";
                }
            }
            return "(its log " + log + " is empty)";
        } catch (IOException e) {
            return "(no log at " + log + ")";
        }
    }

    /** Waits until the root sees every node live. */
    private void awaitMembership(StateFile.State state, Layout layout, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int live = 0;
        while (System.nanoTime() < deadline) {
            try {
                live = (int) rootView(state, CONNECT).stream().filter(n -> n.state() == NodeState.LIVE).count();
                if (live == layout.nodeCount()) {
                    return;
                }
            } catch (ClusterException e) {
                // The root's membership is still forming; ask again.
            }
            sleep(200);
        }
        throw new ClusterException("only " + live + " of " + layout.nodeCount() + " nodes joined the membership within "
                + timeout.toSeconds() + " s; logs in " + state.directory());
    }

    /** Removes a failed run's ready files but keeps its logs. */
    private static void deleteRun(Path directory) {
        if (directory == null) {
            return;
        }
        try (Stream<Path> files = Files.list(directory)) {
            files.filter(f -> !f.getFileName().toString().endsWith(".log")).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // Leftovers are harmless.
        }
    }

    private static void destroy(List<Process> processes, Path directory) {
        for (Process process : processes) {
            process.destroyForcibly();
        }
        for (Process process : processes) {
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        deleteTree(directory);
    }

    // ---------------------------------------------------------------- status

    /** One node as a status reports it: registry state, with SUSPECT for a process alive but not a member. */
    public record NodeStatus(Coordinate coordinate, NodeState state, long pid, int port) {
    }

    public record ProcessStatus(int index, long pid, boolean alive, int nodes) {
    }

    public record Status(String name, Layout layout, boolean rootReachable, List<NodeStatus> nodes,
            List<ProcessStatus> processes) {
        public Map<Level, Map<NodeState, Integer>> perLevel() {
            Map<Level, Map<NodeState, Integer>> counts = new LinkedHashMap<>();
            for (Level level : new Level[] {Level.CLOS2, Level.CLOS1, Level.POD, Level.HOST}) {
                Map<NodeState, Integer> states = new LinkedHashMap<>();
                for (NodeState state : NodeState.values()) {
                    states.put(state, 0);
                }
                counts.put(level, states);
            }
            for (NodeStatus node : nodes) {
                counts.get(node.coordinate().level()).merge(node.state(), 1, Integer::sum);
            }
            return counts;
        }
    }

    public Status status() {
        StateFile.State state = requireState();
        Layout layout = Layout.parse(state.layout());
        List<ProcessStatus> processes = new ArrayList<>();
        Map<Long, Boolean> alive = new HashMap<>();
        for (StateFile.ProcessEntry entry : state.processes()) {
            boolean isAlive = isOurProcess(entry.pid(), state.name());
            alive.put(entry.pid(), isAlive);
            processes.add(new ProcessStatus(entry.index(), entry.pid(), isAlive, entry.nodes()));
        }
        List<NodeStatus> nodes = new ArrayList<>();
        boolean reachable;
        try {
            for (NodeInfo info : rootView(state, CONNECT)) {
                NodeState nodeState = info.state();
                if (nodeState == NodeState.DEAD && alive.getOrDefault(info.pid(), false)) {
                    nodeState = NodeState.SUSPECT;
                }
                nodes.add(new NodeStatus(info.coordinate(), nodeState, info.pid(), info.port()));
            }
            reachable = true;
        } catch (ClusterException e) {
            reachable = false;
            // Without the root, the processes are all there is to go by.
            for (StateFile.ProcessEntry entry : state.processes()) {
                for (Coordinate node : layout.nodesOfProcess(entry.index(), state.processes().size())) {
                    nodes.add(new NodeStatus(node, alive.get(entry.pid()) ? NodeState.SUSPECT : NodeState.DEAD,
                            entry.pid(), 0));
                }
            }
        }
        return new Status(state.name(), layout, reachable, nodes, processes);
    }

    private List<NodeInfo> rootView(StateFile.State state, Duration timeout) {
        try (ClusterClient client = new ClusterClient(state.rootPort(), Coordinate.root(), CONNECT)) {
            ByteBuffer buffer = ByteBuffer.wrap(client.call("linqu.status", List.of(), timeout, null));
            int count = buffer.getInt();
            List<NodeInfo> nodes = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                Coordinate node = Coordinate.unpack(buffer.getLong());
                int port = buffer.getInt();
                long pid = buffer.getLong();
                nodes.add(new NodeInfo(node, port, pid, NodeState.values()[buffer.get()]));
            }
            return nodes;
        }
    }

    // ---------------------------------------------------------------- the test programs

    /** One L3 host's identity as it reported it. */
    public record Identity(int level, int l5, int l4, int l3, int global, long pid) {
    }

    public record TopologyResult(List<Identity> nodes, long millis) {
    }

    /** Every L3 host reports through the hierarchy; checked: one report per host started, coordinates unique. */
    public TopologyResult topology(Duration timeout) {
        StateFile.State state = requireState();
        Layout layout = Layout.parse(state.layout());
        long begin = System.nanoTime();
        byte[] result = callRoot(state, "linqu.topology", List.of(), timeout);
        long millis = (System.nanoTime() - begin) / 1_000_000;
        ByteBuffer buffer = ByteBuffer.wrap(result);
        int count = buffer.getInt();
        List<Identity> nodes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            nodes.add(new Identity(buffer.get() & 0xFF, buffer.get() & 0xFF, buffer.get() & 0xFF,
                    buffer.getShort() & 0xFFFF, buffer.getInt(), buffer.getLong()));
        }
        nodes.sort(Comparator.comparingInt(Identity::global));
        checkTopology(nodes, layout, state);
        return new TopologyResult(nodes, millis);
    }

    private static void checkTopology(List<Identity> nodes, Layout layout, StateFile.State state) {
        if (nodes.size() != layout.hostCount()) {
            throw new ClusterException("topology: " + nodes.size() + " L3 hosts reported, " + layout.hostCount()
                    + " were started");
        }
        Set<List<Integer>> coordinates = new HashSet<>();
        Set<Integer> globals = new HashSet<>();
        Map<Long, Integer> pidOfProcess = new HashMap<>();
        for (StateFile.ProcessEntry entry : state.processes()) {
            pidOfProcess.put(entry.pid(), entry.index());
        }
        for (Identity node : nodes) {
            Coordinate coordinate = new Coordinate(Level.HOST, 0, node.l5(), node.l4(), node.l3());
            if (node.level() != 3 || !layout.contains(coordinate)) {
                throw new ClusterException("topology: a host reported " + coordinate + ", outside the layout "
                        + layout);
            }
            if (!coordinates.add(List.of(node.l5(), node.l4(), node.l3()))) {
                throw new ClusterException("topology: " + coordinate + " reported twice");
            }
            int expected = coordinate.globalId(layout.pods(), layout.hosts());
            if (node.global() != expected || !globals.add(node.global())) {
                throw new ClusterException("topology: " + coordinate + " reported global id " + node.global()
                        + ", expected " + expected);
            }
            if (!pidOfProcess.containsKey(node.pid())) {
                throw new ClusterException("topology: " + coordinate + " reported pid " + node.pid()
                        + ", which is none of the cluster's processes");
            }
        }
    }

    public record DagResult(long[] f, int tasks, long millis) {
    }

    /** f(i) = 9i² + 12i + 2 for i < n as real tasks; every value checked. */
    public DagResult dag(int n, int chunk, Duration timeout) {
        if (n < 1 || chunk < 1 || chunk > 8192) {
            throw new IllegalArgumentException("dag needs --n >= 1 and --chunk 1..8192");
        }
        StateFile.State state = requireState();
        Layout layout = Layout.parse(state.layout());
        long begin = System.nanoTime();
        long[] f = Longs.fromBytes(callRoot(state, "linqu.dag",
                List.of(TaskParam.scalar(0), TaskParam.scalar(n), TaskParam.scalar(chunk)), timeout));
        long millis = (System.nanoTime() - begin) / 1_000_000;
        if (f.length != n) {
            throw new ClusterException("dag: " + f.length + " values came back, expected " + n);
        }
        for (int i = 0; i < n; i++) {
            long expected = 9L * i * i + 12L * i + 2;
            if (f[i] != expected) {
                throw new ClusterException("dag: f[" + i + "] = " + f[i] + ", expected " + expected);
            }
        }
        // Six tasks per chunk on the hosts (c, d, e, g, f and the read of f), chunks split over the pods.
        int tasks = 0;
        int pods = layout.count(Level.POD);
        for (int pod = 0; pod < pods; pod++) {
            long share = (long) n * (pod + 1) / pods - (long) n * pod / pods;
            tasks += 6 * (int) ((share + chunk - 1) / chunk);
        }
        return new DagResult(f, tasks, millis);
    }

    public record RingStressResult(Map<String, Long> counters, long millis) {
    }

    private static final String[] STRESS_FIELDS = {"checks", "submitted", "retired", "failed", "rerun", "ringWaits",
        "heapWaits", "poolWaits", "tensorMapWaits", "inFlight", "heapUsed", "poolUsed", "liveTensors"};

    /** Ring stress on one pod; checked: every sum right, back-pressure on ring and heap, rings empty after. */
    public RingStressResult ringStress(Duration timeout) {
        StateFile.State state = requireState();
        long begin = System.nanoTime();
        long[] values = Longs.fromBytes(callRoot(state, "linqu.ring_stress", List.of(), timeout));
        long millis = (System.nanoTime() - begin) / 1_000_000;
        if (values.length != STRESS_FIELDS.length) {
            throw new ClusterException("ring-stress returned " + values.length + " counters, expected "
                    + STRESS_FIELDS.length);
        }
        Map<String, Long> counters = new LinkedHashMap<>();
        for (int i = 0; i < values.length; i++) {
            counters.put(STRESS_FIELDS[i], values[i]);
        }
        List<String> problems = new ArrayList<>();
        if (counters.get("checks") != 130) {
            problems.add(counters.get("checks") + " of 130 results checked");
        }
        if (counters.get("ringWaits") == 0) {
            problems.add("the task ring never filled");
        }
        if (counters.get("heapWaits") == 0) {
            problems.add("the heap ring never filled");
        }
        if (counters.get("failed") != 0) {
            problems.add(counters.get("failed") + " tasks failed");
        }
        if (!counters.get("retired").equals(counters.get("submitted"))) {
            problems.add(counters.get("retired") + " of " + counters.get("submitted") + " tasks retired");
        }
        for (String level : new String[] {"inFlight", "heapUsed", "poolUsed", "liveTensors"}) {
            if (counters.get(level) != 0) {
                problems.add(level + " is " + counters.get(level) + " after the run, expected 0");
            }
        }
        if (!problems.isEmpty()) {
            throw new ClusterException("ring-stress: " + String.join("; ", problems));
        }
        return new RingStressResult(counters, millis);
    }

    /** Calls a kernel on the root, shipping {@code code} if the root lacks it. */
    public byte[] callRoot(String kernel, List<TaskParam> params, Duration timeout, ClusterClient.Code code) {
        StateFile.State state = requireState();
        try (ClusterClient client = new ClusterClient(state.rootPort(), Coordinate.root(), CONNECT)) {
            return client.call(kernel, params, timeout, code);
        }
    }

    private byte[] callRoot(StateFile.State state, String kernel, List<TaskParam> params, Duration timeout) {
        try (ClusterClient client = new ClusterClient(state.rootPort(), Coordinate.root(), CONNECT)) {
            return client.call(kernel, params, timeout, null);
        }
    }

    /**
     * What a host's card runtime needs in a node process: its bundles, and the card emulator's class path for hosts
     * whose cards are emulated Sails cards (as this process knows it).
     */
    private static List<String> hostProperties() {
        List<String> properties = new ArrayList<>();
        String bundles = NodeClasspath.hostBundles();
        if (!bundles.isEmpty()) {
            properties.add("-Dspanker.cluster.bundles=" + bundles);
        } else {
            properties.add("-Dspanker.cluster.bundles.missing=" + String.join(",",
                    NodeClasspath.missingHostBundles()));
        }
        for (String name : List.of("spanker.emulator.classpath", "spanker.emulator.lib")) {
            String value = System.getProperty(name);
            if (value != null && !value.isBlank()) {
                properties.add("-D" + name + "=" + value);
            }
        }
        return properties;
    }

    // ---------------------------------------------------------------- stop

    public record Stopped(String name, List<Long> stopped, List<Long> killed) {
    }

    /** Ends every process of the cluster (SIGTERM, then SIGKILL after 10 s), deletes its files. */
    public Optional<Stopped> stop() {
        StateFile.State state = stateFile.read();
        if (state == null) {
            return Optional.empty();
        }
        List<ProcessHandle> handles = new ArrayList<>();
        for (StateFile.ProcessEntry entry : state.processes()) {
            if (isOurProcess(entry.pid(), state.name())) {
                ProcessHandle.of(entry.pid()).ifPresent(handles::add);
            }
        }
        handles.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<Long> stopped = new ArrayList<>();
        List<Long> killed = new ArrayList<>();
        for (ProcessHandle handle : handles) {
            while (handle.isAlive() && System.nanoTime() < deadline) {
                sleep(50);
            }
            if (handle.isAlive()) {
                handle.destroyForcibly();
                killed.add(handle.pid());
            } else {
                stopped.add(handle.pid());
            }
        }
        for (ProcessHandle handle : handles) {
            try {
                handle.onExit().get();
            } catch (Exception e) {
                // It was killed; nothing more can be done.
            }
        }
        deleteTree(Path.of(state.directory()));
        try {
            stateFile.delete();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Optional.of(new Stopped(state.name(), stopped, killed));
    }

    // ---------------------------------------------------------------- helpers

    private StateFile.State requireState() {
        StateFile.State state = stateFile.read();
        if (state == null) {
            throw new ClusterException("no cluster is running (no state in " + stateFile.home()
                    + "); start one with 'cluster start --l5 A --l4 B --l3 C'");
        }
        return state;
    }

    private static boolean anyAlive(StateFile.State state) {
        return state.processes().stream().anyMatch(entry -> isOurProcess(entry.pid(), state.name()));
    }

    private static List<Long> pidsOf(StateFile.State state) {
        return state.processes().stream().map(StateFile.ProcessEntry::pid).toList();
    }

    /** Alive and really one of this cluster's node processes (a pid may have been reused since). */
    static boolean isOurProcess(long pid, String clusterName) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !handle.get().isAlive()) {
            return false;
        }
        Optional<String[]> arguments = handle.get().info().arguments();
        if (arguments.isEmpty()) {
            return true; // the OS does not tell; the pid is all there is
        }
        List<String> list = List.of(arguments.get());
        return list.contains(NODE_MAIN) && list.contains(clusterName);
    }

    private static void deleteTree(Path directory) {
        if (directory == null || !Files.exists(directory)) {
            return;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // Leftover logs are harmless.
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterException("interrupted");
        }
    }
}
