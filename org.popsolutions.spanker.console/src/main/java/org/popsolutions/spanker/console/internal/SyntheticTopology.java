package org.popsolutions.spanker.console.internal;

import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * A topology of {@code cards} host-side cards, all links UP, for commands whose card count comes from the
 * command line (one buffer per card) rather than from the registered devices.
 */
final class SyntheticTopology {
    private SyntheticTopology() {
    }

    static Topology of(TopologyKind kind, int cards) {
        return Topology.uniform(kind, cards, "host", 0, BandwidthModel.INTERCARD_BW, 0);
    }
}
