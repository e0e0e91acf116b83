package org.popsolutions.spanker.scheduler.collective;

import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * Which links a message crosses. A mesh connects every pair directly; a ring forwards card to card the
 * shorter way round (downstream on a tie), so a message to a non-neighbour costs several hops.
 */
public final class Routes {
    private Routes() {
    }

    /** The cards visited from {@code source} to {@code destination}, both included. */
    public static int[] path(TopologyKind cabling, int cards, int source, int destination) {
        return cabling.route(cards, source, destination);
    }

    /** Dense index of the directed link local → remote. */
    static int linkIndex(int cards, int local, int remote) {
        return local * cards + remote;
    }
}
