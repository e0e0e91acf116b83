package org.popsolutions.spanker.strategy.search;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.PlanObjective;

/**
 * Exact search of the layout space ({@link Layout}) by dynamic programming over the layer chain, inside a branch
 * and bound over where the embedding and the head live.
 *
 * <p>A state is (layers placed, chain cards used); a transition appends one stage: the next layers on the next 1,
 * 2, 4, … chain cards. A stage's time depends only on its layers, its group and the card before it (the hand-off
 * comes from the previous group's last chain card, or from the embedding), and its memory only on what it holds and
 * what the embedding and the head reserve on its cards. Decode time and batched prefill time are sums of stage
 * times, so the cheapest label per state is enough; pipelined prefill costs Σ stages + (T − 1)·max stage, monotone
 * in both, so each state keeps every label not dominated in (sum, max). Either way the optimum is exact. The
 * allreduce algorithm of a group is the cheapest for its size, chosen per stage, exact because stages' costs are
 * independent.
 *
 * <p>The embedding's placement (one chain card, or replicated on the first group) is an outer loop: one programme
 * each. The head's placement (a contiguous run of chain cards) only adds a tail cost, which is combined with the
 * final states, and a memory reservation on its cards, which is first left out: that relaxation bounds every head
 * placement from below. Placements are then taken cheapest bound first; a relaxed optimum that fits with its head
 * is exact for that placement, one that does not is re-solved with the head's reservation; the search stops when
 * the next bound is no better than the best plan found.
 */
final class LayoutSearch {
    private enum Mode {
        DECODE, BATCHED, PIPELINED
    }

    private final Evaluator evaluator;
    private final LayerTable table;
    private final Network network;
    private final int cards;
    private final int layers;
    private final int[] sizes;
    private final long hidden;
    private final int prompt;
    // Per size index: prefix sums over layers of each position's weight bytes, of the slowest position's
    // compute seconds, and of the layers that cannot be split that way.
    private final long[][][] weightPrefix;
    private final double[][] computePrefix;
    private final int[][] unsplittablePrefix;
    private final long[][] kvPerLayer;
    private long candidates;

    LayoutSearch(Evaluator evaluator) {
        this.evaluator = evaluator;
        this.table = evaluator.table();
        this.network = evaluator.network();
        this.cards = network.cards();
        this.layers = table.layers();
        this.hidden = table.hiddenBytes();
        this.prompt = evaluator.prompt();
        List<Integer> s = new ArrayList<>();
        for (int g = 1; g <= cards; g <<= 1) {
            s.add(g);
        }
        this.sizes = s.stream().mapToInt(Integer::intValue).toArray();
        weightPrefix = new long[sizes.length][][];
        computePrefix = new double[sizes.length][layers + 1];
        unsplittablePrefix = new int[sizes.length][layers + 1];
        kvPerLayer = new long[sizes.length][];
        for (int k = 0; k < sizes.length; k++) {
            int g = sizes[k];
            weightPrefix[k] = new long[g][layers + 1];
            kvPerLayer[k] = new long[g];
            for (int i = 0; i < g; i++) {
                kvPerLayer[k][i] = table.kvCacheBytes(table.shard(i, i, g));
            }
            for (int layer = 0; layer < layers; layer++) {
                double slowest = 0;
                for (int i = 0; i < g; i++) {
                    long bytes = table.weightBytes(layer, table.shard(i, i, g));
                    weightPrefix[k][i][layer + 1] = weightPrefix[k][i][layer] + bytes;
                    slowest = Math.max(slowest, bytes / evaluator.ddr());
                }
                computePrefix[k][layer + 1] = computePrefix[k][layer] + slowest;
                unsplittablePrefix[k][layer + 1] = unsplittablePrefix[k][layer]
                        + (table.splitObstacle(layer, g).isPresent() ? 1 : 0);
            }
        }
    }

    /**
     * The optimum and how it was found.
     *
     * @param candidates stage extensions the programmes examined
     */
    record Result(Layout layout, double predictedSeconds, String regime, long candidates) {
    }

    /** @return null when no layout fits the cards' memory */
    Result search(PlanObjective objective) {
        candidates = 0;
        Result best;
        if (objective == PlanObjective.DECODE) {
            best = search(Mode.DECODE);
        } else {
            Result batched = search(Mode.BATCHED);
            Result pipelined = search(Mode.PIPELINED);
            best = batched == null ? pipelined
                    : pipelined == null || batched.predictedSeconds <= pipelined.predictedSeconds ? batched : pipelined;
        }
        return best == null ? null : new Result(best.layout, best.predictedSeconds, best.regime, candidates);
    }

    /** A partial layout: its summed stage time, its slowest stage (pipelined only), and how it was reached. */
    private record Label(double sum, double max, Label previous, Layout.Stage stage) {
    }

    /** Per (chain start, size index): the group's allreduce pair and algorithm, and the hand-off into it. */
    private final class Groups {
        final double[][] collectives = new double[cards][sizes.length];
        final CollectiveAlgorithm[][] algorithm = new CollectiveAlgorithm[cards][sizes.length];
        final double[][] handOffIn = new double[cards][sizes.length];

        Groups(Mode mode) {
            // batched: the algorithm a full pass's hidden vectors make cheapest, paid once per pass
            double collectiveBytes = mode == Mode.BATCHED ? (double) hidden * evaluator.fullPass() : hidden;
            for (int c = 0; c < cards; c++) {
                for (int k = 0; k < sizes.length && c + sizes[k] <= cards; k++) {
                    int[] group = Layout.chainCards(network, c, sizes[k]);
                    int before = c - 1;
                    if (sizes[k] > 1) {
                        CollectiveAlgorithm best = network.best(group, collectiveBytes);
                        algorithm[c][k] = best;
                        collectives[c][k] = best == null ? Double.POSITIVE_INFINITY
                                : perMode(mode, tokens -> network.allReduce(group, (double) hidden * tokens, best)
                                        .times(2));
                    }
                    handOffIn[c][k] = c == 0 ? 0
                            : perMode(mode, tokens -> evaluator.handOff(new int[] {network.card(before)}, group,
                                    hidden * tokens));
                }
            }
        }
    }

    /** One embedding placement with one head placement, and the lower bound of its cost. */
    private record Outer(int embedding, int headStart, int headSize, double bound, Label label) {
    }

    private Result search(Mode mode) {
        Groups groups = new Groups(mode);
        List<Outer> outers = new ArrayList<>();
        for (int embedding = Layout.REPLICATED; embedding < cards; embedding++) {
            Label[][][] finals = programme(mode, groups, embedding, -1, 0);
            for (int headStart = 0; headStart < cards; headStart++) {
                for (int headSize = 1; headStart + headSize <= cards; headSize++) {
                    Outer outer = combine(mode, finals, embedding, headStart, headSize);
                    if (outer != null) {
                        outers.add(outer);
                    }
                }
            }
        }
        outers.sort(Comparator.comparingDouble(Outer::bound));
        Result best = null;
        for (Outer outer : outers) {
            if (best != null && outer.bound >= best.predictedSeconds) {
                break;
            }
            Layout layout = layout(outer);
            Outer exact = outer;
            if (!evaluator.evaluate(layout.placement(table, network)).violations().isEmpty()) {
                Label[][][] finals = programme(mode, groups, outer.embedding, outer.headStart, outer.headSize);
                exact = combine(mode, finals, outer.embedding, outer.headStart, outer.headSize);
                if (exact == null) {
                    continue;
                }
                layout = layout(exact);
            }
            if (best == null || exact.bound < best.predictedSeconds) {
                best = new Result(layout, exact.bound, mode == Mode.PIPELINED ? "pipelined"
                        : mode == Mode.BATCHED ? "batched" : "decode", 0);
            }
        }
        return best;
    }

    private static Layout layout(Outer outer) {
        List<Layout.Stage> stages = new ArrayList<>();
        for (Label at = outer.label; at.stage != null; at = at.previous) {
            stages.add(at.stage);
        }
        return new Layout(Layout.reversed(stages), outer.embedding, outer.headStart, outer.headSize);
    }

    /** The cheapest completion with this head: final labels plus the head's tail; null when none. */
    private Outer combine(Mode mode, Label[][][] finals, int embedding, int headStart, int headSize) {
        int[] headCards = Layout.chainCards(network, headStart, headSize);
        long[] headBytes = new long[headSize];
        double headSlowest = 0;
        for (int i = 0; i < headSize; i++) {
            headBytes[i] = table.headShareBytes(i, headSize);
            if (headBytes[i] + (embedding >= 0 && network.card(embedding) == headCards[i]
                    ? table.embedding().bytes() : 0) > evaluator.capacity()) {
                return null;
            }
            headSlowest = Math.max(headSlowest, headBytes[i] / evaluator.ddr());
        }
        // the head's product and the host's round trips after the cards compute: once per token, or per prompt pass
        int times = mode == Mode.BATCHED ? evaluator.promptPasses() : 1;
        double fixedTail = (headSlowest + evaluator.hostOut(headSize).total()) * times;
        Outer best = null;
        for (int c = 1; c <= cards; c++) {
            // the cards that run a program: the stages' chain cards 0..c-1, the embedding's and the head's
            int active = c;
            for (int chain = c; chain < cards; chain++) {
                if (chain == embedding || (chain >= headStart && chain < headStart + headSize)) {
                    active++;
                }
            }
            // the host's writes before the cards compute: in pipelined prefill a stage of its own
            double hostIn = (mode == Mode.BATCHED ? evaluator.promptHostIn(active) : evaluator.hostIn(active, 1))
                    .total();
            for (int k = 0; k < sizes.length; k++) {
                Label[] labels = finals[c][k];
                if (labels == null) {
                    continue;
                }
                int[] last = Layout.chainCards(network, c - sizes[k], sizes[k]);
                double tail = evaluator.handOff(last, headCards, hidden).total() * times + fixedTail + hostIn;
                for (Label label : labels) {
                    double total = label.sum + tail
                            + (mode == Mode.PIPELINED ? (prompt - 1) * Math.max(label.max, hostIn) : 0);
                    if (best == null || total < best.bound) {
                        best = new Outer(embedding, headStart, headSize, total, label);
                    }
                }
            }
        }
        return best;
    }

    /**
     * The programme for one embedding placement; the head's reservation is counted when headSize > 0.
     *
     * @return per (chain cards used, size index of the last group): the labels that place every layer
     */
    private Label[][][] programme(Mode mode, Groups groups, int embedding, int headStart, int headSize) {
        long capacity = evaluator.capacity();
        long embeddingBytes = table.embedding().bytes();
        long[] reserved = new long[cards];
        if (embedding != Layout.REPLICATED) {
            reserved[network.card(embedding)] += embeddingBytes;
        }
        for (int i = 0; i < headSize; i++) {
            reserved[network.card(headStart + i)] += table.headShareBytes(i, headSize);
        }
        // batched: each card streams its weights once per prompt pass, whatever the pass's tokens
        long streams = mode == Mode.BATCHED ? evaluator.promptPasses() : 1;
        boolean pareto = mode == Mode.PIPELINED;
        Label[][][] labels = new Label[layers + 1][cards + 1][];
        Label[][][] finals = new Label[cards + 1][sizes.length][];
        labels[0][0] = new Label[] {new Label(0, 0, null, null)};
        for (int from = 0; from < layers; from++) {
            for (int c = 0; c < cards; c++) {
                Label[] here = labels[from][c];
                if (here == null) {
                    continue;
                }
                for (int k = 0; k < sizes.length && c + sizes[k] <= cards; k++) {
                    int g = sizes[k];
                    double collectives = groups.collectives[c][k];
                    if (collectives == Double.POSITIVE_INFINITY) {
                        continue;
                    }
                    double in;
                    if (from == 0) {
                        int[] group = Layout.chainCards(network, c, g);
                        int[] holders = embedding == Layout.REPLICATED ? group : new int[] {network.card(embedding)};
                        in = perMode(mode, tokens -> evaluator.handOff(holders, group, hidden * tokens));
                    } else {
                        in = groups.handOffIn[c][k];
                    }
                    long extra = embedding == Layout.REPLICATED && from == 0 ? embeddingBytes : 0;
                    for (int to = from + 1; to <= layers; to++) {
                        if (unsplittablePrefix[k][to] - unsplittablePrefix[k][from] > 0
                                || !fits(k, c, from, to, reserved, extra, capacity)) {
                            break;
                        }
                        double stage = in + (computePrefix[k][to] - computePrefix[k][from]) * streams
                                + collectives * (to - from);
                        Layout.Stage placed = null;
                        for (Label label : here) {
                            candidates++;
                            double sum = label.sum + stage;
                            double max = pareto ? Math.max(label.max, stage) : 0;
                            Label[][] target = to == layers ? finals[c + g] : labels[to];
                            int slot = to == layers ? k : c + g;
                            if (dominated(target[slot], sum, max)) {
                                continue;
                            }
                            if (placed == null) {
                                placed = new Layout.Stage(from, to, c, g, groups.algorithm[c][k]);
                            }
                            target[slot] = insert(target[slot], new Label(sum, max, label, placed), pareto);
                        }
                    }
                }
            }
        }
        return finals;
    }

    /** A cost of one token (decode, pipelined), or summed over the prompt's passes (batched). */
    private double perMode(Mode mode, java.util.function.IntFunction<Terms> cost) {
        return (mode == Mode.BATCHED ? evaluator.overPasses(cost) : cost.apply(1)).total();
    }

    private boolean fits(int k, int c, int from, int to, long[] reserved, long extra, long capacity) {
        for (int i = 0; i < sizes[k]; i++) {
            long bytes = weightPrefix[k][i][to] - weightPrefix[k][i][from] + kvPerLayer[k][i] * (to - from)
                    + reserved[network.card(c + i)] + extra;
            if (bytes > capacity) {
                return false;
            }
        }
        return true;
    }

    private static boolean dominated(Label[] there, double sum, double max) {
        if (there == null) {
            return false;
        }
        for (Label l : there) {
            if (l.sum <= sum && l.max <= max) {
                return true;
            }
        }
        return false;
    }

    /** Adds a label no present one dominates, dropping those it dominates (only one label unless pareto). */
    private static Label[] insert(Label[] there, Label next, boolean pareto) {
        if (there == null || !pareto) {
            return new Label[] {next};
        }
        List<Label> kept = new ArrayList<>(there.length + 1);
        for (Label l : there) {
            if (!(next.sum <= l.sum && next.max <= l.max)) {
                kept.add(l);
            }
        }
        kept.add(next);
        return kept.toArray(new Label[0]);
    }
}
