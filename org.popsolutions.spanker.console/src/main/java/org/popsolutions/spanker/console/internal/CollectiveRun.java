package org.popsolutions.spanker.console.internal;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.collective.CollectiveEngine;
import org.popsolutions.spanker.api.collective.CollectiveOutcome;
import org.popsolutions.spanker.api.collective.CollectiveRequest;
import org.popsolutions.spanker.api.collective.LinkTraffic;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;

/** The options the collective commands share, parsed: buffers, topology, algorithm. */
record CollectiveRun(List<float[]> buffers, Topology topology, CollectiveAlgorithm algorithm) {
    /** The choices of --algo for allreduce and allgather: what both can run, and auto. */
    static final OptionSpec ALGORITHM = OptionSpec.choice("algo", choices(CollectiveKind.ALL_REDUCE),
            "algorithm: the original (reference) or card to card over the links", "reference");

    static List<String> choices(CollectiveKind kind) {
        List<String> labels = new ArrayList<>();
        labels.add(CollectiveAlgorithm.AUTO.label());
        kind.algorithms().forEach(a -> labels.add(a.label()));
        return List.copyOf(labels);
    }

    /** Refuses an algorithm that cannot run {@code kind}, naming those that can. */
    static void requireSupported(CollectiveKind kind, CollectiveAlgorithm algorithm) {
        if (algorithm != CollectiveAlgorithm.AUTO && !kind.algorithms().contains(algorithm)) {
            throw new UsageException("--algo " + algorithm.label() + " cannot run " + kind.label() + "; use one of "
                    + String.join("|", choices(kind)));
        }
    }

    static CollectiveRun parse(Arguments arguments) {
        List<float[]> buffers = Buffers.parse(arguments.requiredString("buffers"));
        int cards = arguments.integer("cards").orElse(buffers.size());
        if (cards < 0 || cards > 256) {
            throw new UsageException("option --cards must be within 0..256, got " + cards);
        }
        TopologyKind kind = arguments.choice("kind", TopologyKind.class).orElse(TopologyKind.RING);
        CollectiveAlgorithm algorithm = CollectiveAlgorithm.fromLabel(arguments.string("algo").orElse("reference"));
        return new CollectiveRun(buffers, SyntheticTopology.of(kind, cards), algorithm);
    }

    boolean isReference() {
        return algorithm == CollectiveAlgorithm.REFERENCE;
    }

    /** Runs on the engine and adds the algorithm, times and per-link traffic to the report. */
    List<float[]> on(CollectiveEngine engine, CollectiveKind kind, ReduceOp op, Report report) {
        if (engine == null) {
            throw new DeviceException("no collective engine is running (the scheduler bundle provides it)");
        }
        CollectiveOutcome outcome;
        try {
            outcome = engine.run(new CollectiveRequest(kind, op, topology, buffers, algorithm, 0, false));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Rows traffic = new Rows("traffic", "Link traffic", Column.of("from", "From"), Column.of("to", "To"),
                Column.of("bytes", "Bytes", Unit.BYTES), Column.of("messages", "Messages"));
        for (LinkTraffic t : outcome.traffic()) {
            traffic.add(t.local(), t.remote(), t.bytes(), t.messages());
        }
        report.line("algorithm " + outcome.algorithm().label() + ": " + outcome.predicted().steps() + " steps, measured "
                + Units.seconds(outcome.elapsedNanos() / 1e9) + ", predicted on Sails links "
                + Units.seconds(outcome.predicted().totalSeconds()));
        report.put("algorithm", outcome.algorithm().label()).put("steps", outcome.predicted().steps())
                .rows(traffic).put("measuredSeconds", outcome.elapsedNanos() / 1e9)
                .put("predictedSeconds", outcome.predicted().totalSeconds());
        return outcome.results();
    }
}
