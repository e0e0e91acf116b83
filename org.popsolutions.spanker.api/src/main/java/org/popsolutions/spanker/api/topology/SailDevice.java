package org.popsolutions.spanker.api.topology;

import java.util.List;

/**
 * One card, as a device provider registers it: one service per card. The scheduler assembles the
 * {@link Topology} from every registered card.
 *
 * <p>Service properties: {@value #CARD_INDEX} (Integer), {@value #PROVIDER} (String).
 */
public interface SailDevice {
    String CARD_INDEX = "spanker.card.index";
    String PROVIDER = "spanker.provider";

    Card card();

    /** How the card's provider cabled it. */
    TopologyKind cabling();

    /** The links leaving this card, in the provider's canonical order. */
    List<Link> outgoingLinks();
}
