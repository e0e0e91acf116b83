package org.popsolutions.spanker.console.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.collective.CollectiveEngine;
import org.popsolutions.spanker.api.collective.CollectiveOutcome;
import org.popsolutions.spanker.api.collective.CollectiveRequest;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;

/**
 * Measures a collective over a sweep of sizes on mock cards, printed like nccl-tests (size, count, type,
 * redop, algorithm, time, algbw, busbw) with the link model's prediction beside the measurement. Sizes
 * follow nccl-tests: the allreduce/broadcast buffer, the reduce-scatter input, the allgather output.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=bench-collective")
public final class BenchCollectiveCommand extends AbstractConsoleCommand {
    private static final long MEMCPY_REFERENCE_BYTES = 64L << 20;
    private static final long MAX_BYTES = 1L << 30;
    private static final long WARMUP_NANOS = 500_000_000L;
    private static final int MAX_WARMUP = 1000;
    private static final String ROW_FORMAT = "%12s %12s %6s %6s %9s %11s %11s %12s %12s %7s %15s %10s %12s %9s%n";

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile CollectiveEngine engine;

    /** Draws --plot; absent when the plot bundle is not installed. */
    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile org.popsolutions.spanker.api.plot.ChartWriter charts;

    /** Where rows go as they are measured (people's output only; {@code --json} prints one document at the end). */
    volatile java.io.PrintStream rowsOut;

    public BenchCollectiveCommand() {
        super("bench-collective", "nccl-tests-style sweep of one collective on mock cards, with predicted times",
                List.of(OptionSpec.choice("op", List.of("allreduce", "allgather", "reducescatter", "broadcast"),
                        "the collective", "allreduce"),
                        OptionSpec.value("min", "BYTES", "smallest size (e.g. 8, 64K)", "8"),
                        OptionSpec.value("max", "BYTES", "largest size (e.g. 64M, at most 1G)", "64M"),
                        OptionSpec.value("factor", "F", "size multiplier between rows", "2"),
                        OptionSpec.value("cards", "K", "mock cards (1..64)", "4"),
                        OptionSpec.choice("kind", List.of("ring", "mesh"), "cabling", "ring"),
                        OptionSpec.choice("algo", List.of("auto", "ring", "rd", "hd", "direct", "tree", "reference"),
                                "algorithm", "auto"),
                        OptionSpec.choice("redop", List.of("sum", "max", "min", "avg"), "reduction", "sum"),
                        OptionSpec.flag("shaped", "hold links and cards to the link model's rates and latencies"),
                        OptionSpec.value("iters", "N", "timed iterations per size", "20"),
                        OptionSpec.value("warmup", "N", "untimed iterations per size",
                                "as many as fit in 0.5 s, 5 to 1000"),
                        OptionSpec.value("plot", "FILE.svg",
                                "also draw busbw and time against size, measured and predicted, per algorithm", null)));
    }

    @Override
    protected Report run(Arguments arguments) {
        CollectiveKind kind = collectiveKind(arguments.string("op").orElse("allreduce"));
        long min = arguments.unsignedLong("min").orElse(8L);
        long max = arguments.unsignedLong("max").orElse(64L << 20);
        int factor = arguments.integer("factor", 2);
        int cards = arguments.integer("cards", 4);
        int iterations = arguments.integer("iters", 20);
        Integer fixedWarmup = arguments.integer("warmup").orElse(null);
        int warmup = fixedWarmup == null ? 5 : fixedWarmup;
        if (min < 4 || max < min || max > MAX_BYTES) {
            throw new UsageException("sizes must satisfy 4 <= --min <= --max <= 1G, got " + min + " and " + max);
        }
        if (factor < 2) {
            throw new UsageException("option --factor must be >= 2, got " + factor);
        }
        if (cards < 1 || cards > 64) {
            throw new UsageException("option --cards must be within 1..64, got " + cards);
        }
        if (iterations < 1 || iterations > 1000 || warmup < 0 || warmup > 1000) {
            throw new UsageException("--iters must be within 1..1000 and --warmup within 0..1000");
        }
        TopologyKind cabling = arguments.choice("kind", TopologyKind.class).orElse(TopologyKind.RING);
        CollectiveAlgorithm algorithm = CollectiveAlgorithm.fromLabel(arguments.string("algo").orElse("auto"));
        CollectiveRun.requireSupported(kind, algorithm);
        ReduceOp op = arguments.choice("redop", ReduceOp.class).orElse(ReduceOp.SUM);
        boolean shaped = arguments.flag("shaped");
        Topology topology = SyntheticTopology.of(cabling, cards);
        java.nio.file.Path plot = arguments.string("plot").map(java.nio.file.Path::of).orElse(null);
        org.popsolutions.spanker.api.plot.ChartWriter chartWriter = charts;
        if (plot != null && chartWriter == null) {
            throw new org.popsolutions.spanker.api.NotImplementedException(
                    "--plot needs the chart writer of the org.popsolutions.spanker.plot bundle, which is not installed");
        }

        Report report = new Report();
        // one row per size: printed as it is measured (nccl-tests' columns), and the JSON's "rows"
        Rows rows = new Rows("rows", "sweep", Column.of("size", "size (B)"), Column.of("count", "count"),
                Column.of("type", "type"), Column.of("redop", "redop"), Column.of("algorithm", "algo"),
                Column.of("timeMicros", "time (us)", Unit.FIXED_1), Column.of("minTimeMicros", "min (us)", Unit.FIXED_1),
                Column.of("algbwGBps", "algbw (GB/s)", Unit.FIXED_3), Column.of("busbwGBps", "busbw (GB/s)", Unit.FIXED_3),
                Column.of("wrong", "#wrong"), Column.of("predictedMicros", "predicted (us)", Unit.FIXED_1),
                Column.of("measuredOverPredicted", "meas/pred", Unit.FIXED_2),
                // nccl-tests' device timing: last card's finish less first card's start, on the cards' aligned clocks
                Column.of("deviceTimeMicros", "device (us)", Unit.FIXED_1),
                Column.of("deviceOverPredicted", "dev/pred", Unit.FIXED_2));
        String title = kind.label() + " on " + cards + " mock cards (" + cabling.label() + ", "
                + (shaped ? "shaped to the link model" : "unshaped") + ")";
        // as nccl-tests: each row printed as it is measured; JSON gets one document at the end
        java.io.PrintStream stream = arguments.flag(JSON.name()) ? null : rowsOut != null ? rowsOut : System.out;
        if (stream != null) {
            stream.println("# " + title + "; every iteration's result checked against the reference collective");
            stream.printf(Locale.ROOT, ROW_FORMAT, rows.columns().stream().map(Column::header).toArray());
            stream.flush();
        }
        long wrongTotal = 0;
        double dilation = 1;
        double lastBusBandwidth = 0;
        // nccl-tests prints "none" where the collective combines nothing.
        String redop = kind == CollectiveKind.ALL_GATHER || kind == CollectiveKind.BROADCAST ? "none"
                : op.name().toLowerCase(Locale.ROOT);
        long previousBytes = -1;
        double busBandwidthSum = 0;
        for (long size = min; size <= max; size = size * factor) {
            int perCard = elementsPerCard(kind, size, cards);
            long bytes = reportedBytes(kind, perCard, cards);
            if (bytes == previousBytes) {
                // Two requested sizes that round to the same whole elements per card are one measurement.
                if (size > Long.MAX_VALUE / factor) {
                    break;
                }
                continue;
            }
            previousBytes = bytes;
            List<float[]> inputs = inputs(cards, perCard);
            // one set of buffers refilled for every run: a new set per run would be large arrays the garbage
            // collector reclaims (and marks from) while the cards run
            List<float[]> buffers = copies(inputs);
            CollectiveOutcome outcome = null;
            // Warm up until the step code is compiled: small sizes need hundreds of runs, large ones a few.
            long warmupEnd = System.nanoTime() + WARMUP_NANOS;
            for (int i = 0; i < warmup || fixedWarmup == null && i < MAX_WARMUP && System.nanoTime() < warmupEnd; i++) {
                engine.run(new CollectiveRequest(kind, op, topology, refill(buffers, inputs), algorithm, 0, shaped));
            }
            List<float[]> expected = engine.run(new CollectiveRequest(kind, op, topology, copies(inputs),
                    CollectiveAlgorithm.REFERENCE, 0, false)).results();
            long[] nanos = new long[iterations];
            long[] deviceNanos = new long[iterations];
            long wrong = 0;
            for (int i = 0; i < iterations; i++) {
                outcome = engine.run(new CollectiveRequest(kind, op, topology, refill(buffers, inputs), algorithm, 0,
                        shaped));
                // dilated cards run K times slower than the hardware: their times, scaled back, read as rev-A's
                dilation = Math.max(dilation, outcome.timeDilation());
                nanos[i] = Math.round(outcome.elapsedNanos() / outcome.timeDilation());
                deviceNanos[i] = outcome.deviceNanos() < 0 ? -1 : Math.round(outcome.deviceNanos()
                        / outcome.timeDilation());
                wrong += ResultCheck.wrong(expected, outcome.results(), cards);
            }
            wrongTotal += wrong;
            // The median: a garbage collection or a descheduled mock card in one iteration does not move it.
            java.util.Arrays.sort(nanos);
            java.util.Arrays.sort(deviceNanos);
            double seconds = nanos[iterations / 2] / 1e9;
            Double deviceSeconds = deviceNanos[0] < 0 ? null : deviceNanos[iterations / 2] / 1e9;
            double algbw = bytes / seconds / 1e9;
            double busbw = algbw * kind.busBandwidthFactor(cards);
            double predicted = outcome.predicted().totalSeconds();
            lastBusBandwidth = busbw;
            busBandwidthSum += busbw;
            rows.add(bytes, bytes / Float.BYTES, "float", redop, outcome.algorithm().label(), seconds * 1e6,
                    nanos[0] / 1e3, algbw, busbw, wrong, predicted * 1e6, predicted > 0 ? seconds / predicted : null,
                    deviceSeconds == null ? null : deviceSeconds * 1e6,
                    deviceSeconds != null && predicted > 0 ? deviceSeconds / predicted : null);
            if (stream != null) {
                stream.printf(Locale.ROOT, ROW_FORMAT, rows.cells(rows.size() - 1).toArray());
                stream.flush();
            }
            if (size > Long.MAX_VALUE / factor) {
                break;
            }
        }
        // The reference is measured at a size past the caches whatever the sweep covered, as a memcpy rate is quoted.
        double memcpy = MemcpyProbe.gigabytesPerSecond(MEMCPY_REFERENCE_BYTES);
        report.line(String.format(Locale.ROOT, "# Out of bounds values : %d %s", wrongTotal,
                wrongTotal == 0 ? "OK" : "FAILED"));
        // nccl-tests' closing line: the plain mean of busbw over the sizes of the sweep
        double averageBusBandwidth = busBandwidthSum / rows.size();
        report.line(String.format(Locale.ROOT, "# Avg bus bandwidth    : %.3f GB/s", averageBusBandwidth));
        report.line(String.format(Locale.ROOT, "memcpy (System.arraycopy, one thread): %.2f GB/s; busbw at the largest"
                + " size / memcpy = %.2f", memcpy, lastBusBandwidth / memcpy));
        if (plot != null) {
            chartWriter.writeSvg(SweepCharts.of(kind.label() + " on " + cards + " mock cards (" + cabling.label() + ")",
                    rows.json()), plot);
            report.line("plot: " + plot);
            report.put("plot", plot.toString());
        }
        report.line("time: from the host's first SUBMIT to its last COMPLETE; device: the last card's finish less the"
                + " first card's start on the cards' clocks (each aligned to the host's at connection by the HELLO"
                + " round trip; '-' where the cards do not report it)");
        if (dilation != 1) {
            report.line(String.format(Locale.ROOT, "measured on cards dilated x%s: every time shown is divided by %s,"
                    + " the host-side time too (so the host's own work counts %s times less than it took)",
                    dilationText(dilation), dilationText(dilation), dilationText(dilation)));
        }
        report.put("dilation", dilation);
        report.put("collective", kind.label()).put("cards", cards).put("cabling", cabling.label())
                .put("shaped", shaped).printedRows(rows).put("outOfBounds", wrongTotal).put("avgBusbwGBps", averageBusBandwidth)
                .put("memcpyGBps", memcpy).put("memcpyBytes", MEMCPY_REFERENCE_BYTES);
        return report;
    }

    private static String dilationText(double k) {
        return k == Math.rint(k) ? Long.toString((long) k) : Double.toString(k);
    }

    static CollectiveKind collectiveKind(String label) {
        for (CollectiveKind kind : CollectiveKind.values()) {
            if (kind.label().equals(label)) {
                return kind;
            }
        }
        throw new UsageException("unknown collective '" + label + "'");
    }

    /** Elements each card contributes for a reported size, nccl-tests style. */
    static int elementsPerCard(CollectiveKind kind, long size, int cards) {
        long elements = size / Float.BYTES;
        if (kind == CollectiveKind.ALL_GATHER) {
            elements = elements / cards;
        }
        return (int) Math.max(1, elements);
    }

    static long reportedBytes(CollectiveKind kind, int perCard, int cards) {
        long bytes = (long) perCard * Float.BYTES;
        return kind == CollectiveKind.ALL_GATHER ? bytes * cards : bytes;
    }

    private static List<float[]> copies(List<float[]> inputs) {
        return inputs.stream().map(float[]::clone).toList();
    }

    /** The inputs copied into {@code buffers} (the last run may have left its results there). */
    private static List<float[]> refill(List<float[]> buffers, List<float[]> inputs) {
        for (int c = 0; c < inputs.size(); c++) {
            System.arraycopy(inputs.get(c), 0, buffers.get(c), 0, inputs.get(c).length);
        }
        return buffers;
    }

    private static List<float[]> inputs(int cards, int perCard) {
        Random random = new Random(perCard);
        List<float[]> inputs = new ArrayList<>();
        for (int c = 0; c < cards; c++) {
            float[] buffer = new float[perCard];
            for (int i = 0; i < perCard; i++) {
                buffer[i] = random.nextFloat();
            }
            inputs.add(buffer);
        }
        return inputs;
    }
}
