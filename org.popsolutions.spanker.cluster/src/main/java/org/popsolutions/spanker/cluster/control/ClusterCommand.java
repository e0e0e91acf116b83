package org.popsolutions.spanker.cluster.control;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.cluster.Level;
import org.popsolutions.spanker.api.cluster.NodeState;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.cluster.node.Layout;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;

/**
 * {@code cluster start|status|test topology|test dag|test ring-stress|stop}: the Linqu hierarchy as OS processes on
 * this machine, found by later commands through the state file.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=cluster")
public final class ClusterCommand extends AbstractConsoleCommand {
    private static final List<String> ACTIONS = List.of("start", "status", "test", "stop");
    private static final List<String> PROGRAMS = List.of("topology", "dag", "ring-stress");

    public ClusterCommand() {
        super("cluster", "The L3-L6 hierarchy as processes: start, status, test topology|dag|ring-stress, stop",
                List.of(OptionSpec.value("l5", "A", "start: CLOS1 (L5) nodes under the L6 root", "1"),
                        OptionSpec.value("l4", "B", "start: pods (L4) per L5 node", "1"),
                        OptionSpec.value("l3", "C", "start: hosts (L3) per pod", "4"),
                        OptionSpec.value("processes", "P",
                                "start: OS processes to spread the nodes over (default: one per node up to 32 nodes, else 16)",
                                null),
                        OptionSpec.value("n", "N", "test dag: elements of f", "64"),
                        OptionSpec.value("chunk", "K", "test dag: elements per task", "4"),
                        OptionSpec.value("timeout", "SECONDS", "test: how long to wait for the program", "600")),
                List.of("ACTION", "PROGRAM"));
    }

    @Override
    protected Report run(Arguments arguments) {
        String action = arguments.positional(0, "an action: " + String.join("|", ACTIONS));
        ClusterControl control = new ClusterControl(StateFile.standard());
        return switch (action) {
            case "start" -> start(control, arguments);
            case "status" -> status(control);
            case "test" -> test(control, arguments);
            case "stop" -> stop(control);
            default -> throw new UsageException("unknown action '" + action + "'; expected one of "
                    + String.join("|", ACTIONS));
        };
    }

    private static int positive(Arguments arguments, String name, int defaultValue) {
        int value = arguments.integer(name, defaultValue);
        if (value < 1) {
            throw new UsageException("--" + name + " must be at least 1, was " + value);
        }
        return value;
    }

    private static Report start(ClusterControl control, Arguments arguments) {
        Layout layout;
        try {
            layout = new Layout(positive(arguments, "l5", 1), positive(arguments, "l4", 1),
                    positive(arguments, "l3", 4));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        int processes = arguments.integer("processes").orElse(layout.defaultProcesses());
        if (processes < 1 || processes > layout.nodeCount()) {
            throw new UsageException("--processes must be 1 to " + layout.nodeCount() + ", was " + processes);
        }
        ClusterControl.Started started = control.start(layout, processes);
        Report report = new Report();
        Rows levels = new Rows("levels", "Cluster " + started.name(), Column.of("level", "level"),
                Column.of("nodes", "nodes")).as(Rows.Layout.MAP);
        started.nodesPerLevel().forEach((level, count) -> levels.add("L" + level.number(), count));
        report.line(layout.nodeCount() + " nodes in " + started.pids().size() + " processes started in "
                + started.startMillis() + " ms; pids " + started.pids());
        report.put("name", started.name()).put("nodes", layout.nodeCount()).rows(levels)
                .put("processes", started.pids().size()).put("pids", started.pids())
                .put("startMillis", started.startMillis()).put("rootPort", started.rootPort());
        return report;
    }

    private static Report status(ClusterControl control) {
        ClusterControl.Status status = control.status();
        Report report = new Report();
        // JSON: each level's counts keyed by the level (levels.L3.live)
        Rows levels = new Rows("levels", "Cluster " + status.name() + " (" + status.layout() + ")",
                Column.of("level", "level"), Column.of("live", "live"), Column.of("suspect", "suspect"),
                Column.of("dead", "dead")).as(Rows.Layout.MAP);
        for (Map.Entry<Level, Map<NodeState, Integer>> entry : status.perLevel().entrySet()) {
            Map<NodeState, Integer> counts = entry.getValue();
            levels.add("L" + entry.getKey().number(), counts.get(NodeState.LIVE), counts.get(NodeState.SUSPECT),
                    counts.get(NodeState.DEAD));
        }
        Rows processes = new Rows("processes", "Processes", Column.of("index", "index"), Column.of("pid", "pid"),
                Column.of("alive", "alive"), Column.of("nodes", "nodes"));
        for (ClusterControl.ProcessStatus process : status.processes()) {
            processes.add(process.index(), process.pid(), process.alive(), process.nodes());
        }
        List<Map<String, Object>> notLive = new ArrayList<>();
        for (ClusterControl.NodeStatus node : status.nodes()) {
            if (node.state() != NodeState.LIVE) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("node", node.coordinate().toString());
                json.put("state", node.state().name().toLowerCase(java.util.Locale.ROOT));
                json.put("pid", node.pid());
                notLive.add(json);
                report.line(node.coordinate() + " is " + node.state().name().toLowerCase(java.util.Locale.ROOT)
                        + " (process " + node.pid() + ")");
            }
        }
        if (!status.rootReachable()) {
            report.line("the L6 root does not answer; node states come from the processes alone");
        }
        report.put("name", status.name()).put("layout", status.layout().toString())
                .put("rootReachable", status.rootReachable()).rows(levels).rows(processes).put("notLive", notLive);
        return report;
    }

    private static Report test(ClusterControl control, Arguments arguments) {
        String program = arguments.positional(1, "a program: " + String.join("|", PROGRAMS));
        Duration timeout = Duration.ofSeconds(positive(arguments, "timeout", 600));
        Report report = new Report();
        switch (program) {
            case "topology" -> {
                ClusterControl.TopologyResult result = control.topology(timeout);
                Rows nodes = new Rows("nodes", "L3 hosts", Column.of("level", "level"), Column.of("l5", "l5"),
                        Column.of("l4", "l4"), Column.of("l3", "l3"), Column.of("global", "global"),
                        Column.of("pid", "pid"));
                for (ClusterControl.Identity node : result.nodes()) {
                    nodes.add(node.level(), node.l5(), node.l4(), node.l3(), node.global(), node.pid());
                }
                report.line(result.nodes().size() + " hosts reported, coordinates and global ids unique, in "
                        + result.millis() + " ms");
                report.rows(nodes).put("count", nodes.size()).put("millis", result.millis());
            }
            case "dag" -> {
                int n = positive(arguments, "n", 64);
                int chunk = positive(arguments, "chunk", 4);
                if (chunk > 8192) {
                    throw new UsageException("--chunk must be at most 8192, was " + chunk);
                }
                ClusterControl.DagResult result = control.dag(n, chunk, timeout);
                double perSecond = result.tasks() * 1000.0 / Math.max(1, result.millis());
                report.line("f[i] = 9i^2 + 12i + 2 checked for i < " + n + "; " + result.tasks() + " tasks on L3 hosts in "
                        + result.millis() + " ms (" + Math.round(perSecond) + " tasks/s)");
                int shown = Math.min(n, 16);
                // JSON: every f[i] as a list; the table shows the first of them
                Rows f = new Rows("f", "f (first " + shown + ")", Column.of("i", "i"), Column.of("f", "f"))
                        .as(Rows.Layout.VALUES);
                for (int i = 0; i < n; i++) {
                    f.add(i, result.f()[i]);
                }
                report.rows(f, shown).put("tasks", result.tasks()).put("millis", result.millis())
                        .put("tasksPerSecond", perSecond);
            }
            case "ring-stress" -> {
                ClusterControl.RingStressResult result = control.ringStress(timeout);
                Rows counters = new Rows("counters", "Ring stress on one pod", Column.of("counter", "counter"),
                        Column.of("value", "value")).as(Rows.Layout.MAP);
                result.counters().forEach(counters::add);
                report.line("back-pressure survived: every result checked, rings empty afterwards, in "
                        + result.millis() + " ms");
                report.rows(counters).put("millis", result.millis());
            }
            default -> throw new UsageException("unknown program '" + program + "'; expected one of "
                    + String.join("|", PROGRAMS));
        }
        return report;
    }

    private static Report stop(ClusterControl control) {
        Optional<ClusterControl.Stopped> stopped = control.stop();
        Report report = new Report();
        if (stopped.isEmpty()) {
            report.line("no cluster was running");
            report.put("stopped", false);
            return report;
        }
        report.line("cluster " + stopped.get().name() + " stopped: " + stopped.get().stopped().size()
                + " processes ended" + (stopped.get().killed().isEmpty() ? ""
                        : ", " + stopped.get().killed().size() + " killed after 10 s"));
        report.put("stopped", true).put("name", stopped.get().name()).put("ended", stopped.get().stopped())
                .put("killed", stopped.get().killed());
        return report;
    }
}
