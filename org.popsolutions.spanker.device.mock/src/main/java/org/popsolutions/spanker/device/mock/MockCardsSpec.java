package org.popsolutions.spanker.device.mock;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.config.ConfigProperties;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.TopologyKind;

/** A validated mock configuration and the cards and links it stands for. */
record MockCardsSpec(int cards, TopologyKind kind, long memoryBytes, long linkBandwidth, double linkLatency) {
    static final int MAX_CARDS = 256;
    static final String PROVIDER = "mock";
    /** The metatype defaults: the rev-A ring of four. */
    static final MockCardsSpec DEFAULT = new MockCardsSpec(4, TopologyKind.RING, 4_294_967_296L, 500_000_000L, 1.0e-6);

    /**
     * The configuration as Config Admin delivered it. Zero cards is how the mock stands aside while another
     * provider (sails, pcie) drives the cards; the console's {@code topology --cards} refuses 0, and the topology's
     * NoSails message names this property.
     */
    static MockCardsSpec from(ConfigProperties config) {
        int cards = config.intWithin("cards", DEFAULT.cards(), 0, MAX_CARDS);
        TopologyKind kind = TopologyKind.valueOf(config.choice("kind", DEFAULT.kind().name(), "RING", "MESH"));
        long memory = config.longWithin("memoryBytes", DEFAULT.memoryBytes(), 1, Long.MAX_VALUE);
        long bandwidth = config.longWithin("linkBandwidthBytesPerSecond", DEFAULT.linkBandwidth(), 1, Long.MAX_VALUE);
        double latency = config.doubleWithin("linkLatencySeconds", DEFAULT.linkLatency(), 0, 3600);
        return new MockCardsSpec(cards, kind, memory, bandwidth, latency);
    }

    Card card(int index) {
        return new Card(index, PROVIDER + index, PROVIDER, memoryBytes);
    }

    /** The links leaving {@code index}, every one UP, in {@link TopologyKind#directedPairs} order. */
    List<Link> outgoingLinks(int index) {
        List<Link> links = new ArrayList<>();
        for (int[] pair : kind.directedPairs(cards)) {
            if (pair[0] == index) {
                links.add(new Link(pair[0], pair[1], LinkState.UP, linkBandwidth, linkLatency));
            }
        }
        return links;
    }
}
