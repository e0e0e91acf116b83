package org.popsolutions.spanker.api.link;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.popsolutions.spanker.api.InvalidConfigurationException;

/**
 * Everything the link model is computed from. Lane count, lane rate and coding come from the rev-A
 * hardware (SPEC §1); the frame layout and the latencies are not defined by the hardware team yet, so they
 * are parameters with stated assumptions as defaults.
 *
 * @param lanes LVDS lanes per direction (rev-A: 4)
 * @param laneBitsPerSecond line rate of one lane (rev-A: 1.25 Gbit/s)
 * @param coding line code (rev-A: 8b/10b; 64b/66b if adopted)
 * @param framePayloadBytes payload bytes per link frame (assumption: 512)
 * @param frameHeaderBytes header bytes per frame (assumption: 8)
 * @param crcBytes CRC bytes per frame (assumption: 4, a CRC-32)
 * @param hopLatencySeconds one-way latency of one hop: SerDes, FPGA pipeline, cable (assumption: 1 µs)
 * @param trainingSeconds time for a link to train from DOWN to UP (assumption: 1 ms)
 * @param creditFrames receive buffers the sender may fill before a credit returns (assumption: 8 frames)
 * @param reduceBytesPerSecond rate at which a card combines received data with its own (assumption: local
 *        DDR 2 GB/s over three streams, two reads and a write: 667 MB/s)
 * @param hostLinkBytesPerSecond GbE payload rate after IP/UDP/Ethernet headers (SPEC: 100 MB/s)
 * @param hostLinkLatencySeconds one-way latency host ↔ card over GbE (assumption: 50 µs)
 * @param hostNic whether the host's cards share one NIC's host-link rate (the usual host: one GbE NIC behind a
 *        switch) or each has a NIC of its own (since 1.2)
 */
public record LinkParameters(int lanes, long laneBitsPerSecond, LineCoding coding, int framePayloadBytes,
        int frameHeaderBytes, int crcBytes, double hopLatencySeconds, double trainingSeconds, int creditFrames,
        double reduceBytesPerSecond, double hostLinkBytesPerSecond, double hostLinkLatencySeconds, HostNic hostNic) {

    public static final LinkParameters REV_A = new LinkParameters(4, 1_250_000_000L, LineCoding.B8_B10, 512, 8, 4,
            1.0e-6, 1.0e-3, 8, 2.0e9 / 3, 100.0e6, 50.0e-6, HostNic.SHARED);

    public LinkParameters {
        Objects.requireNonNull(coding, "coding");
        Objects.requireNonNull(hostNic, "hostNic");
    }

    /** Parameters of a host whose cards share one NIC (the 1.1 constructor). */
    public LinkParameters(int lanes, long laneBitsPerSecond, LineCoding coding, int framePayloadBytes,
            int frameHeaderBytes, int crcBytes, double hopLatencySeconds, double trainingSeconds, int creditFrames,
            double reduceBytesPerSecond, double hostLinkBytesPerSecond, double hostLinkLatencySeconds) {
        this(lanes, laneBitsPerSecond, coding, framePayloadBytes, frameHeaderBytes, crcBytes, hopLatencySeconds,
                trainingSeconds, creditFrames, reduceBytesPerSecond, hostLinkBytesPerSecond, hostLinkLatencySeconds,
                HostNic.SHARED);
    }

    /** The same parameters on a host whose NIC setting is {@code nic}. */
    public LinkParameters withHostNic(HostNic nic) {
        return new LinkParameters(lanes, laneBitsPerSecond, coding, framePayloadBytes, frameHeaderBytes, crcBytes,
                hopLatencySeconds, trainingSeconds, creditFrames, reduceBytesPerSecond, hostLinkBytesPerSecond,
                hostLinkLatencySeconds, nic);
    }

    /**
     * Seconds to load {@code bytesPerCard[c]} bytes onto each card c over the host link, all cards at once: one
     * latency, then on a {@link HostNic#SHARED shared} NIC every card's bytes one after another at the host-link rate
     * (the NIC is the bottleneck), with a {@link HostNic#PER_CARD NIC per card} the largest card's bytes. The host's
     * NIC pacer of emulated cards holds transfers to exactly this.
     */
    public double loadSeconds(long... bytesPerCard) {
        double bytes = 0;
        for (long b : bytesPerCard) {
            bytes = hostNic == HostNic.SHARED ? bytes + b : Math.max(bytes, b);
        }
        return hostLinkLatencySeconds + bytes / hostLinkBytesPerSecond;
    }

    /** The rules a parameter set must keep, as messages; empty when it keeps them all. */
    public List<String> violations() {
        List<String> problems = new ArrayList<>();
        if (lanes < 1 || lanes > 64) {
            problems.add("lanes must be within 1..64, got " + lanes);
        }
        if (laneBitsPerSecond <= 0) {
            problems.add("laneBitsPerSecond must be > 0, got " + laneBitsPerSecond);
        }
        if (framePayloadBytes < 1) {
            problems.add("framePayloadBytes must be >= 1, got " + framePayloadBytes);
        }
        if (frameHeaderBytes < 0 || crcBytes < 0) {
            problems.add("frameHeaderBytes and crcBytes must be >= 0, got " + frameHeaderBytes + " and " + crcBytes);
        }
        checkNonNegativeFinite(problems, "hopLatencySeconds", hopLatencySeconds);
        checkNonNegativeFinite(problems, "trainingSeconds", trainingSeconds);
        checkNonNegativeFinite(problems, "hostLinkLatencySeconds", hostLinkLatencySeconds);
        if (creditFrames < 1) {
            problems.add("creditFrames must be >= 1, got " + creditFrames);
        }
        if (!(reduceBytesPerSecond > 0) || Double.isInfinite(reduceBytesPerSecond)) {
            problems.add("reduceBytesPerSecond must be a finite number > 0, got " + reduceBytesPerSecond);
        }
        if (!(hostLinkBytesPerSecond > 0) || Double.isInfinite(hostLinkBytesPerSecond)) {
            problems.add("hostLinkBytesPerSecond must be a finite number > 0, got " + hostLinkBytesPerSecond);
        }
        return problems;
    }

    public LinkParameters requireValid() {
        List<String> problems = violations();
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException("link parameters refused: " + String.join("; ", problems));
        }
        return this;
    }

    private static void checkNonNegativeFinite(List<String> problems, String name, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            problems.add(name + " must be a finite number >= 0, got " + value);
        }
    }
}
