package org.popsolutions.spanker.scheduler;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * Builds a {@link Topology} from whatever cards are registered. Like the device enumeration, it takes
 * cards 0, 1, 2, … and stops at the first missing index; links to cards beyond it are left out.
 */
final class TopologyAssembly {
    private TopologyAssembly() {
    }

    /** {@code null} when no card with index 0 is registered. */
    static Topology assemble(Collection<SailDevice> devices) {
        Map<Integer, SailDevice> byIndex = new TreeMap<>();
        for (SailDevice device : devices) {
            byIndex.putIfAbsent(device.card().index(), device);
        }
        List<Card> cards = new ArrayList<>();
        while (byIndex.containsKey(cards.size())) {
            cards.add(byIndex.get(cards.size()).card());
        }
        if (cards.isEmpty()) {
            return null;
        }
        TopologyKind kind = byIndex.get(0).cabling();
        List<Link> links = new ArrayList<>();
        for (Card card : cards) {
            for (Link link : byIndex.get(card.index()).outgoingLinks()) {
                if (link.remote() < cards.size()) {
                    links.add(link);
                }
            }
        }
        return new Topology(kind, cards, links);
    }
}
