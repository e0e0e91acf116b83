package org.popsolutions.spanker.device.mock;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.popsolutions.spanker.api.InvalidConfigurationException;
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

    static MockCardsSpec from(MockDeviceConfig config) {
        int cards = config.cards();
        if (cards < 0 || cards > MAX_CARDS) {
            throw new InvalidConfigurationException("mock card count must be within 0.." + MAX_CARDS + ", got " + cards);
        }
        TopologyKind kind;
        try {
            kind = TopologyKind.valueOf(config.kind().trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigurationException("mock topology kind must be RING or MESH, got '" + config.kind() + "'");
        }
        if (config.memoryBytes() < 0) {
            throw new InvalidConfigurationException("mock card memory must be >= 0 bytes, got " + config.memoryBytes());
        }
        if (config.linkBandwidthBytesPerSecond() < 0) {
            throw new InvalidConfigurationException(
                    "mock link bandwidth must be >= 0 bytes/s, got " + config.linkBandwidthBytesPerSecond());
        }
        if (!(config.linkLatencySeconds() >= 0) || Double.isInfinite(config.linkLatencySeconds())) {
            throw new InvalidConfigurationException(
                    "mock link latency must be a finite number >= 0 s, got " + config.linkLatencySeconds());
        }
        return new MockCardsSpec(cards, kind, config.memoryBytes(), config.linkBandwidthBytesPerSecond(),
                config.linkLatencySeconds());
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
