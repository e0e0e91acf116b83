package org.popsolutions.spanker.api.link;

import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;
import org.popsolutions.spanker.api.topology.TopologyKind;

/** The inter-card link model in effect (configured through Config Admin). */
@ProviderType
public interface LinkModel {
    LinkParameters parameters();

    /** Payload bytes per second in one direction after line coding, framing and CRC. */
    double payloadBytesPerSecond();

    /** Round trip of a {@code payloadBytes} packet between neighbouring cards, and back. */
    double roundTripSeconds(int payloadBytes);

    FlowControl flowControl();

    /** Seconds to move {@code bytes} from the host to one card over the GbE host link. */
    double hostTransferSeconds(long bytes);

    /**
     * Seconds to load {@code bytesPerCard[c]} bytes onto each card c at once, as the host's NIC setting allows
     * ({@link LinkParameters#loadSeconds}).
     *
     * @since 1.2
     */
    default double loadSeconds(long... bytesPerCard) {
        return parameters().loadSeconds(bytesPerCard);
    }

    /** Why the most recent configuration was refused, if it was; the previous model stayed in effect. */
    Optional<String> lastRejection();

    /**
     * The predicted time of one collective of {@code bytesPerCard} bytes per card on {@code cards} cards cabled
     * as {@code kind}.
     *
     * @throws IllegalArgumentException when the algorithm cannot run that collective (e.g. a tree allgather)
     */
    CollectiveEstimate estimate(CollectiveKind kind, CollectiveAlgorithm algorithm, TopologyKind cabling, int cards,
            long bytesPerCard);

    /** The algorithms that can run the collective on that cabling, cheapest first. */
    List<CollectiveEstimate> rank(CollectiveKind kind, TopologyKind cabling, int cards, long bytesPerCard);
}
