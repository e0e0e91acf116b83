package org.popsolutions.spanker.scheduler.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.CardMemoryExceededException;
import org.popsolutions.spanker.api.NoSailsException;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.model.TensorShape;
import org.popsolutions.spanker.api.plan.CardLoad;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.api.strategy.CandidateCost;
import org.popsolutions.spanker.api.strategy.PartitionStrategy;
import org.popsolutions.spanker.api.strategy.Strategy;
import org.popsolutions.spanker.api.strategy.StrategyDecision;
import org.popsolutions.spanker.api.strategy.TileShape;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.scheduler.link.LinkCalculator;

class PlanBuilderTest {
    private static final LinkCalculator LINKS = new LinkCalculator(LinkParameters.REV_A);

    /** The seed's rule, as the bandwidth strategy answers. */
    static final PartitionStrategy SEED = new PartitionStrategy() {
        @Override
        public String name() {
            return "seed";
        }

        @Override
        public StrategyDecision pick(TileShape tile, int cards, BandwidthModel bw) {
            double w = tile.weightBytes();
            double a = tile.activationBytes();
            double n = Math.max(1, cards);
            double tp = w / (n * bw.localDdrBytesPerSecond()) + a / bw.intercardBytesPerSecond();
            double mp = w / bw.localDdrBytesPerSecond() + a / (n * bw.intercardBytesPerSecond());
            return new StrategyDecision(tp <= mp ? Strategy.TENSOR_PARALLEL : Strategy.MODEL_PARALLEL,
                    List.of(new CandidateCost(Strategy.TENSOR_PARALLEL, tp), new CandidateCost(Strategy.MODEL_PARALLEL, mp)),
                    name());
        }
    };

    static final PartitionStrategy ALWAYS_MP = new PartitionStrategy() {
        @Override
        public String name() {
            return "always-mp";
        }

        @Override
        public StrategyDecision pick(TileShape tile, int cards, BandwidthModel bw) {
            return new StrategyDecision(Strategy.MODEL_PARALLEL, List.of(new CandidateCost(Strategy.TENSOR_PARALLEL, 2),
                    new CandidateCost(Strategy.MODEL_PARALLEL, 1)), name());
        }
    };

    static TensorShape tensor(String name, String type, long rows, long cols, int block, int bytesPerBlock, int layer) {
        return new TensorShape(name, type, rows, cols, rows * (cols / block) * bytesPerBlock, block, layer);
    }

    /** TinyLlama-1.1B shapes with every matmul in the given block type. */
    static ModelShape tinyLlama(String type, int block, int blockBytes) {
        int embd = 2048;
        int ff = 5632;
        int kv = 256;
        List<TensorShape> t = new ArrayList<>();
        t.add(tensor("token_embd.weight", type, 32000, embd, block, blockBytes, -1));
        for (int l = 0; l < 22; l++) {
            String p = "blk." + l + ".";
            t.add(tensor(p + "attn_norm.weight", "F32", 1, embd, 1, 4, l));
            t.add(tensor(p + "attn_q.weight", type, embd, embd, block, blockBytes, l));
            t.add(tensor(p + "attn_k.weight", type, kv, embd, block, blockBytes, l));
            t.add(tensor(p + "attn_v.weight", type, kv, embd, block, blockBytes, l));
            t.add(tensor(p + "attn_output.weight", type, embd, embd, block, blockBytes, l));
            t.add(tensor(p + "ffn_norm.weight", "F32", 1, embd, 1, 4, l));
            t.add(tensor(p + "ffn_gate.weight", type, ff, embd, block, blockBytes, l));
            t.add(tensor(p + "ffn_up.weight", type, ff, embd, block, blockBytes, l));
            t.add(tensor(p + "ffn_down.weight", type, embd, ff, block, blockBytes, l));
        }
        t.add(tensor("output_norm.weight", "F32", 1, embd, 1, 4, -1));
        t.add(tensor("output.weight", type, 32000, embd, block, blockBytes, -1));
        return new ModelShape("tinyllama", "llama", 22, embd, 32, 4, ff, 32000, 2048, t);
    }

    static Topology topology(TopologyKind kind, int cards) {
        List<Card> list = new ArrayList<>();
        for (int i = 0; i < cards; i++) {
            list.add(new Card(i, "m" + i, "mock", PlanOptions.REV_A_CARD_MEMORY));
        }
        List<Link> links = new ArrayList<>();
        for (int[] pair : kind.directedPairs(cards)) {
            links.add(new Link(pair[0], pair[1], LinkState.UP, 500_000_000L, 1e-6));
        }
        return new Topology(kind, list, links);
    }

    static Plan plan(ModelShape model, int cards, PartitionStrategy strategy, long memory) {
        return new PlanBuilder(model, topology(TopologyKind.RING, cards), new PlanOptions(memory, 2048), strategy,
                BandwidthModel.DEFAULT, LINKS).build();
    }

    @Test
    void bandwidthRuleSplitsEveryTinyLlamaBlockTensorParallelOnFourCards() {
        Plan plan = plan(tinyLlama("Q4_0", 32, 18), 4, SEED, PlanOptions.REV_A_CARD_MEMORY);
        assertEquals(22, plan.layers().size());
        for (LayerPlacement layer : plan.layers()) {
            assertEquals(Strategy.TENSOR_PARALLEL, layer.strategy());
            assertEquals(List.of(0, 1, 2, 3), layer.cards());
            assertTrue(layer.collective().startsWith("2 x allreduce 8192 B"), layer.collective());
        }
        CardShard card2 = plan.layers().get(0).shards().get(2);
        assertEquals(new CardShard(2, 2, 3, 2816, 4224), card2);
        assertEquals(List.of(0, 1, 2, 3), plan.outputCards());
        assertEquals("seed", plan.strategy());
    }

    @Test
    void tensorParallelCommunicationIsTwoAllReducesOfTheHiddenStatePerBlock() {
        Plan plan = plan(tinyLlama("Q4_0", 32, 18), 4, SEED, PlanOptions.REV_A_CARD_MEMORY);
        double allReduce = LINKS.estimate(CollectiveKind.ALL_REDUCE, CollectiveAlgorithm.AUTO, TopologyKind.RING, 4,
                2048 * 4).totalSeconds();
        assertEquals(22 * 2 * allReduce, plan.communicationSecondsPerToken(), 1e-12);
    }

    @Test
    void weightsAreSpreadEvenlyAndEveryByteIsPlacedOnce() {
        ModelShape model = tinyLlama("Q4_0", 32, 18);
        Plan plan = plan(model, 4, SEED, PlanOptions.REV_A_CARD_MEMORY);
        long placed = plan.cardLoads().stream().mapToLong(CardLoad::weightBytes).sum();
        long norms = 22L * 2 * 2048 * 4 + 2048 * 4; // replicated on 4 cards: counted 4 times
        assertEquals(model.totalBytes() + 3 * norms, placed);
        long largest = plan.cardLoads().stream().mapToLong(CardLoad::weightBytes).max().orElseThrow();
        long smallest = plan.cardLoads().stream().mapToLong(CardLoad::weightBytes).min().orElseThrow();
        assertTrue(largest - smallest < model.totalBytes() / 10, largest + " vs " + smallest);
    }

    @Test
    void pipelineBlocksGoToContiguousCardRangesOfAboutEqualBytes() {
        Plan plan = plan(tinyLlama("Q4_0", 32, 18), 4, ALWAYS_MP, PlanOptions.REV_A_CARD_MEMORY);
        int previous = 0;
        for (LayerPlacement layer : plan.layers()) {
            assertEquals(Strategy.PIPELINE, layer.strategy());
            assertEquals(1, layer.cards().size());
            assertTrue(layer.cards().get(0) >= previous);
            previous = layer.cards().get(0);
        }
        assertEquals(3, previous);
        assertEquals(0, plan.firstCard());
        assertEquals(List.of(3), plan.outputCards());
        // three hand-offs between four stages
        long handOffs = plan.layers().stream().filter(l -> l.collective().startsWith("hand-off")).count();
        assertEquals(3, handOffs);
    }

    @Test
    void aPlanThatDoesNotFitIsRefusedNamingTheCard() {
        CardMemoryExceededException e = assertThrows(CardMemoryExceededException.class,
                () -> plan(tinyLlama("F32", 1, 4), 1, SEED, PlanOptions.REV_A_CARD_MEMORY));
        assertEquals(0, e.card());
        assertTrue(e.need() > e.have());
        assertTrue(e.getMessage().contains("more cards"), e.getMessage());
        // The same model fits on four cards.
        plan(tinyLlama("F32", 1, 4), 4, SEED, PlanOptions.REV_A_CARD_MEMORY);
    }

    @Test
    void kQuantFeedForwardSplitsOnBlockBoundaries() {
        Plan plan = plan(tinyLlama("Q4_K", 256, 144), 4, SEED, PlanOptions.REV_A_CARD_MEMORY);
        for (CardShard shard : plan.layers().get(0).shards()) {
            assertEquals(0, shard.feedForwardStart() % 256);
        }
        assertEquals(Strategy.TENSOR_PARALLEL, plan.layers().get(5).strategy());
    }

    @Test
    void tensorParallelIsDeclinedWhenHeadGroupsDoNotAlignToBlocks() {
        // 8 heads of 32 with 8 KV heads: a card's attn_output columns (2 x 32) cannot align to Q4_K's 256.
        List<TensorShape> t = new ArrayList<>();
        t.add(tensor("token_embd.weight", "Q4_K", 512, 256, 256, 144, -1));
        String p = "blk.0.";
        for (String name : List.of("attn_q", "attn_k", "attn_v", "attn_output")) {
            t.add(tensor(p + name + ".weight", "Q4_K", 256, 256, 256, 144, 0));
        }
        t.add(tensor(p + "ffn_gate.weight", "Q4_K", 1024, 256, 256, 144, 0));
        t.add(tensor(p + "ffn_up.weight", "Q4_K", 1024, 256, 256, 144, 0));
        t.add(tensor(p + "ffn_down.weight", "Q4_K", 256, 1024, 256, 144, 0));
        ModelShape model = new ModelShape("odd", "llama", 1, 256, 8, 8, 1024, 512, 128, t);
        Plan plan = plan(model, 4, SEED, PlanOptions.REV_A_CARD_MEMORY);
        assertEquals(Strategy.PIPELINE, plan.layers().get(0).strategy());
        assertTrue(plan.notes().get(0).contains("do not align"), plan.notes().toString());
    }

    @Test
    void oneCardHoldsEverythingWithoutCommunication() {
        Plan plan = plan(tinyLlama("Q4_0", 32, 18), 1, SEED, PlanOptions.REV_A_CARD_MEMORY);
        assertEquals(0.0, plan.communicationSecondsPerToken());
        assertEquals(List.of(0), plan.outputCards());
        plan.layers().forEach(l -> assertEquals(new CardShard(0, 0, 4, 0, 5632), l.shards().get(0)));
    }

    @Test
    void computeTimeIsTheSlowestCardsWeightStreamingPerBlock() {
        ModelShape model = tinyLlama("Q4_0", 32, 18);
        Plan one = plan(model, 1, SEED, PlanOptions.REV_A_CARD_MEMORY);
        Plan four = plan(model, 4, SEED, PlanOptions.REV_A_CARD_MEMORY);
        // Every block and the head stream once per token; the embedding row and the output norm are negligible.
        assertEquals(model.totalBytes() - model.tensor("token_embd.weight").orElseThrow().bytes() - 2048 * 4,
                one.computeSecondsPerToken() * 2e9, 1e3);
        assertTrue(four.computeSecondsPerToken() < one.computeSecondsPerToken() / 3.5);
        assertEquals(LINKS.hostTransferSeconds(one.cardLoads().get(0).weightBytes()), one.loadSeconds(), 1e-12);
    }

    /**
     * The host term is the round trips a token makes over the rev-A host link (50 µs, 100 MB/s): the steps written to
     * every card, the COMPLETEs, a READ of the head's input, a READ per output card of its rows of the logits.
     */
    @Test
    void hostTimeIsTheTokensRoundTripsOverTheHostLink() {
        ModelShape model = tinyLlama("Q4_0", 32, 18);
        Plan one = plan(model, 1, SEED, PlanOptions.REV_A_CARD_MEMORY);
        double alpha = 50e-6;
        double rate = 100e6;
        double expected = (alpha + 8 / rate) + (alpha + 28 / rate) + (2 * alpha + (20 + 2048 * 4) / rate)
                + (2 * alpha + (20 + 32000 * 4) / rate);
        assertEquals(expected, one.hostSecondsPerToken(), 1e-12);
        Plan four = plan(model, 4, SEED, PlanOptions.REV_A_CARD_MEMORY);
        // four cards hold weights and the logits come from each output card's rows: a request and a reply each
        int outputs = four.outputCards().size();
        assertEquals(expected + 3 * 8 / rate + (outputs - 1) * (2 * alpha + 20 / rate), four.hostSecondsPerToken(),
                1e-12, "output cards " + four.outputCards());
    }

    @Test
    void noCardsIsNoSails() {
        assertThrows(NoSailsException.class, () -> new PlanBuilder(tinyLlama("Q4_0", 32, 18),
                topology(TopologyKind.RING, 0), new PlanOptions(1, 1), SEED, BandwidthModel.DEFAULT, LINKS));
    }
}
