package org.popsolutions.spanker.scheduler.link;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveEstimate;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.FlowControl;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.scheduler.collective.ScheduleCost;
import org.popsolutions.spanker.scheduler.collective.Schedules;

/**
 * The link model's arithmetic for one parameter set.
 *
 * <ul>
 * <li>Coded rate: lanes × lane rate / 8 × coding efficiency (rev-A: 4 × 1.25 Gbit/s × 8/10 = 500 MB/s).</li>
 * <li>Payload rate: coded rate × payload / (payload + header + CRC).</li>
 * <li>One way of an m-byte message: hop latency + (m + frames·(header + CRC)) / coded rate.</li>
 * <li>Flow control: credit-based; a credit comes back one hop-latency round trip after its frame left, so the
 *     sustained rate is min(payload rate, credits · payload / (frame time + 2 · hop latency)).</li>
 * <li>Collectives: α = hop latency, β = 1 / payload rate, γ = 1 / reduce rate, charged step by step on the
 *     actual schedule and routes ({@link ScheduleCost}).</li>
 * </ul>
 */
public final class LinkCalculator implements LinkModel {
    private final LinkParameters parameters;

    public LinkCalculator(LinkParameters parameters) {
        this.parameters = parameters.requireValid();
    }

    @Override
    public LinkParameters parameters() {
        return parameters;
    }

    /** Bytes per second on the wire after line coding, before framing. */
    public double codedBytesPerSecond() {
        return parameters.lanes() * (double) parameters.laneBitsPerSecond() / 8 * parameters.coding().efficiency();
    }

    private int frameOverheadBytes() {
        return parameters.frameHeaderBytes() + parameters.crcBytes();
    }

    @Override
    public double payloadBytesPerSecond() {
        double payload = parameters.framePayloadBytes();
        return codedBytesPerSecond() * payload / (payload + frameOverheadBytes());
    }

    /** Time for one message of {@code payloadBytes} to cross one hop. */
    public double oneWaySeconds(long payloadBytes) {
        long frames = Math.max(1, (payloadBytes + parameters.framePayloadBytes() - 1) / parameters.framePayloadBytes());
        double wireBytes = payloadBytes + frames * (double) frameOverheadBytes();
        return parameters.hopLatencySeconds() + wireBytes / codedBytesPerSecond();
    }

    @Override
    public double roundTripSeconds(int payloadBytes) {
        if (payloadBytes < 0) {
            throw new IllegalArgumentException("packet size must be >= 0 bytes, got " + payloadBytes);
        }
        return 2 * oneWaySeconds(payloadBytes);
    }

    @Override
    public FlowControl flowControl() {
        double burst = payloadBytesPerSecond();
        double frameSeconds = (parameters.framePayloadBytes() + frameOverheadBytes()) / codedBytesPerSecond();
        double creditRoundTrip = frameSeconds + 2 * parameters.hopLatencySeconds();
        double creditRate = parameters.creditFrames() * (double) parameters.framePayloadBytes() / creditRoundTrip;
        return new FlowControl(burst, Math.min(burst, creditRate), creditRoundTrip,
                (long) parameters.creditFrames() * parameters.framePayloadBytes(), creditRate < burst);
    }

    /** Seconds per payload byte on the links: the credit-limited rate when credits bind. */
    public double betaSecondsPerByte() {
        return 1 / flowControl().sustainedBytesPerSecond();
    }

    public double gammaSecondsPerByte() {
        return 1 / parameters.reduceBytesPerSecond();
    }

    @Override
    public CollectiveEstimate estimate(CollectiveKind kind, CollectiveAlgorithm algorithm, TopologyKind cabling,
            int cards, long bytesPerCard) {
        if (algorithm == CollectiveAlgorithm.AUTO) {
            return rank(kind, cabling, cards, bytesPerCard).get(0);
        }
        if (bytesPerCard < 0 || bytesPerCard / Float.BYTES > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("bytes per card must be within 0.." + (Integer.MAX_VALUE - 8L) * 4
                    + ", got " + bytesPerCard);
        }
        if (cards < 1) {
            throw new IllegalArgumentException("card count must be >= 1, got " + cards);
        }
        int elements = (int) (bytesPerCard / Float.BYTES);
        return ScheduleCost.evaluate(Schedules.build(kind, algorithm, cards, elements, 0), cabling,
                parameters.hopLatencySeconds(), betaSecondsPerByte(), gammaSecondsPerByte(), Float.BYTES);
    }

    @Override
    public List<CollectiveEstimate> rank(CollectiveKind kind, TopologyKind cabling, int cards, long bytesPerCard) {
        List<CollectiveEstimate> estimates = new ArrayList<>();
        for (CollectiveAlgorithm algorithm : Schedules.algorithmsFor(kind)) {
            estimates.add(estimate(kind, algorithm, cabling, cards, bytesPerCard));
        }
        // Compared at picosecond resolution so that summation noise cannot break a tie; the sort is stable,
        // so equal times keep the order of algorithmsFor (the simpler, neighbour-only algorithms first).
        estimates.sort(Comparator.comparingLong(e -> Math.round(e.totalSeconds() * 1e12)));
        return estimates;
    }

    @Override
    public Optional<String> lastRejection() {
        return Optional.empty();
    }

    @Override
    public double hostTransferSeconds(long bytes) {
        return parameters.hostLinkLatencySeconds() + bytes / parameters.hostLinkBytesPerSecond();
    }
}
