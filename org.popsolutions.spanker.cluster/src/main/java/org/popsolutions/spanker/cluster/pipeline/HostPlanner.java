package org.popsolutions.spanker.cluster.pipeline;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.cluster.HostPipelineRequest;
import org.popsolutions.spanker.api.cluster.HostPlan;
import org.popsolutions.spanker.api.cluster.HostStage;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.model.TensorShape;
import org.popsolutions.spanker.api.plan.CardLoad;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.model.llama.ManualPlans;

/**
 * A model's blocks cut into K contiguous stages of (as nearly as possible) equal block counts, one per host, as
 * llama.cpp and exo split layers over equal devices; inside a host, every block tensor-parallel over its cards
 * ({@link ManualPlans#stage}, the same arithmetic the hosts load). Predicted per decoded token, stage after stage:
 * each card streams its weights once at the DDR rate (the token embedding: one row), a host of several cards adds
 * two allreduces of the hidden state per block (the link model's cheapest algorithm), and between two hosts the
 * hidden state is handed over once: read from the card over the host link, sent host to host, written to the next
 * host's card, three transfers at the GbE host link's rate and latency (SPEC §2: 100 MB/s). The host link also
 * carries each stage's token and position to its cards, the head's input read back for its check, and the logits.
 */
public final class HostPlanner {
    /** Bytes of the token id and position the host writes to every card of a stage before each token. */
    static final int STEP_BYTES = 8;

    private HostPlanner() {
    }

    public static HostPlan plan(ModelShape model, HostPipelineRequest request, LinkModel links,
            double ddrBytesPerSecond) {
        int k = request.hosts();
        int blocks = model.layers();
        if (k > blocks) {
            throw new InvalidConfigurationException("--hosts " + k + " is more than the model's " + blocks
                    + " blocks; a host's stage is at least one block");
        }
        int cards = request.cardsPerHost();
        long hidden = (long) model.embedding() * Float.BYTES;
        TensorShape embedding = model.tensor("token_embd.weight").orElseThrow(() ->
                new InvalidConfigurationException(model.name() + " has no token_embd.weight"));
        double allReduce = cards == 1 ? 0 : links.rank(CollectiveKind.ALL_REDUCE, TopologyKind.RING, cards, hidden)
                .get(0).totalSeconds();
        List<HostStage> stages = new ArrayList<>();
        double load = 0;
        for (int h = 0; h < k; h++) {
            int first = h * blocks / k;
            int end = (h + 1) * blocks / k;
            boolean embeds = h == 0;
            boolean head = h == k - 1;
            Plan plan = ManualPlans.stage(model, cards, first, end, embeds, head, request.contextLength());
            long weights = 0;
            long kv = 0;
            double busiest = 0;
            for (CardLoad card : plan.cardLoads()) {
                weights += card.weightBytes();
                kv += card.kvCacheBytes();
                long streamed = card.weightBytes();
                if (embeds && card.card() == plan.firstCard()) {
                    // a token reads one row of the embedding table, not the table
                    streamed -= embedding.bytes() - embedding.bytesPerRow();
                }
                busiest = Math.max(busiest, streamed / ddrBytesPerSecond);
            }
            load = Math.max(load, links.hostTransferSeconds(weights));
            stages.add(new HostStage(h, first, end, embeds, head, cards, weights, kv, busiest,
                    2.0 * (end - first) * allReduce, "", 0));
        }
        double handOff = 3 * links.hostTransferSeconds(hidden);
        long logits = (long) model.vocabulary() * Float.BYTES;
        double host = (double) k * cards * links.hostTransferSeconds(STEP_BYTES)
                + links.hostTransferSeconds(hidden)
                + cards * links.hostTransferSeconds(logits / cards);
        List<String> notes = List.of(
                "stages: blocks split evenly over " + k + " host" + (k == 1 ? "" : "s") + " (contiguous ranges);"
                        + " inside a host " + (cards == 1 ? "one card" : "tensor parallel over its " + cards + " cards"),
                "hand-off between hosts: card to host, host to host, host to card, each "
                        + String.format(java.util.Locale.ROOT, "%.3g", links.hostTransferSeconds(hidden))
                        + " s for " + hidden + " bytes at the host link's rate and latency",
                "hosts load their stages in parallel, each over its own host link");
        return new HostPlan(model.name(), k, cards, stages, hidden, handOff, host, load, notes);
    }
}
