package org.popsolutions.spanker.device.sails;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.card.PortStatus;
import org.popsolutions.spanker.api.card.PortTraffic;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;
import org.popsolutions.spanker.protocol.MalformedFrameException;
import org.popsolutions.spanker.protocol.MessageType;
import org.popsolutions.spanker.protocol.Messages;

/**
 * {@code fleet start --cards N [--kind ring|mesh] [--unshaped]}, {@code fleet status}, {@code fleet stop}: emulated
 * Sails cards, one process each, for {@code --device sails}.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=fleet")
public final class FleetCommand extends AbstractConsoleCommand {
    /** System property: the card emulator's class path (the launcher sets it to its emulator/ directory's jars). */
    static final String CLASSPATH_PROPERTY = "spanker.emulator.classpath";
    /** System property: a directory holding the card emulator's jars. */
    static final String LIB_PROPERTY = "spanker.emulator.lib";
    private static final long START_TIMEOUT_MILLIS = 60_000;

    public FleetCommand() {
        super("fleet", "Emulated Sails cards in separate processes: fleet start|status|stop",
                List.of(OptionSpec.value("cards", "N", "cards to start (1..64)", null),
                        OptionSpec.choice("kind", List.of("ring", "mesh"), "how the cards are cabled", "ring"),
                        OptionSpec.flag("unshaped", "run as fast as the host can instead of at rev-A rates"),
                        OptionSpec.flag("bench", "also open each card's raw TCP port for bench-hostlink"),
                        OptionSpec.value("memory", "BYTES", "each card's DDR capacity", "4294967296"),
                        OptionSpec.value("receive-timeout-ms", "T", "how long a card's receive waits without progress"
                                + " on any card it hears from", "10000"),
                        OptionSpec.value("threads", "N", "compute threads per card (default: this machine's cores"
                                + " shared among the cards, at least 1)", null),
                        OptionSpec.value("owner", "PID", "the cards end when process PID ends (a cluster host's"
                                + " own cards)", null),
                        OptionSpec.value("dilation", "K", "run every modelled time K times slower than rev-A (compute,"
                                + " links, host link), so a machine with fewer cores than cards keeps the pace;"
                                + " measured times are scaled back by K", "1"),
                        OptionSpec.value("host-link-dilation", "KH", "pace the host link (card loads, logits) KH"
                                + " times slower than rev-A instead of K: 1 loads a large model at rev-A's own 100 MB/s"
                                + " while compute and links stay dilated (per-token host-link time then counts KH/K of"
                                + " rev-A's in measured times)", null)),
                List.of("start|status|stop"));
    }

    private volatile BundleContext context;

    @Activate
    void activate(BundleContext bundleContext) {
        this.context = bundleContext;
    }

    @Override
    protected Report run(Arguments arguments) {
        String action = arguments.positional(0, "an action: start, status or stop");
        Path directory = Fleet.defaultDirectory(context);
        return switch (action) {
            case "start" -> start(arguments, directory);
            case "status" -> status(directory);
            case "stop" -> stop(directory);
            default -> throw new UsageException("'fleet' takes start, status or stop, got '" + action + "'");
        };
    }

    private Report start(Arguments arguments, Path directory) {
        int cards = arguments.requiredInteger("cards");
        if (cards < 1 || cards > 64) {
            throw new UsageException("option --cards must be within 1..64, got " + cards);
        }
        TopologyKind kind = arguments.choice("kind", TopologyKind.class).orElse(TopologyKind.RING);
        long memory = arguments.unsignedLong("memory").orElse(4L << 30);
        if (memory < 1) {
            throw new UsageException("option --memory must be > 0 bytes");
        }
        boolean unshaped = arguments.flag("unshaped");
        long receiveTimeout = arguments.unsignedLong("receive-timeout-ms").orElse(10_000L);
        if (receiveTimeout < 1) {
            throw new UsageException("option --receive-timeout-ms must be > 0");
        }
        // A shaped card must compute faster than rev-A to show rev-A's pace: give each its share of the cores.
        long threads = arguments.unsignedLong("threads").orElse((long) Math.max(1,
                Runtime.getRuntime().availableProcessors() / cards));
        if (threads < 1 || threads > 256) {
            throw new UsageException("option --threads must be within 1..256, got " + threads);
        }
        double dilation = dilation(arguments);
        List<String> extra = new ArrayList<>(List.of("--receive-timeout-ms", Long.toString(receiveTimeout),
                "--threads", Long.toString(threads)));
        if (dilation != 1) {
            extra.addAll(List.of("--dilation", Double.toString(dilation)));
        }
        double hostLinkDilation = hostLinkDilation(arguments, dilation);
        extra.addAll(hostLinkPacing(dilation, hostLinkDilation));
        if (arguments.flag("bench")) {
            extra.add("--bench");
        }
        if (arguments.has("owner")) {
            long owner = arguments.unsignedLong("owner").orElse(0L);
            if (owner < 1 || ProcessHandle.of(owner).isEmpty()) {
                throw new UsageException("option --owner names a running process, got " + owner);
            }
            extra.addAll(List.of("--exit-with", Long.toString(owner)));
        }
        Fleet.State state = Fleet.start(directory, new Fleet.Launch(cards, kind, unshaped, memory, classpath(),
                extra, START_TIMEOUT_MILLIS));
        Report report = new Report();
        Rows members = new Rows("cards", "Fleet (" + kind + (unshaped ? ", unshaped" : ", rev-A rates")
                + (dilation != 1 ? " dilated x" + factor(dilation) : "") + ")",
                Column.of("index", "Card"), Column.of("endpoint", "Endpoint"), Column.of("pid", "Pid"));
        for (Fleet.Member m : state.cards()) {
            members.add(m.index(), m.endpoint(), m.pid());
        }
        report.line(cards + " cards started, every link UP; state in " + directory.resolve(Fleet.STATE_FILE)
                + "; drive them with --device sails, end them with 'fleet stop'");
        if (dilation != 1) {
            report.line(dilationLine(dilation));
        }
        if (hostLinkDilation != dilation) {
            report.line("host link dilated x" + factor(hostLinkDilation) + " (not x" + factor(dilation) + "): loads and"
                    + " logits cross it at rev-A's rate / " + factor(hostLinkDilation) + "; in times scaled back by "
                    + factor(dilation) + " its per-token share counts " + factor(hostLinkDilation) + "/"
                    + factor(dilation) + " of rev-A's");
        }
        report.rows(members).put("kind", kind.name()).put("shaped", !unshaped).put("dilation", dilation)
                .put("hostLinkDilation", hostLinkDilation);
        return report;
    }

    private Report status(Path directory) {
        Fleet.State state = Fleet.read(directory).orElseThrow(() -> new DeviceException("no fleet is running ("
                + directory.resolve(Fleet.STATE_FILE) + " is absent); start one with 'spanker fleet start --cards N'"));
        byte[] secret = Fleet.secret(state);
        Report report = new Report();
        Rows members = new Rows("cards", "Fleet (" + state.kind() + (state.unshaped() ? ", unshaped"
                : ", rev-A rates") + ")", Column.of("index", "Card"), Column.of("endpoint", "Endpoint"),
                Column.of("pid", "Pid"), Column.of("state", "State"), Column.of("links", "Links"),
                Column.of("memoryUsedBytes", "Memory used", Unit.BYTES),
                Column.of("memoryFreeBytes", "Memory free", Unit.BYTES),
                Column.of("hostWrittenBytes", "Host written", Unit.BYTES),
                Column.of("hostReadBytes", "Host read", Unit.BYTES), Column.of("linkSentBytes", "Link sent", Unit.BYTES),
                Column.of("linkReceivedBytes", "Link received", Unit.BYTES),
                Column.of("busySeconds", "Busy", Unit.SECONDS), Column.of("dilation", "Dilation"),
                Column.of("reason", "Reason"));
        double fleetDilation = 1;
        for (Fleet.Member m : state.cards()) {
            if (!Fleet.alive(m.pid())) {
                members.add(m.index(), m.endpoint(), m.pid(), "exited", null, null, null, null, null, null, null, null, null,
                        null);
                continue;
            }
            try (CardConnection c = CardConnection.open(m.endpoint(), secret, 2_000, 5_000)) {
                Messages.Memory memory = Messages.Memory.decode(c.call(MessageType.MEMORY, new byte[0]).payload());
                List<PortStatus> ports = Fleet.linkStatus(c);
                Messages.Telemetry t = Messages.Telemetry.decode(c.call(MessageType.TELEMETRY, new byte[0])
                        .payload());
                long sent = t.ports().stream().mapToLong(PortTraffic::sentBytes).sum();
                long received = t.ports().stream().mapToLong(PortTraffic::receivedBytes).sum();
                // each port as "port:STATE", the way people read it and scripts split it
                List<String> links = ports.stream().map(p -> p.port() + ":" + p.state().name()).toList();
                double k = c.hello().timeDilation();
                fleetDilation = Math.max(fleetDilation, k);
                // the card's busy time as rev-A would have spent it: a dilated card runs K times slower
                double busySeconds = t.busyNanos() / 1e9 / k;
                members.add(m.index(), m.endpoint(), m.pid(), "running", links, memory.usedBytes(),
                        memory.capacityBytes() - memory.usedBytes(), t.hostWriteBytes(), t.hostReadBytes(), sent,
                        received, busySeconds, k, null);
            } catch (CardConnection.CardError | MalformedFrameException | DeviceException e) {
                members.add(m.index(), m.endpoint(), m.pid(), "unreachable", null, null, null, null, null, null, null,
                        null, null, e.getMessage());
            }
        }
        if (fleetDilation != 1) {
            report.line(dilationLine(fleetDilation));
        }
        report.rows(members).put("kind", state.kind()).put("shaped", !state.unshaped()).put("dilation", fleetDilation);
        return report;
    }

    /** --dilation K: 1 <= K <= 1000, or one line saying what is wrong. */
    static double dilation(Arguments arguments) {
        double k = arguments.decimal("dilation").orElse(1.0);
        if (!(k >= 1 && k <= Messages.HelloReply.MAX_TIME_DILATION)) {
            throw new UsageException("option --dilation must be within 1..1000 (how many times slower than rev-A the"
                    + " cards run; 1 = rev-A pace), got " + arguments.string("dilation").orElse(""));
        }
        return k;
    }

    /** --host-link-dilation KH: 1 <= KH <= 1000, K (the cards' dilation) when absent. */
    static double hostLinkDilation(Arguments arguments, double dilation) {
        if (!arguments.has("host-link-dilation")) {
            return dilation;
        }
        double k = arguments.decimal("host-link-dilation").orElse(Double.NaN);
        if (!(k >= 1 && k <= Messages.HelloReply.MAX_TIME_DILATION)) {
            throw new UsageException("option --host-link-dilation must be within 1..1000 (how many times slower than"
                    + " rev-A the host link runs; 1 = rev-A's 100 MB/s), got "
                    + arguments.string("host-link-dilation").orElse(""));
        }
        return k;
    }

    /**
     * The emulator's option that paces its host link KH times slower than rev-A on a card dilated K times (the card
     * announces KH in HELLO_REPLY, protocol 1.3, and the host paces its NIC by it). Nothing when KH = K (the card's
     * own dilation applies).
     */
    static List<String> hostLinkPacing(double dilation, double hostLinkDilation) {
        if (hostLinkDilation == dilation) {
            return List.of();
        }
        return List.of("--host-link-dilation", Double.toString(hostLinkDilation));
    }

    /** A dilation as people write it: 4, 2.5. */
    static String factor(double k) {
        return k == Math.rint(k) ? Long.toString((long) k) : Double.toString(k);
    }

    static String dilationLine(double k) {
        return "cards dilated x" + factor(k) + ": every modelled time runs " + factor(k)
                + " times slower than rev-A; times shown are scaled back by " + factor(k)
                + " (the host's own work is divided by it too)";
    }

    private Report stop(Path directory) {
        List<Fleet.Member> stopped = Fleet.stop(directory);
        Report report = new Report();
        report.line(stopped.isEmpty() ? "no fleet was running" : stopped.size() + " cards stopped");
        report.put("stopped", stopped.stream().map(m -> Map.of("index", m.index(), "pid", m.pid())).toList());
        return report;
    }

    /** The emulator's class path: {@value #CLASSPATH_PROPERTY}, else every jar in {@value #LIB_PROPERTY}. */
    static String classpath() {
        String cp = System.getProperty(CLASSPATH_PROPERTY);
        if (cp != null && !cp.isBlank()) {
            return cp;
        }
        String lib = System.getProperty(LIB_PROPERTY);
        Optional<String> jars = Optional.empty();
        if (lib != null && Files.isDirectory(Path.of(lib))) {
            try (Stream<Path> files = Files.list(Path.of(lib))) {
                jars = Optional.of(files.filter(p -> p.toString().endsWith(".jar")).sorted().map(Path::toString)
                        .collect(Collectors.joining(File.pathSeparator))).filter(s -> !s.isEmpty());
            } catch (java.io.IOException e) {
                jars = Optional.empty();
            }
        }
        return jars.orElseThrow(() -> new DeviceException("the card emulator's jars were not found: set the system"
                + " property " + LIB_PROPERTY + " to a directory holding them (the launcher's emulator/ directory)"));
    }
}
