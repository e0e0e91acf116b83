package org.popsolutions.spanker.cluster.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.cluster.HostPipelineRequest;
import org.popsolutions.spanker.api.cluster.HostPlan;
import org.popsolutions.spanker.api.cluster.HostStage;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.model.TensorShape;
import org.popsolutions.spanker.api.plan.CardLoad;
import org.popsolutions.spanker.api.plan.HostLinkTraffic;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.model.llama.ManualPlans;

/**
 * A model's blocks cut into K contiguous stages, one per host, at the boundaries the cost model chooses; inside a
 * host every block is tensor-parallel over its cards ({@link ManualPlans#stage}, the same arithmetic the hosts load).
 *
 * <p>Costed per decoded token, stage by stage: each card streams its weights once at the DDR rate (the token
 * embedding: one row), a host of several cards adds two allreduces of the hidden state per block (the link model's
 * cheapest algorithm), and a stage hands its hidden state to the next host: read from the card over the host link,
 * sent host to host, written to the next host's card — three transfers at the GbE host link's rate and latency
 * (SPEC §2: 100 MB/s, 50 µs); one more when the next host is in another pod (the pods' uplink, assumed GbE as well:
 * SPEC gives no rate between pods). The host link also carries each stage's token and position to its cards, the
 * head's input read back for its check, and the logits.
 *
 * <p>The boundaries: one token goes through every stage in turn, so its time is the sum of the stages whatever the
 * split; what the split decides is the slowest stage — the pipeline's rate once every stage holds a token of another
 * sequence — and whether each stage fits its cards. The planner takes the split whose slowest stage is fastest (an
 * exact dynamic program over contiguous splits, stages that do not fit their cards' memory excluded); llama.cpp and
 * exo split layers evenly over equal devices, which leaves the head's stage the slowest.
 */
public final class HostPlanner {
    /** Host-link-rate transfers of one hand-off: card to host, host to host, host to card. */
    static final int HAND_OFF_TRANSFERS = 3;
    /** One more between pods: the pod's uplink. */
    static final int CROSS_POD_TRANSFERS = 4;

    private HostPlanner() {
    }

    /** What one stage costs and holds. */
    record StageCost(long weightBytes, long kvBytes, double computeSeconds, long busiestCardBytes) {
    }

    public static HostPlan plan(ModelShape model, HostPipelineRequest request, LinkModel links,
            double ddrBytesPerSecond) {
        return plan(model, request, links, ddrBytesPerSecond, PlanOptions.REV_A_CARD_MEMORY);
    }

    public static HostPlan plan(ModelShape model, HostPipelineRequest request, LinkModel links,
            double ddrBytesPerSecond, long cardMemoryBytes) {
        int k = request.hosts();
        int blocks = model.layers();
        if (k > blocks) {
            throw new InvalidConfigurationException("--hosts " + k + " is more than the model's " + blocks
                    + " blocks; a host's stage is at least one block");
        }
        int cards = request.cardsPerHost();
        long hidden = (long) model.embedding() * Float.BYTES;
        double allReduce = cards == 1 ? 0 : links.rank(CollectiveKind.ALL_REDUCE, TopologyKind.RING, cards, hidden)
                .get(0).totalSeconds();
        double handOff = HAND_OFF_TRANSFERS * links.hostTransferSeconds(hidden);
        double crossPod = CROSS_POD_TRANSFERS * links.hostTransferSeconds(hidden);
        double[] handOffs = new double[k];
        for (int i = 0; i + 1 < k; i++) {
            handOffs[i] = request.podOf(i) == request.podOf(i + 1) ? handOff : crossPod;
        }
        Costs costs = new Costs(model, request, ddrBytesPerSecond);
        int[] chosen = Split.minimizeSlowest(costs.perBlock(), costs.perBlockCardBytes(), costs.embedExtra(),
                costs.headExtra(), costs.embedCardBytes(), costs.headCardBytes(), 2 * allReduce, handOffs,
                cardMemoryBytes, k);
        if (chosen == null) {
            throw new InvalidConfigurationException("the model does not fit " + k + " host" + (k == 1 ? "" : "s")
                    + " of " + cards + " card" + (cards == 1 ? "" : "s") + " with " + cardMemoryBytes + " bytes each"
                    + " (weights and KV cache for a context of " + request.contextLength() + "); use more hosts or"
                    + " cards, or a smaller --context");
        }
        int[] even = new int[k + 1];
        for (int h = 0; h <= k; h++) {
            even[h] = h * blocks / k;
        }
        List<HostStage> stages = stages(costs, chosen, request, allReduce, handOffs);
        double evenBottleneck = stages(costs, even, request, allReduce, handOffs).stream()
                .mapToDouble(HostStage::stageSeconds).max().orElse(0);
        double load = 0;
        for (HostStage stage : stages) {
            load = Math.max(load, links.hostTransferSeconds(stage.weightBytes()));
        }
        long logits = (long) model.vocabulary() * Float.BYTES;
        double host = (double) k * cards * links.hostTransferSeconds(HostLinkTraffic.STEP_BYTES)
                + links.hostTransferSeconds(hidden)
                + cards * links.hostTransferSeconds(logits / cards);
        double bottleneck = stages.stream().mapToDouble(HostStage::stageSeconds).max().orElse(0);
        List<String> notes = new ArrayList<>();
        notes.add(String.format(Locale.ROOT, "stages: boundaries chosen by cost over %d host%s (contiguous blocks):"
                + " the slowest stage %.3g s per token, %s the even split's %.3g s; inside a host %s", k,
                k == 1 ? "" : "s", bottleneck, Arrays.equals(chosen, even) ? "the same as" : "against", evenBottleneck,
                cards == 1 ? "one card" : "tensor parallel over its " + cards + " cards"));
        notes.add(String.format(Locale.ROOT, "hand-off between hosts: card to host, host to host, host to card, each"
                + " %.3g s for %d bytes at the host link's rate and latency", links.hostTransferSeconds(hidden),
                hidden));
        int pods = request.podOf(k - 1) + 1;
        if (pods > 1) {
            notes.add(String.format(Locale.ROOT, "across %d pods (%d hosts each): a hand-off between pods takes %.3g s,"
                    + " one transfer more for the pods' uplink (assumed GbE: SPEC gives no rate between pods)", pods,
                    request.hostsPerPod(), crossPod));
        }
        notes.add("hosts load their stages in parallel, each over its own host link");
        return new HostPlan(model.name(), k, cards, stages, hidden, handOff, host, load, notes, crossPod,
                evenBottleneck);
    }

    private static List<HostStage> stages(Costs costs, int[] bounds, HostPipelineRequest request, double allReduce,
            double[] handOffs) {
        int k = bounds.length - 1;
        List<HostStage> stages = new ArrayList<>();
        for (int h = 0; h < k; h++) {
            int first = bounds[h];
            int end = bounds[h + 1];
            StageCost cost = costs.of(first, end, h == 0, h == k - 1);
            stages.add(new HostStage(h, first, end, h == 0, h == k - 1, request.cardsPerHost(), cost.weightBytes(),
                    cost.kvBytes(), cost.computeSeconds(), 2.0 * (end - first) * allReduce, "", 0, request.podOf(h),
                    handOffs[h]));
        }
        return stages;
    }

    /** Stage costs from the plans the hosts load. */
    static final class Costs {
        private final ModelShape model;
        private final HostPipelineRequest request;
        private final double ddr;
        private final TensorShape embedding;

        Costs(ModelShape model, HostPipelineRequest request, double ddr) {
            this.model = model;
            this.request = request;
            this.ddr = ddr;
            this.embedding = model.tensor("token_embd.weight").orElseThrow(() ->
                    new InvalidConfigurationException(model.name() + " has no token_embd.weight"));
        }

        StageCost of(int first, int end, boolean embeds, boolean head) {
            Plan plan = ManualPlans.stage(model, request.cardsPerHost(), first, end, embeds, head,
                    request.contextLength());
            long weights = 0;
            long kv = 0;
            double busiest = 0;
            long busiestBytes = 0;
            for (CardLoad card : plan.cardLoads()) {
                weights += card.weightBytes();
                kv += card.kvCacheBytes();
                long streamed = card.weightBytes();
                if (embeds && card.card() == plan.firstCard()) {
                    // a token reads one row of the embedding table, not the table
                    streamed -= embedding.bytes() - embedding.bytesPerRow();
                }
                busiest = Math.max(busiest, streamed / ddr);
                busiestBytes = Math.max(busiestBytes, card.weightBytes() + card.kvCacheBytes());
            }
            return new StageCost(weights, kv, busiest, busiestBytes);
        }

        double[] perBlock() {
            double[] seconds = new double[model.layers()];
            for (int b = 0; b < seconds.length; b++) {
                seconds[b] = of(b, b + 1, false, false).computeSeconds();
            }
            return seconds;
        }

        long[] perBlockCardBytes() {
            long[] bytes = new long[model.layers()];
            for (int b = 0; b < bytes.length; b++) {
                bytes[b] = of(b, b + 1, false, false).busiestCardBytes();
            }
            return bytes;
        }

        double embedExtra() {
            return of(0, 1, true, false).computeSeconds() - of(0, 1, false, false).computeSeconds();
        }

        double headExtra() {
            int last = model.layers() - 1;
            return of(last, last + 1, false, true).computeSeconds() - of(last, last + 1, false, false)
                    .computeSeconds();
        }

        long embedCardBytes() {
            return of(0, 1, true, false).busiestCardBytes() - of(0, 1, false, false).busiestCardBytes();
        }

        long headCardBytes() {
            int last = model.layers() - 1;
            return of(last, last + 1, false, true).busiestCardBytes() - of(last, last + 1, false, false)
                    .busiestCardBytes();
        }
    }

    /** The contiguous split whose slowest stage is fastest. */
    static final class Split {
        private Split() {
        }

        /**
         * Boundaries b0 = 0 < b1 < … < bK = blocks minimising the largest stage cost, where stage i over blocks
         * [b_i, b_i+1) costs the sum of its blocks (plus the embedding's extra for the first, the head's for the last),
         * {@code linkPerBlock} per block and {@code handOffs[i]}; a stage whose busiest card would hold more than
         * {@code cardMemory} is not allowed. Among equal slowest stages the smaller sum of stage costs squared wins (the
         * more even), then the earlier boundaries. Null when no split fits.
         */
        static int[] minimizeSlowest(double[] block, long[] blockBytes, double embedExtra, double headExtra,
                long embedBytes, long headBytes, double linkPerBlock, double[] handOffs, long cardMemory, int k) {
            int n = block.length;
            double[] prefix = new double[n + 1];
            long[] bytesPrefix = new long[n + 1];
            for (int b = 0; b < n; b++) {
                prefix[b + 1] = prefix[b] + block[b];
                bytesPrefix[b + 1] = bytesPrefix[b] + blockBytes[b];
            }
            // slowest[i][e]: best slowest stage of stages 0..i-1 over blocks [0, e); squares[i][e] its tie-break
            double[][] slowest = new double[k + 1][n + 1];
            double[][] squares = new double[k + 1][n + 1];
            int[][] from = new int[k + 1][n + 1];
            for (double[] row : slowest) {
                Arrays.fill(row, Double.POSITIVE_INFINITY);
            }
            slowest[0][0] = 0;
            for (int i = 0; i < k; i++) {
                boolean first = i == 0;
                boolean last = i == k - 1;
                for (int e = i + 1; e <= n - (k - 1 - i); e++) {
                    if (last && e != n) {
                        continue;
                    }
                    for (int s = i; s < e; s++) {
                        if (slowest[i][s] == Double.POSITIVE_INFINITY) {
                            continue;
                        }
                        long bytes = bytesPrefix[e] - bytesPrefix[s] + (first ? embedBytes : 0)
                                + (last ? headBytes : 0);
                        if (bytes > cardMemory) {
                            continue;
                        }
                        double cost = prefix[e] - prefix[s] + (first ? embedExtra : 0) + (last ? headExtra : 0)
                                + (e - s) * linkPerBlock + handOffs[i];
                        double worst = Math.max(slowest[i][s], cost);
                        double square = squares[i][s] + cost * cost;
                        if (better(worst, square, slowest[i + 1][e], squares[i + 1][e])) {
                            slowest[i + 1][e] = worst;
                            squares[i + 1][e] = square;
                            from[i + 1][e] = s;
                        }
                    }
                }
            }
            if (slowest[k][n] == Double.POSITIVE_INFINITY) {
                return null;
            }
            int[] bounds = new int[k + 1];
            bounds[k] = n;
            for (int i = k; i > 0; i--) {
                bounds[i - 1] = from[i][bounds[i]];
            }
            return bounds;
        }

        /** Slower by more than rounding loses; within rounding the smaller sum of squares wins. */
        private static boolean better(double worst, double square, double bestWorst, double bestSquare) {
            if (bestWorst == Double.POSITIVE_INFINITY) {
                return true;
            }
            double tolerance = 1e-12 * Math.max(Math.abs(worst), Math.abs(bestWorst));
            if (worst < bestWorst - tolerance) {
                return true;
            }
            return worst <= bestWorst + tolerance && square < bestSquare * (1 - 1e-12);
        }
    }
}
