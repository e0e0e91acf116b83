package org.popsolutions.spanker.console.internal;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
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
        List<Card> cardList = new ArrayList<>();
        for (int i = 0; i < cards; i++) {
            cardList.add(new Card(i, "host" + i, "host", 0));
        }
        List<Link> links = new ArrayList<>();
        for (int[] pair : kind.directedPairs(cards)) {
            links.add(new Link(pair[0], pair[1], LinkState.UP, BandwidthModel.INTERCARD_BW, 0));
        }
        return new Topology(kind, cardList, links);
    }
}
