package org.popsolutions.spanker.strategy.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.PlanObjective;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;

/**
 * The dynamic programme finds the optimum of the cost model: on small cases every layout of the search space is
 * enumerated and costed independently by the {@link Evaluator}, and the cheapest that fits must cost what the
 * search's choice costs.
 */
class LayoutSearchTest {
    private static final ModelShape FOUR_BLOCKS = Fixtures.llama("tinyllama-shaped-4", 4, 2048, 32, 4, 5632, 32000, 2048);
    private static final ModelShape SMALL = Fixtures.llama("small-3", 3, 512, 8, 4, 1536, 4096, 512);

    @Test
    void decodeOptimumEqualsBruteForceOnRingsMeshesAndBrokenLinks() {
        for (Topology topology : topologies()) {
            for (ModelShape model : List.of(FOUR_BLOCKS, SMALL)) {
                check(model, topology, PlanOptions.REV_A_CARD_MEMORY, PlanObjective.DECODE, 16);
            }
        }
    }

    @Test
    void prefillOptimumEqualsBruteForceForShortAndLongPrompts() {
        for (Topology topology : List.of(Fixtures.ring(2), Fixtures.mesh(4),
                Fixtures.withLink(Fixtures.ring(4), 0, 1, LinkState.FAULT))) {
            for (int prompt : new int[] {1, 200}) {
                check(FOUR_BLOCKS, topology, PlanOptions.REV_A_CARD_MEMORY, PlanObjective.PREFILL, prompt);
            }
        }
    }

    /** Memory so tight that most layouts do not fit: the search must still land on the best one that does. */
    @Test
    void underTightMemoryTheOptimumIsTheBestLayoutThatFits() {
        long total = FOUR_BLOCKS.totalBytes();
        for (long capacity : new long[] {total / 2, total / 3, total / 4 + total / 10}) {
            check(FOUR_BLOCKS, Fixtures.ring(4), capacity, PlanObjective.DECODE, 16);
            check(FOUR_BLOCKS, Fixtures.ring(4), capacity, PlanObjective.PREFILL, 32);
        }
    }

    @Test
    void nothingFitsMeansNoLayout() {
        Evaluator evaluator = evaluator(FOUR_BLOCKS, Fixtures.ring(2), FOUR_BLOCKS.totalBytes() / 8, 16);
        assertNull(new LayoutSearch(evaluator).search(PlanObjective.DECODE));
        assertEquals(Double.POSITIVE_INFINITY, bruteForce(evaluator, PlanObjective.DECODE));
    }

    private static List<Topology> topologies() {
        return List.of(Fixtures.ring(1), Fixtures.ring(2), Fixtures.ring(3), Fixtures.ring(4), Fixtures.mesh(4),
                Fixtures.withLink(Fixtures.ring(4), 1, 2, LinkState.DOWN),
                Fixtures.withLink(Fixtures.withLink(Fixtures.ring(4), 1, 2, LinkState.DOWN), 3, 0, LinkState.FAULT));
    }

    private static Evaluator evaluator(ModelShape model, Topology topology, long capacity, int prompt) {
        return new Evaluator(new LayerTable(model, new PlanOptions(capacity, 256)), new Network(topology, Fixtures.LINKS),
                Fixtures.DEFAULT_BANDWIDTH.current().localDdrBytesPerSecond(), capacity, prompt);
    }

    private static void check(ModelShape model, Topology topology, long capacity, PlanObjective objective, int prompt) {
        Evaluator evaluator = evaluator(model, topology, capacity, prompt);
        LayoutSearch.Result found = new LayoutSearch(evaluator).search(objective);
        double brute = bruteForce(evaluator, objective);
        String what = model.name() + " on " + topology.cardCount() + " " + topology.kind() + " cards, "
                + topology.links().stream().filter(l -> l.state() != LinkState.UP).count() + " links not UP, capacity "
                + capacity + ", " + objective + " of " + prompt;
        assertTrue(brute < Double.POSITIVE_INFINITY, what + ": brute force found a layout");
        assertNotNull(found, what);
        Evaluator.Evaluation evaluation = evaluator.evaluate(found.layout().placement(evaluator.table(),
                evaluator.network()));
        double chosen = objective == PlanObjective.DECODE ? evaluation.decode().total() : evaluation.prefill().total();
        assertTrue(evaluation.violations().isEmpty(), what + ": " + evaluation.violations());
        assertEquals(brute, chosen, 1e-9 * brute, what + ": " + found.layout().describe(evaluator.network()));
        assertEquals(chosen, found.predictedSeconds(), 1e-9 * brute, what + ": the search's own figure");
    }

    /** The cheapest fitting layout of the whole space, by enumeration. */
    static double bruteForce(Evaluator evaluator, PlanObjective objective) {
        int cards = evaluator.network().cards();
        double[] best = {Double.POSITIVE_INFINITY};
        stages(evaluator.table().layers(), cards, 0, 0, new ArrayList<>(), stages -> {
            for (int embedding = Layout.REPLICATED; embedding < cards; embedding++) {
                for (int headStart = 0; headStart < cards; headStart++) {
                    for (int headSize = 1; headStart + headSize <= cards; headSize++) {
                        Layout layout = new Layout(stages, embedding, headStart, headSize);
                        Evaluator.Evaluation e = evaluator.evaluate(layout.placement(evaluator.table(),
                                evaluator.network()));
                        boolean splittable = stages.stream().allMatch(s -> java.util.stream.IntStream
                                .range(s.firstLayer(), s.endLayer())
                                .allMatch(l -> evaluator.table().splitObstacle(l, s.size()).isEmpty()));
                        if (e.violations().isEmpty() && splittable) {
                            double t = objective == PlanObjective.DECODE ? e.decode().total() : e.prefill().total();
                            best[0] = Math.min(best[0], t);
                        }
                    }
                }
            }
        });
        return best[0];
    }

    private static void stages(int layers, int cards, int layer, int chain, List<Layout.Stage> so, Consumer<List<Layout.Stage>> out) {
        if (layer == layers) {
            out.accept(List.copyOf(so));
            return;
        }
        for (int g = 1; chain + g <= cards; g <<= 1) {
            List<CollectiveAlgorithm> algorithms = g == 1 ? java.util.Collections.singletonList(null) : Network.ALGORITHMS;
            for (int end = layer + 1; end <= layers; end++) {
                for (CollectiveAlgorithm a : algorithms) {
                    so.add(new Layout.Stage(layer, end, chain, g, a));
                    stages(layers, cards, end, chain + g, so, out);
                    so.remove(so.size() - 1);
                }
            }
        }
    }
}
