package org.popsolutions.spanker.device.sails;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.osgi.framework.BundleContext;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.card.PortStatus;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.protocol.Handshake;
import org.popsolutions.spanker.protocol.MessageType;
import org.popsolutions.spanker.protocol.Messages;

/**
 * A fleet of emulated cards: one card-emulator process per card on 127.0.0.1, cabled as a ring or a mesh, every
 * link trained UP before {@link #start} returns. Its endpoints and secret live in a state directory readable only
 * by the user ({@code fleet.json}, {@code secret}), so later commands find them; {@link #stop} leaves no process.
 */
final class Fleet {
    static final String MAIN_CLASS = "org.popsolutions.spanker.card.emulator.CardEmulatorMain";
    /** The heap of an emulated card process: frames of at most 1 MiB in flight and op scratch, never the DDR. */
    static final int EMULATOR_HEAP_MIB = 128;
    static final String STATE_FILE = "fleet.json";
    static final String SECRET_FILE = "secret";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    /** One running card. */
    record Member(int index, String endpoint, String linkEndpoint, long pid, String log, String benchEndpoint) {
    }

    /**
     * What {@code fleet.json} holds. (A file of session 6 may also carry {@code hostLinkDilation}: it is ignored, the
     * cards announce their host link's pace themselves since protocol 1.3.)
     */
    record State(String kind, boolean unshaped, long memoryBytes, String secretFile, List<Member> cards) {
    }

    /** How to start cards. */
    record Launch(int cards, TopologyKind kind, boolean unshaped, long memoryBytes, String classpath,
            List<String> extraOptions, long timeoutMillis) {
    }

    private Fleet() {
    }

    /** The property naming the fleet directory: a system property, or a framework property of one framework. */
    static final String DIRECTORY_PROPERTY = "spanker.fleet.dir";

    /** {@code spanker.fleet.dir}, else {@code ~/.cache/spanker/fleet}. */
    static Path defaultDirectory() {
        return directory(System.getProperty(DIRECTORY_PROPERTY));
    }

    /**
     * The framework's {@code spanker.fleet.dir} (a framework property falls back to the system property), so that
     * several frameworks in one process (the hosts of a cluster node process) each keep a fleet of their own.
     */
    static Path defaultDirectory(BundleContext context) {
        return directory(context == null ? System.getProperty(DIRECTORY_PROPERTY)
                : context.getProperty(DIRECTORY_PROPERTY));
    }

    private static Path directory(String configured) {
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "spanker", "fleet");
    }

    static Optional<State> read(Path directory) {
        Path file = directory.resolve(STATE_FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            State state = GSON.fromJson(Files.readString(file), State.class);
            if (state == null || state.cards() == null || state.secretFile() == null) {
                throw new InvalidConfigurationException("fleet state " + file + " is incomplete; remove it or run"
                        + " 'spanker fleet stop'");
            }
            return Optional.of(state);
        } catch (IOException | JsonParseException e) {
            throw new InvalidConfigurationException("cannot read the fleet state " + file + ": " + e.getMessage()
                    + "; remove it or run 'spanker fleet stop'");
        }
    }

    static byte[] secret(State state) {
        try {
            return HexFormat.of().parseHex(Files.readString(Path.of(state.secretFile())).strip());
        } catch (IOException | IllegalArgumentException e) {
            throw new InvalidConfigurationException("cannot read the fleet secret " + state.secretFile() + ": "
                    + e.getMessage());
        }
    }

    /** Starts the cards, cables them, trains every link and records the fleet; on any failure stops what it started. */
    static State start(Path directory, Launch launch) {
        Optional<State> running = read(directory);
        if (running.isPresent() && running.get().cards().stream().anyMatch(m -> alive(m.pid()))) {
            throw new InvalidConfigurationException("a fleet of " + running.get().cards().size() + " cards is already"
                    + " running (" + directory.resolve(STATE_FILE) + "); stop it first with 'spanker fleet stop'");
        }
        List<Process> processes = new ArrayList<>();
        List<Member> members = new ArrayList<>();
        try {
            createPrivateDirectory(directory);
            byte[] secret = Handshake.newSecret();
            Path secretFile = directory.resolve(SECRET_FILE);
            writePrivate(secretFile, HexFormat.of().formatHex(secret) + "\n");
            long deadline = System.nanoTime() + launch.timeoutMillis() * 1_000_000L;
            for (int i = 0; i < launch.cards(); i++) {
                Path log = directory.resolve("card-" + i + ".log");
                List<String> command = new ArrayList<>(List.of(javaExecutable()));
                if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
                    command.addAll(List.of("--add-modules", "jdk.incubator.vector"));
                }
                // The card's DDR lives in direct buffers: room for all of it, and a little for the protocol's own.
                // The heap only carries frames and op scratch: a small one with the serial collector keeps the
                // process at its DDR plus tens of MiB (G1 would let its young generation grow into hundreds).
                command.addAll(List.of("-XX:MaxDirectMemorySize=" + (launch.memoryBytes() + (64L << 20)),
                        "-Xmx" + EMULATOR_HEAP_MIB + "m", "-XX:+UseSerialGC"));
                command.addAll(List.of("-cp", launch.classpath(), MAIN_CLASS, "--secret-file", secretFile.toString(),
                        "--serial", "sails-emu-" + i, "--memory", Long.toString(launch.memoryBytes())));
                if (launch.unshaped()) {
                    command.add("--unshaped");
                }
                command.addAll(launch.extraOptions());
                Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                        .start();
                processes.add(p);
                int[] ports = awaitReady(p, i, log, deadline);
                members.add(new Member(i, "127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1], p.pid(), log.toString(),
                        ports[2] > 0 ? "127.0.0.1:" + ports[2] : null));
            }
            cableAndTrain(members, secret, launch, deadline);
            State state = new State(launch.kind().name(), launch.unshaped(), launch.memoryBytes(), secretFile.toString(),
                    members);
            writePrivate(directory.resolve(STATE_FILE), GSON.toJson(state));
            return state;
        } catch (IOException e) {
            processes.forEach(Process::destroyForcibly);
            throw new DeviceException("cannot start the fleet: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            processes.forEach(Process::destroyForcibly);
            throw e;
        }
    }

    private static int[] awaitReady(Process p, int index, Path log, long deadline) throws IOException {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
            } catch (IOException e) {
                return null;
            }
        });
        String ready;
        try {
            ready = line.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeviceException("interrupted while card " + index + " was starting");
        } catch (ExecutionException | TimeoutException e) {
            ready = null;
        }
        if (ready == null || !ready.startsWith("READY ")) {
            throw new DeviceException("card " + index + " did not start" + (p.isAlive() ? " in time" : " (exit "
                    + p.exitValue() + ")") + "; its log: " + log + lastLine(log));
        }
        String[] parts = ready.split(" ");
        return new int[] {Integer.parseInt(parts[1]), Integer.parseInt(parts[2]), parts.length > 4
                ? Integer.parseInt(parts[4]) : 0};
    }

    private static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return lines.isEmpty() ? "" : " (" + lines.get(lines.size() - 1) + ")";
        } catch (IOException e) {
            return "";
        }
    }

    private static void cableAndTrain(List<Member> members, byte[] secret, Launch launch, long deadline) {
        int n = members.size();
        List<CardConnection> connections = new ArrayList<>();
        try {
            for (Member m : members) {
                connections.add(CardConnection.open(m.endpoint(), secret, 5_000, 10_000));
            }
            for (int i = 0; i < n; i++) {
                for (Cabling.Cable c : Cabling.of(launch.kind(), n, i)) {
                    String peer = c.connect() ? members.get(c.neighbourCard()).linkEndpoint() : "";
                    call(connections.get(i), MessageType.LINK_CABLE, new Messages.LinkCable(i, c.port(),
                            c.neighbourCard(), c.neighbourPort(), c.connect(), peer).encode());
                }
            }
            for (int i = 0; i < n; i++) {
                for (Cabling.Cable c : Cabling.of(launch.kind(), n, i)) {
                    call(connections.get(i), MessageType.LINK_ENABLE, new Messages.LinkEnable(c.port(), true)
                            .encode());
                }
            }
            while (true) {
                List<String> notUp = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    for (PortStatus p : linkStatus(connections.get(i))) {
                        if (p.state() != LinkState.UP) {
                            notUp.add("card " + i + " port " + p.port() + " " + p.state());
                        }
                    }
                }
                if (notUp.isEmpty()) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new DeviceException("the fleet's links did not all come UP within " + launch.timeoutMillis()
                            + " ms: " + String.join(", ", notUp));
                }
                sleep(20);
            }
        } finally {
            connections.forEach(CardConnection::close);
        }
    }

    static List<PortStatus> linkStatus(CardConnection c) {
        try {
            return Messages.LinkStatus.decode(c.call(MessageType.LINK_STATUS, new byte[0]).payload()).ports();
        } catch (CardConnection.CardError | org.popsolutions.spanker.protocol.MalformedFrameException e) {
            throw new DeviceException("card " + c.describe() + ": " + e.getMessage());
        }
    }

    private static void call(CardConnection c, MessageType type, byte[] payload) {
        try {
            c.call(type, payload);
        } catch (CardConnection.CardError e) {
            throw new DeviceException("card " + c.describe() + " refused " + type + ": " + e.getMessage());
        }
    }

    /** Stops every card of the fleet (SHUTDOWN, then a kill after 5 s) and removes the state; the cards it stopped. */
    static List<Member> stop(Path directory) {
        Optional<State> read = read(directory);
        if (read.isEmpty()) {
            return List.of();
        }
        State state = read.get();
        byte[] secret;
        try {
            secret = secret(state);
        } catch (InvalidConfigurationException e) {
            secret = null;
        }
        for (Member m : state.cards()) {
            if (secret != null && alive(m.pid())) {
                try (CardConnection c = CardConnection.open(m.endpoint(), secret, 2_000, 2_000)) {
                    c.request(MessageType.SHUTDOWN, new byte[0]).get(2, TimeUnit.SECONDS);
                } catch (RuntimeException | InterruptedException | ExecutionException | TimeoutException e) {
                    // it goes below, by force
                }
            }
        }
        for (Member m : state.cards()) {
            ProcessHandle.of(m.pid()).filter(Fleet::isEmulator).ifPresent(h -> {
                try {
                    h.onExit().get(5, TimeUnit.SECONDS);
                } catch (InterruptedException | ExecutionException | TimeoutException e) {
                    h.destroyForcibly();
                }
            });
        }
        try {
            Files.deleteIfExists(directory.resolve(STATE_FILE));
            Files.deleteIfExists(Path.of(state.secretFile()));
        } catch (IOException e) {
            throw new DeviceException("the cards stopped but the fleet state could not be removed: " + e.getMessage());
        }
        return state.cards();
    }

    /** A live process that is one of our card emulators (a pid may have been reused since the fleet started). */
    static boolean alive(long pid) {
        return ProcessHandle.of(pid).filter(Fleet::isEmulator).isPresent();
    }

    private static boolean isEmulator(ProcessHandle h) {
        return h.isAlive() && h.info().commandLine().map(c -> c.contains(MAIN_CLASS)).orElse(true);
    }

    static String javaExecutable() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString());
    }

    private static void createPrivateDirectory(Path directory) throws IOException {
        Files.createDirectories(directory);
        try {
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException notPosix) {
            // a non-POSIX file system: the user's home directory protects it
        }
    }

    /** Temp file with user-only permissions, then an atomic rename: never a half-written or readable state. */
    static void writePrivate(Path file, String content) throws IOException {
        Path temp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
        try {
            try {
                Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException notPosix) {
                // see createPrivateDirectory
            }
            Files.writeString(temp, content);
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeviceException("interrupted while waiting for the fleet's links");
        }
    }
}
