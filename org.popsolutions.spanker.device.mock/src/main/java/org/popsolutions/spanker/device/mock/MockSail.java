package org.popsolutions.spanker.device.mock;

import java.util.List;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.api.topology.TopologyKind;

/** One in-process card. Compute happens on the host. */
final class MockSail implements SailDevice {
    private final Card card;
    private final TopologyKind cabling;
    private final List<Link> outgoingLinks;

    MockSail(MockCardsSpec spec, int index) {
        this.card = spec.card(index);
        this.cabling = spec.kind();
        this.outgoingLinks = List.copyOf(spec.outgoingLinks(index));
    }

    @Override
    public Card card() {
        return card;
    }

    @Override
    public TopologyKind cabling() {
        return cabling;
    }

    @Override
    public List<Link> outgoingLinks() {
        return outgoingLinks;
    }

    @Override
    public String toString() {
        return "MockSail[" + card.name() + ", " + cabling + "]";
    }
}
