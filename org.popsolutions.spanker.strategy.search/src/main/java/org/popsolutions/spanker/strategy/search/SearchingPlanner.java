package org.popsolutions.spanker.strategy.search;

import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.CardMemoryExceededException;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.api.NoSailsException;
import org.popsolutions.spanker.api.bandwidth.BandwidthModelService;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.CostedPlan;
import org.popsolutions.spanker.api.plan.ModelPlanner;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.PlanComparison;
import org.popsolutions.spanker.api.plan.PlanObjective;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.api.plan.PlanSearch;
import org.popsolutions.spanker.api.topology.Topology;

/**
 * The searching planner: the plan its cost model predicts fastest over the whole layout space, found exactly
 * ({@link LayoutSearch}). Registered as a {@link ModelPlanner} ranked above the per-block planner, so installing
 * this bundle makes {@code plan} and {@code run} use searched plans (optimised for decode) and removing it hands
 * planning back; and as a {@link PlanSearch} for {@code plan --compare}.
 */
@Component(service = {PlanSearch.class, ModelPlanner.class},
        property = {PlanSearch.NAME + "=" + SearchingPlanner.NAME, "service.ranking:Integer=100"})
public final class SearchingPlanner implements PlanSearch, ModelPlanner {
    static final String NAME = "search";
    /** The prompt prefill is costed for when a caller does not say (and never more than the context). */
    static final int DEFAULT_PROMPT_TOKENS = 128;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile BandwidthModelService bandwidth;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile LinkModel links;

    /** The per-block planner (any ModelPlanner that is not a plan search), for its baseline. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, target = "(!(" + PlanSearch.NAME + "=*))")
    volatile ModelPlanner perBlock;

    public SearchingPlanner() {
    }

    /** Outside a framework (tests, tools): with fixed collaborators; perBlock may be null. */
    public SearchingPlanner(BandwidthModelService bandwidth, LinkModel links, ModelPlanner perBlock) {
        this.bandwidth = bandwidth;
        this.links = links;
        this.perBlock = perBlock;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Plan plan(ModelShape model, Topology topology, PlanOptions options) {
        Evaluator evaluator = evaluator(model, topology, options, DEFAULT_PROMPT_TOKENS);
        return chosen(model, topology, evaluator, PlanObjective.DECODE, new long[1], new double[1]).plan();
    }

    @Override
    public PlanComparison compare(ModelShape model, Topology topology, PlanOptions options, PlanObjective objective,
            int promptTokens) {
        if (promptTokens < 1) {
            throw new IllegalArgumentException("prompt must be >= 1 token, got " + promptTokens);
        }
        Evaluator evaluator = evaluator(model, topology, options, promptTokens);
        long[] candidates = new long[1];
        double[] seconds = new double[1];
        CostedPlan chosen = chosen(model, topology, evaluator, objective, candidates, seconds);
        LayerTable table = evaluator.table();
        Network network = evaluator.network();
        List<CostedPlan> baselines = new ArrayList<>();
        baselines.add(costed(Baselines.EVEN_LAYERS, Baselines.evenLayers(table, network), evaluator, topology,
                "llama.cpp's default: contiguous ranges of about L/p blocks, one card each"));
        baselines.add(costed(Baselines.MEMORY_RING, Baselines.memoryRing(table, network, topology), evaluator,
                topology, "exo: contiguous ranges weighted by each card's memory, around the ring"));
        baselines.add(costed(Baselines.TENSOR_PARALLEL, Baselines.tensorParallel(table, network), evaluator,
                topology, "every block and the head split over every card"));
        List<String> notes = new ArrayList<>();
        ModelPlanner rule = perBlock;
        if (rule == null) {
            notes.add("per-block baseline left out: no per-block planner is registered");
        } else {
            try {
                Plan plan = rule.plan(model, topology, options);
                baselines.add(costed(Baselines.PER_BLOCK, Baselines.of(plan, network), evaluator, topology,
                        "the per-block rule of strategy '" + plan.strategy() + "'"));
            } catch (CardMemoryExceededException e) {
                notes.add("per-block baseline does not fit: " + e.getMessage());
            }
        }
        notes.add("optimised for " + objective.label() + (objective == PlanObjective.PREFILL ? " of "
                + evaluator.prompt() + " tokens" : "") + "; exact: dynamic programming over the " + model.layers()
                + " blocks and " + topology.cardCount() + " cards examined " + candidates[0] + " stage extensions in "
                + String.format(java.util.Locale.ROOT, "%.3f", seconds[0]) + " s of CPU");
        return new PlanComparison(NAME, objective, evaluator.prompt(), chosen, baselines, candidates[0], true,
                seconds[0], notes);
    }

    private Evaluator evaluator(ModelShape model, Topology topology, PlanOptions options, int promptTokens) {
        if (topology.cardCount() == 0) {
            throw new NoSailsException("cannot plan " + model.name() + ": no Sails card is registered");
        }
        if (model.layers() < 1) {
            throw new InvalidModelException("model " + model.name() + " has no blocks to plan");
        }
        LayerTable table = new LayerTable(model, options);
        Network network = new Network(topology, links);
        return new Evaluator(table, network, bandwidth.current().localDdrBytesPerSecond(), options.cardMemoryBytes(),
                Math.min(promptTokens, options.contextLength()));
    }

    private CostedPlan chosen(ModelShape model, Topology topology, Evaluator evaluator, PlanObjective objective,
            long[] candidates, double[] seconds) {
        long start = cpuNanos();
        LayoutSearch.Result result = new LayoutSearch(evaluator).search(objective);
        seconds[0] = (cpuNanos() - start) / 1e9;
        if (result == null) {
            // The most even spread there is, every block and the head over every card, names the card that overflows.
            Evaluator.Evaluation spread = evaluator.evaluate(Baselines.tensorParallel(evaluator.table(),
                    evaluator.network()));
            int fullest = 0;
            for (int card = 0; card < topology.cardCount(); card++) {
                if (spread.weightBytes()[card] + spread.kvBytes()[card]
                        > spread.weightBytes()[fullest] + spread.kvBytes()[fullest]) {
                    fullest = card;
                }
            }
            throw new CardMemoryExceededException(fullest, spread.weightBytes()[fullest] + spread.kvBytes()[fullest],
                    evaluator.capacity(), "no layout of " + model.name() + " over " + topology.cardCount()
                    + " cards fits (the figure is for every block split over every card, the most even spread; KV cache"
                    + " for " + evaluator.table().context() + " tokens included); use more cards, a smaller quantization,"
                    + " a shorter context, or a larger card memory");
        }
        candidates[0] = result.candidates();
        Network network = evaluator.network();
        Placement placement = result.layout().placement(evaluator.table(), network);
        Evaluator.Evaluation evaluation = evaluator.evaluate(placement);
        double predicted = objective == PlanObjective.DECODE ? evaluation.decode().total()
                : evaluation.prefill().total();
        if (Math.abs(predicted - result.predictedSeconds()) > 1e-9 * Math.max(1, predicted)
                || !evaluation.violations().isEmpty()) {
            throw new SpankerInternalError("the search's " + result.predictedSeconds() + " s disagrees with the cost"
                    + " model's " + predicted + " s for " + result.layout().describe(network) + " "
                    + evaluation.violations());
        }
        String layout = result.layout().describe(network);
        List<String> notes = List.of("searched (" + objective.label() + "): " + layout,
                "exact optimum of the cost model over TP groups on neighbouring cards, uneven stages, embedding and"
                        + " head placement, and the allreduce algorithm per group");
        Plan plan = PlanAssembly.plan(NAME, placement, evaluation, evaluator, topology, notes);
        return new CostedPlan("chosen", layout, plan, evaluation.decode().cost(), evaluation.prefill().cost(),
                evaluator.prompt(), evaluation.prefillRegime(), evaluation.violations());
    }

    /** CPU time of this thread (the search is single-threaded), so a loaded machine does not inflate it. */
    private static long cpuNanos() {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        return threads.isCurrentThreadCpuTimeSupported() ? threads.getCurrentThreadCpuTime() : System.nanoTime();
    }

    private static CostedPlan costed(String name, Placement placement, Evaluator evaluator, Topology topology,
            String recipe) {
        Evaluator.Evaluation evaluation = evaluator.evaluate(placement);
        Plan plan = PlanAssembly.plan(name, placement, evaluation, evaluator, topology, List.of(recipe));
        return new CostedPlan(name, placement.describe(), plan, evaluation.decode().cost(), evaluation.prefill().cost(),
                evaluator.prompt(), evaluation.prefillRegime(), evaluation.violations());
    }

    /** A contradiction inside the planner (a bug), reported as an internal error rather than a wrong plan. */
    static final class SpankerInternalError extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        SpankerInternalError(String message) {
            super(message);
        }
    }
}
