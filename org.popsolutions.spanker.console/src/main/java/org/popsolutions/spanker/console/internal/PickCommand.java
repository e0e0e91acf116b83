package org.popsolutions.spanker.console.internal;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.bandwidth.BandwidthModelService;
import org.popsolutions.spanker.api.bandwidth.InvariantCheck;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.strategy.CandidateCost;
import org.popsolutions.spanker.api.strategy.PartitionStrategy;
import org.popsolutions.spanker.api.strategy.Strategy;
import org.popsolutions.spanker.api.strategy.StrategyDecision;
import org.popsolutions.spanker.api.strategy.TileShape;
import org.popsolutions.spanker.api.topology.TopologyService;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;

/**
 * Asks the active partition strategy (the highest-ranked provider, swapped in at run time) how to split
 * one tile, and shows every candidate's predicted cost.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=pick")
public final class PickCommand extends AbstractConsoleCommand {

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile PartitionStrategy strategy;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile BandwidthModelService bandwidth;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile TopologyService topology;

    public PickCommand() {
        super("pick", "Which strategy the active cost model picks for one tile, with the predicted costs",
                List.of(OptionSpec.value("m", "M", "rows of the weight operand (tokens in flight for decode)", null),
                        OptionSpec.value("n", "N", "columns of the output", null),
                        OptionSpec.value("k", "K", "inner (reduction) dimension", null),
                        OptionSpec.value("bpe", "B", "bytes per element", "2"),
                        OptionSpec.value("cards", "C", "card count (0 counts as 1)", "the current topology's"),
                        OptionSpec.value("ddr", "BYTES_PER_S", "override the local DDR bandwidth", "configured"),
                        OptionSpec.value("intercard", "BYTES_PER_S", "override the inter-card bandwidth",
                                "configured")));
    }

    @Override
    protected Report run(Arguments arguments) {
        TileShape tile = new TileShape(arguments.requiredUnsignedLong("m"), arguments.requiredUnsignedLong("n"),
                arguments.requiredUnsignedLong("k"), arguments.unsignedLong("bpe").orElse(2L));
        int cards = arguments.integer("cards").orElseGet(() -> currentCardCount());
        if (cards < 0) {
            throw new UsageException("option --cards must be >= 0, got " + cards);
        }
        BandwidthModel configured = bandwidth.current();
        BandwidthModel model = new BandwidthModel(
                arguments.unsignedLong("ddr").orElse(configured.localDdrBytesPerSecond()),
                arguments.unsignedLong("intercard").orElse(configured.intercardBytesPerSecond()),
                configured.hostLinkBytesPerSecond());
        requirePositiveTiers(model);
        StrategyDecision decision = strategy.pick(tile, cards, model);
        return report(tile, cards, model, decision);
    }

    /**
     * The same rule Config Admin applies to the configured model: a tier of zero bytes/s is refused (the cost rule
     * itself would answer +∞ for it, which is no decision). The other invariants describe rev-A hardware, and a
     * what-if question may deliberately leave them, so they are reported instead of refused.
     */
    static void requirePositiveTiers(BandwidthModel model) {
        for (InvariantCheck check : model.brokenInvariants()) {
            if (check.name().equals("tiers-positive")) {
                throw new UsageException("--ddr and --intercard must be > 0 bytes/s (invariant " + check.name() + ": "
                        + check.rule() + "); got ddr " + Long.toUnsignedString(model.localDdrBytesPerSecond())
                        + ", intercard " + Long.toUnsignedString(model.intercardBytesPerSecond()));
            }
        }
    }

    private int currentCardCount() {
        TopologyService service = topology;
        if (service == null) {
            throw new UsageException("no topology is available to default --cards from; give --cards");
        }
        return service.current().cardCount();
    }

    static Report report(TileShape tile, int cards, BandwidthModel model, StrategyDecision decision) {
        Report report = new Report();
        report.put("strategy", decision.strategy().name());
        Rows candidates = new Rows("candidates", "Candidates for m=" + Long.toUnsignedString(tile.m()) + " n="
                + Long.toUnsignedString(tile.n()) + " k=" + Long.toUnsignedString(tile.k()) + " bpe="
                + Long.toUnsignedString(tile.bytesPerElement()) + " on " + cards + " cards",
                Column.of("strategy", "Strategy"), Column.of("seconds", "Predicted time (s)", Unit.SCIENTIFIC),
                Column.of("chosen", "Chosen", Unit.MARK));
        for (CandidateCost candidate : decision.candidates()) {
            candidates.add(candidate.strategy().name(), candidate.seconds(),
                    candidate.strategy().equals(decision.strategy()));
            String shortKey = shortKey(candidate.strategy());
            if (shortKey != null) {
                report.put(shortKey, candidate.seconds());
            }
        }
        report.rows(candidates);
        report.line("strategy: " + decision.strategy().name() + " (decided by '" + decision.decidedBy()
                + "'; local DDR " + Units.rate(model.localDdrBytesPerSecond()) + ", inter-card "
                + Units.rate(model.intercardBytesPerSecond()) + ", host link " + Units.rate(model.hostLinkBytesPerSecond())
                + ")");
        List<String> outsideRevA = model.brokenInvariants().stream().map(InvariantCheck::name).toList();
        if (!outsideRevA.isEmpty()) {
            report.line("note: these bandwidths break the rev-A invariants " + String.join(", ", outsideRevA)
                    + " (see 'bandwidth')");
        }
        report.put("decidedBy", decision.decidedBy()).put("cards", cards)
                .put("m", Units.unsigned(tile.m())).put("n", Units.unsigned(tile.n()))
                .put("k", Units.unsigned(tile.k())).put("bpe", Units.unsigned(tile.bytesPerElement()))
                .put("localDdrBytesPerSecond", Units.unsigned(model.localDdrBytesPerSecond()))
                .put("intercardBytesPerSecond", Units.unsigned(model.intercardBytesPerSecond()))
                .put("hostLinkBytesPerSecond", Units.unsigned(model.hostLinkBytesPerSecond()))
                .put("brokenInvariants", outsideRevA);
        return report;
    }

    private static String shortKey(Strategy strategy) {
        if (strategy.equals(Strategy.TENSOR_PARALLEL)) {
            return "tpSeconds";
        }
        if (strategy.equals(Strategy.MODEL_PARALLEL)) {
            return "mpSeconds";
        }
        return null;
    }
}
