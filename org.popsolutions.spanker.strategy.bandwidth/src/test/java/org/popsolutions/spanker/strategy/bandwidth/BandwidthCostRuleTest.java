package org.popsolutions.spanker.strategy.bandwidth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.strategy.Strategy;
import org.popsolutions.spanker.api.strategy.StrategyDecision;
import org.popsolutions.spanker.api.strategy.TileShape;

/** {@code pick_strategy} of SPEC §3, each case named. */
class BandwidthCostRuleTest {
    private static final BandwidthModel DEFAULT = BandwidthModel.DEFAULT;

    private static StrategyDecision pick(TileShape tile, int cards, BandwidthModel model) {
        return BandwidthCostRule.pick(tile, cards, model, "test");
    }

    private static double tp(StrategyDecision d) {
        return d.secondsOf(Strategy.TENSOR_PARALLEL).orElseThrow();
    }

    private static double mp(StrategyDecision d) {
        return d.secondsOf(Strategy.MODEL_PARALLEL).orElseThrow();
    }

    @Test
    void tinyLlamaFfnUpProjectionDecodeTileOnFourCardsIsModelParallel() {
        StrategyDecision decision = pick(new TileShape(1, 5632, 2048, 2), 4, DEFAULT);
        assertEquals(Strategy.MODEL_PARALLEL, decision.strategy());
        assertEquals(2.304e-5, tp(decision), 1e-12);
        assertEquals(7.68e-6, mp(decision), 1e-12);
    }

    @Test
    void costsFollowTheFormulaTermByTerm() {
        TileShape tile = new TileShape(3, 7, 11, 4);
        BandwidthModel model = new BandwidthModel(2_000_000_000L, 500_000_000L, 100_000_000L);
        StrategyDecision d = pick(tile, 2, model);
        double w = 3 * 11 * 4;
        double a = 3 * 7 * 4;
        assertEquals(w / (2 * 2e9) + a / 5e8, tp(d));
        assertEquals(w / 2e9 + a / (2 * 5e8), mp(d));
    }

    @Test
    void zeroCardsAreTreatedAsOneCard() {
        TileShape tile = new TileShape(1, 5632, 2048, 2);
        StrategyDecision zero = pick(tile, 0, DEFAULT);
        StrategyDecision one = pick(tile, 1, DEFAULT);
        assertEquals(one, zero);
        assertEquals(Strategy.TENSOR_PARALLEL, zero.strategy());
    }

    @Test
    void oneCardIsAlwaysTensorParallel() {
        // Costs are equal with one card, and even a bandwidth skew cannot make MP win.
        assertEquals(Strategy.TENSOR_PARALLEL, pick(new TileShape(1, 1 << 20, 1, 2), 1, DEFAULT).strategy());
        assertEquals(Strategy.TENSOR_PARALLEL, pick(new TileShape(4096, 1, 4096, 2), 1, DEFAULT).strategy());
    }

    @Test
    void tiesGoToTensorParallel() {
        // w/(n·ddr) + a/ic == w/ddr + a/(n·ic) when w/ddr == a/ic: w = 4·a with ddr = 4·ic.
        TileShape tile = new TileShape(1, 1000, 4000, 1);
        BandwidthModel model = new BandwidthModel(2_000_000_000L, 500_000_000L, 100_000_000L);
        StrategyDecision d = pick(tile, 4, model);
        assertEquals(tp(d), mp(d));
        assertEquals(Strategy.TENSOR_PARALLEL, d.strategy());
    }

    @Test
    void zeroTileIsATieAndGoesToTensorParallel() {
        StrategyDecision d = pick(new TileShape(0, 0, 0, 2), 4, DEFAULT);
        assertEquals(0.0, tp(d));
        assertEquals(0.0, mp(d));
        assertEquals(Strategy.TENSOR_PARALLEL, d.strategy());
    }

    @Test
    void zeroDdrBandwidthMakesTheCostInfinite() {
        StrategyDecision d = pick(new TileShape(1, 5632, 2048, 2), 4, new BandwidthModel(0, 500_000_000L, 1));
        assertEquals(Double.POSITIVE_INFINITY, tp(d));
        assertEquals(Double.POSITIVE_INFINITY, mp(d));
    }

    @Test
    void zeroIntercardBandwidthMakesTheCostInfiniteEvenForAnEmptyTile() {
        StrategyDecision d = pick(new TileShape(0, 0, 0, 0), 4, new BandwidthModel(2_000_000_000L, 0, 1));
        assertEquals(Double.POSITIVE_INFINITY, tp(d));
        assertEquals(Double.POSITIVE_INFINITY, mp(d));
    }

    @Test
    void infinityAgainstInfinityGoesToTensorParallel() {
        StrategyDecision d = pick(new TileShape(1, 5632, 2048, 2), 4, new BandwidthModel(0, 0, 0));
        assertEquals(Strategy.TENSOR_PARALLEL, d.strategy());
    }

    @Test
    void saturatingArithmeticAtUnsigned64BitScaleNeverOverflows() {
        long max = -1L; // 2^64 - 1
        StrategyDecision d = pick(new TileShape(max, max, max, max), Integer.MAX_VALUE, DEFAULT);
        double saturated = 0x1p64;
        double n = Integer.MAX_VALUE;
        assertEquals(saturated / (n * 2e9) + saturated / 5e8, tp(d));
        assertEquals(saturated / 2e9 + saturated / (n * 5e8), mp(d));
        assertEquals(Strategy.MODEL_PARALLEL, d.strategy());
    }

    @Test
    void bandwidthsAtUnsigned64BitScaleStayFiniteAndPositive() {
        StrategyDecision d = pick(new TileShape(1, 5632, 2048, 2), 4, new BandwidthModel(-1L, -1L, -1L));
        assertEquals((4096 / 4.0 + 11264) / 0x1p64, tp(d), 1e-30);
    }


    @Test
    void negativeCardCountIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> pick(new TileShape(1, 1, 1, 1), -1, DEFAULT));
    }

    @Test
    void strategyProviderNamesItselfInTheDecision() {
        StrategyDecision d = new BandwidthStrategy().pick(new TileShape(1, 5632, 2048, 2), 4, DEFAULT);
        assertEquals("bandwidth", d.decidedBy());
        assertEquals(Strategy.MODEL_PARALLEL, d.strategy());
    }
}
