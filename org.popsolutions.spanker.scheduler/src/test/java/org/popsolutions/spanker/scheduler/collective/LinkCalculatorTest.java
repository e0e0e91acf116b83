package org.popsolutions.spanker.scheduler.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveEstimate;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.FlowControl;
import org.popsolutions.spanker.api.link.LineCoding;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.scheduler.link.LinkCalculator;

/** The four answers of the link model, and the SPEC §8 formulas as special cases of the schedule cost. */
class LinkCalculatorTest {
    private static final LinkCalculator REV_A = new LinkCalculator(LinkParameters.REV_A);
    private static final double ALPHA = 1e-6;

    /** Unframed parameters, so β is exactly 1 / 500 MB/s and the closed forms apply unchanged. */
    private static LinkCalculator unframed() {
        LinkParameters p = LinkParameters.REV_A;
        return new LinkCalculator(new LinkParameters(p.lanes(), p.laneBitsPerSecond(), p.coding(), 512, 0, 0, ALPHA,
                p.trainingSeconds(), 1000, p.reduceBytesPerSecond(), p.hostLinkBytesPerSecond(),
                p.hostLinkLatencySeconds()));
    }

    @Test
    void codedRateIsFourLanesTimesOnePointTwoFiveGigabitTimesEightTenths() {
        assertEquals(500e6, REV_A.codedBytesPerSecond(), 1e-3);
    }

    @Test
    void payloadBandwidthSubtractsFramingAndCrc() {
        assertEquals(500e6 * 512 / 524, REV_A.payloadBytesPerSecond(), 1e-3);
    }

    @Test
    void sixtyFourBSixtySixBCodingGivesAboutSixHundredMegabytesPerSecond() {
        LinkParameters p = LinkParameters.REV_A;
        LinkCalculator coded = new LinkCalculator(new LinkParameters(4, 1_250_000_000L, LineCoding.B64_B66, 512, 0, 0,
                p.hopLatencySeconds(), p.trainingSeconds(), p.creditFrames(), p.reduceBytesPerSecond(),
                p.hostLinkBytesPerSecond(), p.hostLinkLatencySeconds()));
        assertEquals(625e6 * 64 / 66, coded.payloadBytesPerSecond(), 1e-3);
    }

    @Test
    void roundTripOfASixtyFourBytePacketIsTwoHopsPlusTwoFrames() {
        double oneFrame = (64 + 12) / 500e6;
        assertEquals(2 * (1e-6 + oneFrame), REV_A.roundTripSeconds(64), 1e-15);
    }

    @Test
    void creditsBindTheSustainedRateOnlyWhenTooFewForTheRoundTrip() {
        FlowControl rev = REV_A.flowControl();
        assertFalse(rev.creditLimited());
        assertEquals(rev.burstBytesPerSecond(), rev.sustainedBytesPerSecond());
        LinkParameters p = LinkParameters.REV_A;
        LinkCalculator starved = new LinkCalculator(new LinkParameters(4, p.laneBitsPerSecond(), p.coding(), 512, 8, 4,
                10e-6, p.trainingSeconds(), 2, p.reduceBytesPerSecond(), p.hostLinkBytesPerSecond(),
                p.hostLinkLatencySeconds()));
        FlowControl flow = starved.flowControl();
        assertTrue(flow.creditLimited());
        double frame = 524 / 500e6;
        assertEquals(2 * 512 / (frame + 20e-6), flow.sustainedBytesPerSecond(), 1e-3);
        assertEquals(1024, flow.burstBytes());
    }

    @Test
    void ringAllReduceOnAMeshIsTheTextbookFormula() {
        LinkCalculator model = unframed();
        for (int p : new int[] {2, 4, 8}) {
            long n = 64L << 20;
            CollectiveEstimate e = model.estimate(CollectiveKind.ALL_REDUCE, CollectiveAlgorithm.RING, TopologyKind.MESH,
                    p, n);
            double beta = 1 / 500e6;
            double gamma = 1 / LinkParameters.REV_A.reduceBytesPerSecond();
            double expected = 2 * (p - 1) * ALPHA + 2.0 * (p - 1) / p * n * beta + (double) (p - 1) / p * n * gamma;
            assertEquals(expected, e.totalSeconds(), expected * 1e-12);
        }
    }

    @Test
    void ringAllReduceOnTheRevARingCostsTheSameAsOnAMeshBecauseItOnlyTalksToNeighbours() {
        LinkCalculator model = unframed();
        assertEquals(model.estimate(CollectiveKind.ALL_REDUCE, CollectiveAlgorithm.RING, TopologyKind.MESH, 8, 1 << 20)
                .totalSeconds(), model.estimate(CollectiveKind.ALL_REDUCE, CollectiveAlgorithm.RING, TopologyKind.RING, 8,
                        1 << 20).totalSeconds(), 1e-15);
    }

    @Test
    void recursiveDoublingOnAMeshIsLgPTimesAlphaPlusNBetaPlusNGamma() {
        LinkCalculator model = unframed();
        long n = 1 << 20;
        CollectiveEstimate e = model.estimate(CollectiveKind.ALL_REDUCE, CollectiveAlgorithm.RECURSIVE_DOUBLING,
                TopologyKind.MESH, 8, n);
        double gamma = 1 / LinkParameters.REV_A.reduceBytesPerSecond();
        assertEquals(3 * (ALPHA + n / 500e6 + n * gamma), e.totalSeconds(), 1e-15);
    }

    @Test
    void rabenseifnerOnAMeshIsTwoLgPAlphaPlusTheRingsBandwidthTerms() {
        LinkCalculator model = unframed();
        long n = 1 << 20;
        int p = 8;
        CollectiveEstimate e = model.estimate(CollectiveKind.ALL_REDUCE, CollectiveAlgorithm.HALVING_DOUBLING,
                TopologyKind.MESH, p, n);
        double gamma = 1 / LinkParameters.REV_A.reduceBytesPerSecond();
        double expected = 2 * 3 * ALPHA + 2.0 * (p - 1) / p * n / 500e6 + (double) (p - 1) / p * n * gamma;
        assertEquals(expected, e.totalSeconds(), expected * 1e-12);
    }

    @Test
    void ringAllGatherAndBinomialBroadcastFollowSpecFormulas() {
        LinkCalculator model = unframed();
        long n = 1 << 20;
        int p = 8;
        // n here is each card's contribution; the gathered size is p·n.
        assertEquals((p - 1) * ALPHA + (p - 1) * n / 500e6, model.estimate(CollectiveKind.ALL_GATHER,
                CollectiveAlgorithm.RING, TopologyKind.RING, p, n).totalSeconds(), 1e-15);
        assertEquals(3 * (ALPHA + n / 500e6), model.estimate(CollectiveKind.BROADCAST, CollectiveAlgorithm.BINOMIAL_TREE,
                TopologyKind.MESH, p, n).totalSeconds(), 1e-15);
    }

    @Test
    void recursiveDoublingOnARingPaysForForwardingAndSharedLinks() {
        LinkCalculator model = unframed();
        long n = 1 << 20;
        double mesh = model.estimate(CollectiveKind.ALL_REDUCE, CollectiveAlgorithm.RECURSIVE_DOUBLING,
                TopologyKind.MESH, 8, n).totalSeconds();
        CollectiveEstimate ring = model.estimate(CollectiveKind.ALL_REDUCE, CollectiveAlgorithm.RECURSIVE_DOUBLING,
                TopologyKind.RING, 8, n);
        // Steps at distance 1, 2, 4: latency 7α and 7 whole buffers over the busiest link, versus 3 on a mesh.
        double gamma = 1 / LinkParameters.REV_A.reduceBytesPerSecond();
        assertEquals(7 * ALPHA + 7 * n / 500e6 + 3 * n * gamma, ring.totalSeconds(), 1e-12);
        assertEquals(4, ring.maxHops());
        assertTrue(ring.totalSeconds() > mesh);
    }

    @Test
    void smallMessagesPreferFewStepsAndLargeOnesPreferTheRing() {
        CollectiveEstimate small = REV_A.rank(CollectiveKind.ALL_REDUCE, TopologyKind.MESH, 8, 64).get(0);
        CollectiveEstimate large = REV_A.rank(CollectiveKind.ALL_REDUCE, TopologyKind.RING, 8, 64L << 20).get(0);
        assertTrue(small.steps() <= 3, small.toString());
        assertEquals(CollectiveAlgorithm.RING, large.algorithm(), large.toString());
    }

    @Test
    void invalidParametersAreRefusedWithEveryBrokenRule() {
        LinkParameters bad = new LinkParameters(0, -1, LineCoding.B8_B10, 0, -1, 0, -1, 0, 0, 0, 0, Double.NaN);
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, () -> new LinkCalculator(bad));
        for (String field : new String[] {"lanes", "laneBitsPerSecond", "framePayloadBytes", "hopLatencySeconds",
            "creditFrames", "reduceBytesPerSecond", "hostLinkBytesPerSecond", "hostLinkLatencySeconds"}) {
            assertTrue(e.getMessage().contains(field), field + " missing from " + e.getMessage());
        }
    }

    @Test
    void cardsBehindOneSharedNicLoadOneAfterAnotherAndWithANicEachSideBySide() {
        LinkParameters shared = LinkParameters.REV_A;
        assertEquals(org.popsolutions.spanker.api.link.HostNic.SHARED, shared.hostNic(), "rev-A hosts: one GbE NIC");
        long card = 300_000_000L;
        // shared: the NIC carries both cards' bytes, twice one card's time; per card: each NIC carries its own
        assertEquals(REV_A.hostTransferSeconds(2 * card), REV_A.loadSeconds(card, card), 1e-12);
        assertEquals(6.0 + 50e-6, REV_A.loadSeconds(card, card), 1e-9);
        LinkCalculator perCard = new LinkCalculator(shared.withHostNic(org.popsolutions.spanker.api.link.HostNic
                .PER_CARD));
        assertEquals(3.0 + 50e-6, perCard.loadSeconds(card, card), 1e-9);
        assertEquals(perCard.hostTransferSeconds(card), perCard.loadSeconds(card, card / 2, 0), 1e-12);
        assertEquals(REV_A.hostTransferSeconds(card), REV_A.loadSeconds(card), 1e-12, "one card: the same either way");
    }

    @Test
    void hostLinkMovesAModelOfSevenHundredMegabytesInAboutSevenSeconds() {
        assertEquals(7.0, REV_A.hostTransferSeconds(700_000_000L), 0.01);
    }
}
