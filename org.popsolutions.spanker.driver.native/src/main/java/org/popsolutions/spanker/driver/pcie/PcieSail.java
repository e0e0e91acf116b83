package org.popsolutions.spanker.driver.pcie;

import java.util.List;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.api.topology.TopologyKind;

/** One card the kernel driver exposes as a node. */
record PcieSail(Card card, TopologyKind cabling, List<Link> outgoingLinks) implements SailDevice {
    PcieSail {
        outgoingLinks = List.copyOf(outgoingLinks);
    }
}
