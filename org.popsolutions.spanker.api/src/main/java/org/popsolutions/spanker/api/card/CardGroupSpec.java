package org.popsolutions.spanker.api.card;

import java.util.Objects;
import org.popsolutions.spanker.api.topology.Topology;

/**
 * The cards to open: one per card of {@code topology} (its index, name and memory), cabled as its links say, each
 * link in the state it lists.
 *
 * @param shaping rates to hold transfers to, or null to run as fast as the host can
 */
public record CardGroupSpec(Topology topology, LinkShaping shaping) {
    public CardGroupSpec {
        Objects.requireNonNull(topology, "topology");
    }

    public static CardGroupSpec unshaped(Topology topology) {
        return new CardGroupSpec(topology, null);
    }
}
