package org.popsolutions.spanker.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class DecodeDilationTest {
    /** plan --json of the tiny preset (Q8_0) on 4 cards, trimmed to what the rule reads and its neighbours. */
    private static String tinyOnFourCards() {
        StringBuilder layers = new StringBuilder();
        for (int l = 0; l < 8; l++) {
            layers.append(l == 0 ? "" : ",").append("{\"layer\": ").append(l)
                    .append(", \"strategy\": \"TensorParallel\",")
                    .append(" \"collective\": \"2 x allreduce 2048 B (direct) on cards 0,1,2,3\",")
                    .append(" \"computeSeconds\": 0.00041984, \"communicationSeconds\": 2.5184e-05}");
        }
        return "{\"model\": \"tiny\", \"secondsPerToken\": 0.004618488, \"computeSecondsPerToken\": 0.0037312959999,"
                + " \"communicationSecondsPerToken\": 0.000201472, \"layers\": [" + layers + "], \"cardLoads\": ["
                + "{\"card\": 0, \"weightBytes\": 9690272}, {\"card\": 1, \"weightBytes\": 9690272},"
                + " {\"card\": 2, \"weightBytes\": 9690816}, {\"card\": 3, \"weightBytes\": 8945664}]}";
    }

    private static final DecodeDilation.Machine TWO_CORES = new DecodeDilation.Machine(2, 1.6, 0.4e9, 300e-6);

    @Test
    void readsThePlansTokenTimeHopsAndBusiestCard() {
        DecodeDilation.Plan plan = DecodeDilation.Plan.parse(tinyOnFourCards());
        // not computeSecondsPerToken, which also ends in SecondsPerToken
        assertEquals(0.004618488, plan.secondsPerToken());
        // 8 layers x 2 allreduces x 2(p - 1) on 4 cards
        assertEquals(96, plan.hops());
        assertEquals(9690816, plan.busiestCardWeightBytes());
    }

    @Test
    void countsReduceScattersAndAllgathersOnceAndIgnoresLayersWithoutACollective() {
        String json = "{\"secondsPerToken\": 0.01, \"layers\": [{\"collective\": \"1 x reduce-scatter 64 B (ring) on"
                + " cards 0,1,2\"}, {\"collective\": \"3 x allgather 64 B (ring) on cards 4,5\"},"
                + " {\"collective\": null},"
                + " {\"layer\": 3}]}";
        DecodeDilation.Plan plan = DecodeDilation.Plan.parse(json);
        assertEquals(1 * 2 + 3 * 1, plan.hops());
        assertEquals(0, plan.busiestCardWeightBytes());
    }

    @Test
    void theCardsComputeAndTheirHopsAddUp() {
        DecodeDilation.Plan plan = DecodeDilation.Plan.parse(tinyOnFourCards());
        // 2 cards a core: 2 x 9690816 B / 0.4 GB/s = 48.45 ms; 96 hops x 300 us x 2 = 57.6 ms
        assertEquals(0.04845408 + 0.0576, DecodeDilation.estimatedRealSeconds(4, plan, TWO_CORES), 1e-9);
        // x (1 + 1.6) / 4.618488 ms = 59.7
        int k = DecodeDilation.dilation(4, plan, TWO_CORES, 26, OptionalDouble.empty());
        assertEquals(60, k);
        // session 10's rule, the larger of the arithmetic's 26 and the hops' 33, left this row CPU-bound (1.62x)
        int hopsAlone = (int) Math.ceil(2.6 * 96 * 600e-6 / 0.004618488);
        assertEquals(33, hopsAlone);
        assertTrue(k > hopsAlone + 20);
    }

    @Test
    void anUnshapedRunTakesTheEstimatesPlaceWithAMarginOfThreeWhateverTheLoad() {
        DecodeDilation.Plan plan = DecodeDilation.Plan.parse(tinyOnFourCards());
        // 190 ms a token measured unshaped: 3 x 0.190 / 0.004618488 = 123.4
        assertEquals(124, DecodeDilation.dilation(4, plan, TWO_CORES, 26, OptionalDouble.of(0.190)));
        // at load 14 the estimate alone would take a margin of 15 (344.4); the measurement holds the load already
        DecodeDilation.Machine busy = new DecodeDilation.Machine(2, 14, 0.4e9, 300e-6);
        assertEquals(345, DecodeDilation.dilation(4, plan, busy, 26, OptionalDouble.empty()));
        assertEquals(124, DecodeDilation.dilation(4, plan, busy, 26, OptionalDouble.of(0.190)));
        // a fast measurement lowers K below the estimate's (3 x 10 ms / 4.618 ms = 6.5), not below the arithmetic's
        assertEquals(26, DecodeDilation.dilation(4, plan, TWO_CORES, 26, OptionalDouble.of(0.010)));
        assertEquals(7, DecodeDilation.dilation(4, plan, TWO_CORES, 1, OptionalDouble.of(0.010)));
    }

    @Test
    void theArithmeticsKAndTheMarginOfTwoAreFloors() {
        DecodeDilation.Plan plan = DecodeDilation.Plan.parse(tinyOnFourCards());
        assertEquals(500, DecodeDilation.dilation(4, plan, TWO_CORES, 500, OptionalDouble.empty()));
        // a quiet machine still keeps a margin of 2: 2 x 106.05 ms / 4.618 ms = 45.9
        DecodeDilation.Machine quiet = new DecodeDilation.Machine(2, 0.2, 0.4e9, 300e-6);
        assertEquals(46, DecodeDilation.dilation(4, plan, quiet, 1, OptionalDouble.empty()));
        // one card per core: no sharing, no hops on one card
        DecodeDilation.Plan one = DecodeDilation.Plan.parse("{\"secondsPerToken\": 0.015, \"layers\": [],"
                + " \"cardLoads\": [{\"card\": 0, \"weightBytes\": 31000000}]}");
        assertEquals(11, DecodeDilation.dilation(1, one, quiet, 5, OptionalDouble.empty())); // 2 x 77.5 / 15 = 10.3
    }

    @Test
    void aPlanWithoutATokenTimeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> DecodeDilation.Plan.parse("{\"layers\": []}"));
        assertThrows(IllegalArgumentException.class, () -> DecodeDilation.Plan.parse("{\"secondsPerToken\": 0}"));
        assertThrows(IllegalArgumentException.class, () -> new DecodeDilation.Machine(0, 1, 1e9, 0));
    }
}
