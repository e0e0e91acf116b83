package org.popsolutions.spanker.strategy.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.strategy.Strategy;
import org.popsolutions.spanker.api.strategy.StrategyDecision;
import org.popsolutions.spanker.api.strategy.TileShape;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.scheduler.link.LinkCalculator;

class LatencyCostRuleTest {
    private static final LinkCalculator LINKS = new LinkCalculator(LinkParameters.REV_A);
    private static final BandwidthModel BW = BandwidthModel.DEFAULT;

    private static StrategyDecision pick(TileShape tile, int cards, TopologyKind cabling) {
        return LatencyCostRule.pick(tile, cards, BW, LINKS, cabling, "latency");
    }

    /** The seed's rule, for comparison. */
    private static Strategy bandwidthRule(TileShape tile, int cards) {
        double w = tile.weightBytes();
        double a = tile.activationBytes();
        double tp = w / (cards * 2e9) + a / 5e8;
        double mp = w / 2e9 + a / (cards * 5e8);
        return tp <= mp ? Strategy.TENSOR_PARALLEL : Strategy.MODEL_PARALLEL;
    }

    @Test
    void tinyLlamaFfnUpTileStaysModelParallel() {
        TileShape tile = new TileShape(1, 5632, 2048, 2);
        assertEquals(Strategy.MODEL_PARALLEL, pick(tile, 4, TopologyKind.RING).strategy());
        assertEquals(Strategy.MODEL_PARALLEL, bandwidthRule(tile, 4));
    }

    @Test
    void smallDecodeTileOnEightCardsGoesModelParallelWhereTheBandwidthRuleSaysTensorParallel() {
        TileShape tile = new TileShape(1, 32, 2048, 2);
        assertEquals(Strategy.TENSOR_PARALLEL, bandwidthRule(tile, 8));
        StrategyDecision decision = pick(tile, 8, TopologyKind.RING);
        assertEquals(Strategy.MODEL_PARALLEL, decision.strategy());
        double tp = decision.secondsOf(Strategy.TENSOR_PARALLEL).orElseThrow();
        double mp = decision.secondsOf(Strategy.MODEL_PARALLEL).orElseThrow();
        // TP pays the gather's latency: four hops to the far side of the ring, or seven ring steps.
        assertTrue(tp - mp > 1e-6, tp + " vs " + mp);
    }

    @Test
    void largeWeightHeavyTilesAgreeWithTheBandwidthRule() {
        TileShape tile = new TileShape(1, 2048, 2048 * 16, 2);
        assertEquals(bandwidthRule(tile, 4), pick(tile, 4, TopologyKind.RING).strategy());
        assertEquals(Strategy.TENSOR_PARALLEL, pick(tile, 4, TopologyKind.RING).strategy());
    }

    @Test
    void aMeshMakesTheGatherCheaperThanTheRing() {
        TileShape tile = new TileShape(1, 4096, 4096, 2);
        double ring = pick(tile, 8, TopologyKind.RING).secondsOf(Strategy.TENSOR_PARALLEL).orElseThrow();
        double mesh = pick(tile, 8, TopologyKind.MESH).secondsOf(Strategy.TENSOR_PARALLEL).orElseThrow();
        assertTrue(mesh < ring, mesh + " vs " + ring);
    }

    @Test
    void hostLinkIsChargedToBothCandidates() {
        TileShape tile = new TileShape(1, 5632, 2048, 2);
        StrategyDecision one = pick(tile, 1, TopologyKind.RING);
        double expected = 4096 / 2e9 + LINKS.hostTransferSeconds(11264);
        assertEquals(expected, one.secondsOf(Strategy.TENSOR_PARALLEL).orElseThrow(), 1e-15);
        assertEquals(Strategy.TENSOR_PARALLEL, one.strategy());
    }

    @Test
    void zeroCardsCountAsOneAndZeroBandwidthIsInfiniteAndTiesGoToTensorParallel() {
        TileShape tile = new TileShape(1, 5632, 2048, 2);
        assertEquals(pick(tile, 1, TopologyKind.RING), pick(tile, 0, TopologyKind.RING));
        StrategyDecision zero = LatencyCostRule.pick(tile, 4, new BandwidthModel(0, 0, 0), LINKS, TopologyKind.RING, "l");
        assertEquals(Double.POSITIVE_INFINITY, zero.secondsOf(Strategy.MODEL_PARALLEL).orElseThrow());
        assertEquals(Strategy.TENSOR_PARALLEL, zero.strategy());
    }

    @Test
    void hugeTilesSaturateWithoutOverflow() {
        long max = -1L;
        StrategyDecision d = pick(new TileShape(max, max, max, max), 4, TopologyKind.RING);
        assertTrue(d.secondsOf(Strategy.TENSOR_PARALLEL).orElseThrow() > 0);
        assertTrue(d.secondsOf(Strategy.MODEL_PARALLEL).orElseThrow() > 0);
    }
}
