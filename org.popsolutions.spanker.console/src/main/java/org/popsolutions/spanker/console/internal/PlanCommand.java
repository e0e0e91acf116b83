package org.popsolutions.spanker.console.internal;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.cluster.HostPipelines;
import org.popsolutions.spanker.api.cluster.HostPlan;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.model.ModelReader;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.CardLoad;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.ModelPlanner;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.PlanObjective;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.api.plan.PlanSearch;
import org.popsolutions.spanker.api.plan.TensorPlacement;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.api.topology.TopologyService;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.PlanView;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;
import org.popsolutions.spanker.console.ggml.HostRuns;

/** The partition plan the active strategy chooses for a model, with its predicted cost per token. */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=plan")
public final class PlanCommand extends AbstractConsoleCommand {

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile ModelReader reader;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile ModelPlanner planner;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile TopologyService topology;

    /** The searching planner's comparison (bundle strategy.search), present only while it is installed. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile PlanSearch search;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile org.popsolutions.spanker.api.runtime.InferenceService inference;

    /** The cluster bundle's pipelines across hosts, for {@code --hosts}. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile HostPipelines hostPipelines;

    public PlanCommand() {
        super("plan", "The partition plan the active strategy chooses for a GGUF model, with predicted cost",
                List.of(OptionSpec.value("model", "FILE", "GGUF model file", null),
                        OptionSpec.value("cards", "K", "plan for K cards (default: the current topology)", null),
                        OptionSpec.choice("kind", List.of("ring", "mesh"), "cabling when --cards is given", "ring"),
                        OptionSpec.value("card-memory", "BYTES", "memory of each card", "4G (rev-A DDR3L)"),
                        OptionSpec.value("context", "N", "tokens the KV cache holds", "the model's context length"),
                        OptionSpec.flag("tensors", "also list every tensor's placement"),
                        OptionSpec.flag("compare", "the searched plan against the baselines (even layers, memory"
                                + " ring, tensor parallel, per-block rule), all costed by the search's model"),
                        OptionSpec.choice("objective", List.of("decode", "prefill"), "what --compare minimises",
                                "decode"),
                        OptionSpec.value("prompt", "P", "prompt tokens the prefill cost is given for", "128"),
                        OptionSpec.value("measure", "N", "with --compare: run every plan that fits on the registered"
                                + " cards (e.g. a paced fleet, --device sails) for N decode tokens, measured beside"
                                + " the prediction (with --objective prefill: N prompts of --prompt tokens)", null),
                        OptionSpec.value(HostRuns.OPTION, "K", "a pipeline across K L3 hosts (run --hosts); --cards"
                                + " is then each host's cards", null),
                        HostRuns.PODS_OPTION));
    }

    @Override
    protected Report run(Arguments arguments) {
        Path file = Path.of(arguments.requiredString("model"));
        Topology target = target(arguments);
        long memory = arguments.byteCount("card-memory").orElse(PlanOptions.REV_A_CARD_MEMORY);
        Optional<Integer> requestedContext = arguments.integer("context");
        if (requestedContext.isPresent() && requestedContext.get() < 1) {
            throw new UsageException("--context must be at least 1 token, got " + requestedContext.get());
        }
        ModelShape model = reader.read(file);
        int context = requestedContext.orElse(Math.max(1, model.contextLength()));
        if (arguments.has(HostRuns.OPTION)) {
            Report report = new Report();
            HostPlan plan = HostRuns.require(hostPipelines).plan(HostRuns.request(arguments, file.toString(), context));
            HostRuns.describe(report, plan, null, 0);
            report.line("predicted " + String.format(java.util.Locale.ROOT, "%.3e", plan.secondsPerToken())
                    + " s per token: compute " + String.format(java.util.Locale.ROOT, "%.3e", plan.computeSeconds())
                    + ", links inside hosts " + String.format(java.util.Locale.ROOT, "%.3e", plan.linkSeconds())
                    + ", hand-offs " + String.format(java.util.Locale.ROOT, "%.3e", plan.handOffsSeconds())
                    + ", host link " + String.format(java.util.Locale.ROOT, "%.3e", plan.hostSeconds())
                    + "; load " + String.format(java.util.Locale.ROOT, "%.3e", plan.loadSeconds()) + " s");
            return report;
        }
        if (arguments.has("hosts-per-pod")) {
            throw new UsageException("--hosts-per-pod goes with --hosts");
        }
        if (arguments.flag("compare")) {
            org.popsolutions.spanker.api.plan.PlanComparison comparison = compare(model, target,
                    new PlanOptions(memory, context), arguments);
            if (!arguments.has("measure")) {
                return PlanComparisonReport.report(comparison);
            }
            int tokens = arguments.requiredInteger("measure");
            if (tokens < 1 || tokens > 10_000) {
                throw new UsageException("option --measure must be within 1..10000 tokens, got " + tokens);
            }
            TopologyService service = topology;
            if (service == null) {
                throw new UsageException("--measure runs on the registered cards, and none are registered");
            }
            return PlanComparisonReport.report(comparison, PlanMeasurements.measure(comparison, file,
                    service.current(), inference, tokens, context, comparison.objective() == PlanObjective.PREFILL));
        }
        if (arguments.has("measure")) {
            throw new UsageException("--measure goes with --compare");
        }
        Plan plan = planner.plan(model, target, new PlanOptions(memory, context));
        return report(plan, arguments.flag("tensors"));
    }

    private org.popsolutions.spanker.api.plan.PlanComparison compare(ModelShape model, Topology target,
            PlanOptions options, Arguments arguments) {
        PlanSearch searcher = search;
        if (searcher == null) {
            throw new org.popsolutions.spanker.api.InvalidConfigurationException("--compare needs the searching"
                    + " planner, which is not installed; in Karaf: feature:install spanker-strategy-search");
        }
        int prompt = arguments.integer("prompt").orElse(128);
        if (prompt < 1) {
            throw new UsageException("option --prompt must be >= 1, got " + prompt);
        }
        return searcher.compare(model, target, options,
                arguments.choice("objective", PlanObjective.class).orElse(PlanObjective.DECODE), prompt);
    }

    private Topology target(Arguments arguments) {
        if (arguments.has(HostRuns.OPTION)) {
            return null; // each host's cards: --cards per host
        }
        Optional<Integer> cards = arguments.integer("cards");
        if (cards.isEmpty() && arguments.has("kind")) {
            throw new UsageException("--kind shapes the cards that --cards asks for; give --cards too, or leave "
                    + "--kind out to plan for the registered cards as they are cabled");
        }
        if (cards.isPresent()) {
            if (cards.get() < 1 || cards.get() > 256) {
                throw new UsageException("option --cards must be within 1..256, got " + cards.get());
            }
            return SyntheticTopology.of(arguments.choice("kind", TopologyKind.class).orElse(TopologyKind.RING),
                    cards.get());
        }
        TopologyService service = topology;
        if (service == null) {
            throw new UsageException("no topology is available; give --cards");
        }
        return service.current();
    }

    static Report report(Plan plan, boolean withTensors) {
        Report report = new Report();
        Map<String, Long> strategies = plan.layers().stream()
                .collect(Collectors.groupingBy(l -> l.strategy().name(), LinkedHashMap::new, Collectors.counting()));
        report.line("model " + plan.model() + " on " + plan.cards() + " cards (" + plan.cabling().label() + "), strategy '"
                + plan.strategy() + "': " + strategies.entrySet().stream().map(e -> e.getValue() + " blocks " + e.getKey())
                        .collect(Collectors.joining(", ")));
        report.line("predicted per token: " + Units.seconds(plan.secondsPerToken()) + " (compute "
                + Units.seconds(plan.computeSecondsPerToken()) + ", inter-card " + Units.seconds(
                        plan.communicationSecondsPerToken()) + ", host link " + Units.seconds(plan.hostSecondsPerToken())
                + "); model load over the host link: " + Units.seconds(plan.loadSeconds()));
        plan.notes().forEach(n -> report.line("note: " + n));

        Rows layers = new Rows("layers", "Blocks", Column.of("layer", "Block"), Column.of("strategy", "Strategy"),
                Column.of("cards", "Cards"), Column.of("kvHeads", "KV heads"),
                Column.of("feedForwardRows", "FF rows"), Column.of("collective", "Collective"),
                Column.of("computeSeconds", "Compute", Unit.SECONDS),
                Column.of("communicationSeconds", "Communication", Unit.SECONDS));
        for (LayerPlacement layer : plan.layers()) {
            // each card's share as the ranges it holds: key/value heads [start, end), feed-forward rows [start, end)
            layers.add(layer.layer(), layer.strategy().name(), layer.cards(),
                    layer.shards().stream().map(s -> s.kvHeadStart() + "-" + s.kvHeadEnd()).toList(),
                    layer.shards().stream().map(s -> s.feedForwardStart() + "-" + s.feedForwardEnd()).toList(),
                    layer.collective(), layer.computeSeconds(), layer.communicationSeconds());
        }
        Rows cards = new Rows("cardLoads", "Cards", Column.of("card", "Card"),
                Column.of("weightBytes", "Weights", Unit.BYTES), Column.of("kvCacheBytes", "KV cache", Unit.BYTES),
                Column.of("totalBytes", "Total", Unit.BYTES), Column.of("capacityBytes", "Capacity", Unit.BYTES),
                Column.of("use", "Use", Unit.PERCENT));
        for (CardLoad load : plan.cardLoads()) {
            cards.add(load.card(), load.weightBytes(), load.kvCacheBytes(), load.totalBytes(), load.capacityBytes(),
                    (double) load.totalBytes() / load.capacityBytes());
        }
        Rows tensors = new Rows("tensors", "Tensors", Column.of("tensor", "Tensor"), Column.of("layer", "Block"),
                Column.of("strategy", "Strategy"), Column.of("split", "Split"), Column.of("cards", "Cards"),
                Column.of("bytesPerCard", "Bytes per card", Unit.BYTES));
        for (TensorPlacement t : plan.tensors()) {
            tensors.add(t.tensor(), t.layer(), t.strategy().name(), t.split(), t.cards(), t.bytesPerCard());
        }
        PlanView.json(plan).forEach(report::put);
        report.rows(layers).rows(cards);
        if (withTensors) {
            report.rows(tensors);
        } else {
            report.put(tensors.key(), tensors.jsonValue()); // JSON always lists them; the table only when asked
        }
        return report;
    }
}
