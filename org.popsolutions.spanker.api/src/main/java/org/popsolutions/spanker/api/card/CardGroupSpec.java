package org.popsolutions.spanker.api.card;

import java.util.Objects;
import org.popsolutions.spanker.api.topology.Topology;

/**
 * The cards to open: one per card of {@code topology} (its index, name and memory), cabled as its links say, each
 * link in the state it lists.
 *
 * @param shaping rates to hold transfers to, or null to run as fast as the host can
 * @param hostThreadsPerCard for providers that compute on the host (the mock): worker threads per card, 0 for the
 *        provider's own choice; providers of real or emulated cards ignore it
 */
public record CardGroupSpec(Topology topology, LinkShaping shaping, int hostThreadsPerCard) {
    public CardGroupSpec {
        Objects.requireNonNull(topology, "topology");
        if (hostThreadsPerCard < 0) {
            throw new IllegalArgumentException("host threads per card must be >= 0, got " + hostThreadsPerCard);
        }
    }

    /** Unshaped, the provider's choice of threads. */
    public static CardGroupSpec of(Topology topology) {
        return new CardGroupSpec(topology, null, 0);
    }
}
