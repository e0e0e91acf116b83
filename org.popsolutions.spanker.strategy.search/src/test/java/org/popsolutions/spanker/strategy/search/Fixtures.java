package org.popsolutions.spanker.strategy.search;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.bandwidth.BandwidthModelService;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.model.TensorShape;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.scheduler.link.LinkCalculator;

/** Model shapes (as the GGUF reader reports them) and topologies for the planner's tests. */
final class Fixtures {
    static final LinkCalculator LINKS = new LinkCalculator(LinkParameters.REV_A);
    static final BandwidthModelService DEFAULT_BANDWIDTH = new BandwidthModelService() {
        @Override
        public BandwidthModel current() {
            return BandwidthModel.DEFAULT;
        }

        @Override
        public String source() {
            return "defaults";
        }

        @Override
        public Optional<String> lastRejection() {
            return Optional.empty();
        }
    };

    private Fixtures() {
    }

    /** A llama model's tensors with Q4_0 matmul weights and F32 norms. */
    static ModelShape llama(String name, int layers, int embedding, int heads, int kvHeads, int feedForward,
            int vocabulary, int context) {
        List<TensorShape> tensors = new ArrayList<>();
        int kvDim = kvHeads * (embedding / heads);
        tensors.add(q4("token_embd.weight", vocabulary, embedding, -1));
        for (int l = 0; l < layers; l++) {
            tensors.add(f32("blk." + l + ".attn_norm.weight", embedding, l));
            tensors.add(q4("blk." + l + ".attn_q.weight", embedding, embedding, l));
            tensors.add(q4("blk." + l + ".attn_k.weight", kvDim, embedding, l));
            tensors.add(q4("blk." + l + ".attn_v.weight", kvDim, embedding, l));
            tensors.add(q4("blk." + l + ".attn_output.weight", embedding, embedding, l));
            tensors.add(f32("blk." + l + ".ffn_norm.weight", embedding, l));
            tensors.add(q4("blk." + l + ".ffn_gate.weight", feedForward, embedding, l));
            tensors.add(q4("blk." + l + ".ffn_up.weight", feedForward, embedding, l));
            tensors.add(q4("blk." + l + ".ffn_down.weight", embedding, feedForward, l));
        }
        tensors.add(f32("output_norm.weight", embedding, -1));
        tensors.add(q4("output.weight", vocabulary, embedding, -1));
        return new ModelShape(name, "llama", layers, embedding, heads, kvHeads, feedForward, vocabulary, context,
                tensors);
    }

    static ModelShape tinyLlama() {
        return llama("tinyllama-1.1b", 22, 2048, 32, 4, 5632, 32000, 2048);
    }

    private static TensorShape q4(String name, long rows, long rowLength, int layer) {
        return new TensorShape(name, "Q4_0", rows, rowLength, rows * (rowLength / 32) * 18, 32, layer);
    }

    private static TensorShape f32(String name, long length, int layer) {
        return new TensorShape(name, "F32", 1, length, length * 4, 1, layer);
    }

    static Topology ring(int cards) {
        return Topology.uniform(TopologyKind.RING, cards, "test", 0, BandwidthModel.INTERCARD_BW, 0);
    }

    static Topology mesh(int cards) {
        return Topology.uniform(TopologyKind.MESH, cards, "test", 0, BandwidthModel.INTERCARD_BW, 0);
    }

    /** The topology with both directions between a and b in {@code state}. */
    static Topology withLink(Topology topology, int a, int b, LinkState state) {
        List<Link> links = new ArrayList<>();
        for (Link l : topology.links()) {
            boolean pair = (l.local() == a && l.remote() == b) || (l.local() == b && l.remote() == a);
            links.add(pair ? l.withState(state) : l);
        }
        return new Topology(topology.kind(), topology.cards(), links);
    }

    static Topology withMemory(Topology topology, long... memory) {
        List<Card> cards = new ArrayList<>();
        for (Card c : topology.cards()) {
            cards.add(new Card(c.index(), c.name(), c.provider(), memory[c.index()]));
        }
        return new Topology(topology.kind(), cards, topology.links());
    }
}
