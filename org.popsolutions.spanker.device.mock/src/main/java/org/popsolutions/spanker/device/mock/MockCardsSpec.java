package org.popsolutions.spanker.device.mock;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.config.ConfigProperties;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

/** A validated mock configuration and the cards and links it stands for. */
record MockCardsSpec(int cards, TopologyKind kind, long memoryBytes, long linkBandwidth, double linkLatency,
        Map<String, LinkState> linkStates) {
    static final int MAX_CARDS = 256;
    static final String PROVIDER = "mock";
    /** The metatype defaults: the rev-A ring of four. */
    static final MockCardsSpec DEFAULT = new MockCardsSpec(4, TopologyKind.RING, 4_294_967_296L, 500_000_000L, 1.0e-6,
            Map.of());

    MockCardsSpec {
        linkStates = Map.copyOf(linkStates);
    }

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
        return new MockCardsSpec(cards, kind, memory, bandwidth, latency,
                linkStates(config.string("linkStates", ""), cards, kind));
    }

    /** {@code "0-1=DOWN,2-3=TRAINING"}: each pair must be a link of the cabling, each state not UP. */
    private static Map<String, LinkState> linkStates(String text, int cards, TopologyKind kind) {
        Map<String, LinkState> states = new HashMap<>();
        if (text == null || text.isBlank()) {
            return states;
        }
        Set<String> links = new HashSet<>();
        for (int[] pair : kind.directedPairs(cards)) {
            links.add(pair[0] + "-" + pair[1]);
        }
        for (String entry : text.split(",")) {
            String[] parts = entry.trim().split("=", -1);
            String link = parts[0].trim();
            if (parts.length != 2 || !links.contains(link)) {
                throw new InvalidConfigurationException("mock linkStates entry '" + entry.trim()
                        + "' must be local-remote=STATE for a link of the " + cards + "-card " + kind + ", e.g. 0-1=DOWN");
            }
            LinkState state;
            try {
                state = LinkState.valueOf(parts[1].trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigurationException("mock link state must be DOWN, TRAINING or FAULT, got '"
                        + parts[1].trim() + "'");
            }
            states.put(link, state);
        }
        return states;
    }

    Card card(int index) {
        return new Card(index, PROVIDER + index, PROVIDER, memoryBytes);
    }

    /** The configured cards and their links. */
    Topology topology() {
        List<Card> all = new ArrayList<>();
        List<Link> links = new ArrayList<>();
        for (int i = 0; i < cards; i++) {
            all.add(card(i));
            links.addAll(outgoingLinks(i));
        }
        return new Topology(kind, all, links);
    }

    /** The links leaving {@code index}, UP unless linkStates says otherwise, in {@link TopologyKind#directedPairs} order. */
    List<Link> outgoingLinks(int index) {
        List<Link> links = new ArrayList<>();
        for (int[] pair : kind.directedPairs(cards)) {
            if (pair[0] == index) {
                LinkState state = linkStates.getOrDefault(pair[0] + "-" + pair[1], LinkState.UP);
                links.add(new Link(pair[0], pair[1], state, linkBandwidth, linkLatency));
            }
        }
        return links;
    }
}
