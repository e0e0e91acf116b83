package org.popsolutions.spanker.device.mock.card;

import org.popsolutions.spanker.api.topology.LinkState;

/** Where a mock card reports that one of its ports changed state. */
@FunctionalInterface
public interface LinkEventSink {
    void linkState(int card, int port, int neighbour, LinkState state, LinkState previous);
}
