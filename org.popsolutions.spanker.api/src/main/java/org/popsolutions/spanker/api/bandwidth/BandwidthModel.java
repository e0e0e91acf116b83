package org.popsolutions.spanker.api.bandwidth;

import java.util.List;
import java.util.stream.Collectors;
import org.popsolutions.spanker.api.InvalidConfigurationException;

/**
 * The three bandwidth tiers of a Sails system, in bytes per second: card-local DDR, one direction of an
 * inter-card LVDS link, and the GbE host link.
 */
public record BandwidthModel(long localDdrBytesPerSecond, long intercardBytesPerSecond, long hostLinkBytesPerSecond) {

    /** Midpoint of the 1.5–2.4 GB/s LiteDRAM range; not the 12.8 GB/s DDR3-1600 theoretical peak. */
    public static final long LOCAL_DDR_BW = 2_000_000_000L;
    /** 4 lanes × 1.25 Gbit/s × 8/10 (8b/10b coding), per direction. */
    public static final long INTERCARD_BW = 500_000_000L;
    /** Gigabit Ethernet after IP/UDP/Ethernet headers. */
    public static final long HOST_LINK_BW = 100_000_000L;
    /** Raw line rate of the four LVDS lanes before any coding: 4 × 1.25 Gbit/s. */
    public static final long LVDS_RAW_LINE_RATE = 625_000_000L;

    public static final BandwidthModel DEFAULT = new BandwidthModel(LOCAL_DDR_BW, INTERCARD_BW, HOST_LINK_BW);

    /** Every invariant of the model, in a fixed order, with whether this model keeps it. */
    public List<InvariantCheck> invariants() {
        long ddr = localDdrBytesPerSecond;
        long link = intercardBytesPerSecond;
        long host = hostLinkBytesPerSecond;
        return List.of(
                new InvariantCheck("tiers-positive", "every tier > 0 bytes/s", ddr > 0 && link > 0 && host > 0),
                new InvariantCheck("ddr-below-4GBps",
                        "LOCAL_DDR < 4 GB/s (never the 12.8 GB/s DDR3-1600 theoretical peak)", ddr < 4_000_000_000L),
                new InvariantCheck("ddr-litedram-range", "LOCAL_DDR within [1.5, 2.4] GB/s (open LiteDRAM toolchain)",
                        ddr >= 1_500_000_000L && ddr <= 2_400_000_000L),
                new InvariantCheck("intercard-within-line-rate",
                        "INTERCARD <= 625 MB/s (raw line rate of 4 lanes x 1.25 Gbit/s)", link <= LVDS_RAW_LINE_RATE),
                new InvariantCheck("host-link-gbe-range", "HOST_LINK within [80, 125] MB/s (Gigabit Ethernet)",
                        host >= 80_000_000L && host <= 125_000_000L),
                new InvariantCheck("tier-order", "HOST_LINK < INTERCARD < LOCAL_DDR", host < link && link < ddr),
                new InvariantCheck("ddr-at-least-4x-intercard",
                        "LOCAL_DDR >= 4 x INTERCARD (the TP/MP heuristics were derived under it)",
                        ddr / 4 >= link));
    }

    /** The invariants this model breaks, in order; empty when it keeps them all. */
    public List<InvariantCheck> brokenInvariants() {
        return invariants().stream().filter(c -> !c.holds()).collect(Collectors.toList());
    }

    /**
     * @throws InvalidConfigurationException naming every broken invariant and the model's values
     */
    public BandwidthModel requireValid() {
        List<InvariantCheck> broken = brokenInvariants();
        if (!broken.isEmpty()) {
            throw new InvalidConfigurationException("bandwidth model " + this + " breaks "
                    + broken.stream().map(c -> c.name() + " (" + c.rule() + ")").collect(Collectors.joining(", ")));
        }
        return this;
    }

    @Override
    public String toString() {
        return "{localDdr=" + localDdrBytesPerSecond + " B/s, intercard=" + intercardBytesPerSecond
                + " B/s, hostLink=" + hostLinkBytesPerSecond + " B/s}";
    }
}
