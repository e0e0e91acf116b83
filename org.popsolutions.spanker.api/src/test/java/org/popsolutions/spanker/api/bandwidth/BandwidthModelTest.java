package org.popsolutions.spanker.api.bandwidth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.ErrorKind;
import org.popsolutions.spanker.api.InvalidConfigurationException;

/** The SPEC §2 constants and invariants, one test each, as the original pins them. */
class BandwidthModelTest {

    @Test
    void allTiersArePositive() {
        assertTrue(BandwidthModel.LOCAL_DDR_BW > 0);
        assertTrue(BandwidthModel.INTERCARD_BW > 0);
        assertTrue(BandwidthModel.HOST_LINK_BW > 0);
    }

    @Test
    void localDdrIsBelowFourGigabytesPerSecondNeverTheStaleTheoreticalPeak() {
        assertTrue(BandwidthModel.LOCAL_DDR_BW < 4_000_000_000L);
        assertTrue(BandwidthModel.LOCAL_DDR_BW != 12_800_000_000L);
    }

    @Test
    void localDdrIsWithinTheLiteDramRange() {
        assertTrue(BandwidthModel.LOCAL_DDR_BW >= 1_500_000_000L && BandwidthModel.LOCAL_DDR_BW <= 2_400_000_000L);
    }

    @Test
    void intercardIsFourLanesAtOnePointTwoFiveGigabitWithEightBTenBCoding() {
        assertEquals(4L * 1_250_000_000L * 8 / 10 / 8, BandwidthModel.INTERCARD_BW);
        assertEquals(500_000_000L, BandwidthModel.INTERCARD_BW);
    }

    @Test
    void hostLinkIsOneHundredMegabytesPerSecondWithinGigabitEthernetRange() {
        assertEquals(100_000_000L, BandwidthModel.HOST_LINK_BW);
        assertTrue(BandwidthModel.HOST_LINK_BW >= 80_000_000L && BandwidthModel.HOST_LINK_BW <= 125_000_000L);
    }

    @Test
    void tiersAreOrderedHostBelowIntercardBelowLocalDdr() {
        assertTrue(BandwidthModel.HOST_LINK_BW < BandwidthModel.INTERCARD_BW);
        assertTrue(BandwidthModel.INTERCARD_BW < BandwidthModel.LOCAL_DDR_BW);
    }

    @Test
    void localDdrIsAtLeastFourTimesIntercard() {
        assertTrue(BandwidthModel.LOCAL_DDR_BW >= 4 * BandwidthModel.INTERCARD_BW);
    }

    @Test
    void defaultModelKeepsEveryInvariant() {
        assertEquals(List.of(), BandwidthModel.DEFAULT.brokenInvariants());
        assertEquals(7, BandwidthModel.DEFAULT.invariants().size());
        assertEquals(BandwidthModel.DEFAULT, BandwidthModel.DEFAULT.requireValid());
    }

    @Test
    void modelBreakingFourTimesRuleIsRejectedNamingTheInvariant() {
        BandwidthModel model = new BandwidthModel(1_900_000_000L, 600_000_000L, 100_000_000L);
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, model::requireValid);
        assertEquals(ErrorKind.INVALID_CONFIGURATION, e.kind());
        assertTrue(e.getMessage().contains("ddr-at-least-4x-intercard"), e.getMessage());
        assertFalse(e.getMessage().contains("tier-order"), e.getMessage());
    }

    @Test
    void zeroTierBreaksPositivityAndOrder() {
        BandwidthModel model = new BandwidthModel(2_000_000_000L, 0, 100_000_000L);
        List<String> broken = model.brokenInvariants().stream().map(InvariantCheck::name).toList();
        assertTrue(broken.contains("tiers-positive"), broken::toString);
        assertTrue(broken.contains("tier-order"), broken::toString);
    }

    @Test
    void staleTheoreticalPeakIsRejected() {
        BandwidthModel model = new BandwidthModel(12_800_000_000L, 500_000_000L, 100_000_000L);
        List<String> broken = model.brokenInvariants().stream().map(InvariantCheck::name).toList();
        assertEquals(List.of("ddr-below-4GBps", "ddr-litedram-range"), broken);
    }

    @Test
    void sixtyFourBSixtySixBCodingIsAcceptedButNotAboveTheRawLineRate() {
        assertEquals(List.of(), new BandwidthModel(2_400_000_000L, 600_000_000L, 100_000_000L).brokenInvariants());
        List<String> broken = new BandwidthModel(2_400_000_000L, 626_000_000L, 100_000_000L).brokenInvariants()
                .stream().map(InvariantCheck::name).toList();
        assertTrue(broken.contains("intercard-within-line-rate"), broken::toString);
    }
}
