package org.popsolutions.spanker.device.mock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.config.ConfigProperties;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.device.mock.card.MockCardGroup;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.TopologyKind;

class MockCardsSpecTest {

    static ConfigProperties config(Object cards, Object kind) {
        return config(cards, kind, "");
    }

    static ConfigProperties config(Object cards, Object kind, String linkStates) {
        return new ConfigProperties(MockCardFleet.PID, Map.of("cards", cards, "kind", kind, "linkStates", linkStates));
    }

    /** The links the configured cards report as their SailDevice services. */
    private static List<Link> allLinks(MockCardsSpec spec) {
        List<Link> links = new ArrayList<>();
        for (int i = 0; i < spec.cards(); i++) {
            links.addAll(device(spec, i).outgoingLinks());
        }
        return links;
    }

    /** Card {@code index} of the configured cards, as the fleet registers it. */
    private static SailDevice device(MockCardsSpec spec, int index) {
        MockCardGroup cards = new MockCardGroup(CardGroupSpec.of(spec.topology()), MockCardsSpec.PROVIDER, null);
        try {
            return (SailDevice) cards.cards().get(index);
        } finally {
            cards.close();
        }
    }

    @Test
    void defaultsAreTheRevARingOfFour() {
        assertEquals(MockCardsSpec.DEFAULT, MockCardsSpec.from(config(4, "RING")));
        assertEquals(8, allLinks(MockCardsSpec.DEFAULT).size());
    }

    @Test
    void meshReproducesTheOriginalMockExactly() {
        assertEquals(0, allLinks(new MockCardsSpec(0, TopologyKind.MESH, 1, 1, 0, Map.of())).size());
        assertEquals(2, allLinks(MockCardsSpec.from(config(2, "MESH"))).size());
        List<Link> four = allLinks(MockCardsSpec.from(config(4, "mesh")));
        assertEquals(12, four.size());
        assertTrue(four.stream().allMatch(l -> l.state() == LinkState.UP));
        List<String> order = four.stream().map(l -> l.local() + ">" + l.remote()).toList();
        assertEquals(List.of("0>1", "0>2", "0>3", "1>0", "1>2", "1>3", "2>0", "2>1", "2>3", "3>0", "3>1", "3>2"),
                order);
    }

    @Test
    void ringGivesEachCardLinksToItsTwoNeighbours() {
        assertEquals(0, allLinks(MockCardsSpec.from(config(1, "RING"))).size());
        assertEquals(2, allLinks(MockCardsSpec.from(config(2, "RING"))).size());
        MockCardsSpec eight = MockCardsSpec.from(config(8, "RING"));
        assertEquals(16, allLinks(eight).size());
        assertEquals(List.of("5>6", "5>4"),
                device(eight, 5).outgoingLinks().stream().map(l -> l.local() + ">" + l.remote()).toList());
    }

    @Test
    void cardsAreNamedAfterTheProviderWithTheConfiguredMemory() {
        SailDevice sail = device(MockCardsSpec.DEFAULT, 3);
        assertEquals("mock3", sail.card().name());
        assertEquals("mock", sail.card().provider());
        assertEquals(4_294_967_296L, sail.card().memoryBytes());
        assertEquals(TopologyKind.RING, sail.cabling());
    }

    @Test
    void invalidConfigurationsAreRefusedWithTheRule() {
        InvalidConfigurationException count = assertThrows(InvalidConfigurationException.class,
                () -> MockCardsSpec.from(config(257, "RING")));
        assertTrue(count.getMessage().contains("0..256"), count.getMessage());
        assertThrows(InvalidConfigurationException.class, () -> MockCardsSpec.from(config(-1, "RING")));
        InvalidConfigurationException kind = assertThrows(InvalidConfigurationException.class,
                () -> MockCardsSpec.from(config(4, "TORUS")));
        assertTrue(kind.getMessage().contains("RING, MESH"), kind.getMessage());
    }

    @Test
    void textThatDoesNotParseAndZeroBandwidthAreRefusedByName() {
        for (Map<String, Object> bad : List.<Map<String, Object>>of(Map.of("cards", "abc"), Map.of("cards", 2.5),
                Map.of("linkBandwidthBytesPerSecond", 0), Map.of("memoryBytes", "lots"),
                Map.of("linkLatencySeconds", "NaN"))) {
            InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class,
                    () -> MockCardsSpec.from(new ConfigProperties(MockCardFleet.PID, bad)), bad.toString());
            assertTrue(e.getMessage().contains(bad.keySet().iterator().next()), e.getMessage());
        }
    }

    @Test
    void theReadmeNotationIsAccepted() {
        MockCardsSpec spec = MockCardsSpec.from(new ConfigProperties(MockCardFleet.PID,
                Map.of("cards", "8", "memoryBytes", "4e9", "linkBandwidthBytesPerSecond", "5e8")));
        assertEquals(8, spec.cards());
        assertEquals(4_000_000_000L, spec.memoryBytes());
    }

    @Test
    void linkStatesSetTheNamedDirectedLinksAndLeaveTheRestUp() {
        MockCardsSpec spec = MockCardsSpec.from(config(4, "ring", "0-1=DOWN, 3-0=training"));
        assertEquals(org.popsolutions.spanker.api.topology.LinkState.DOWN, link(spec, 0, 1).state());
        assertEquals(org.popsolutions.spanker.api.topology.LinkState.UP, link(spec, 1, 0).state());
        assertEquals(org.popsolutions.spanker.api.topology.LinkState.TRAINING, link(spec, 3, 0).state());
    }

    @Test
    void aLinkStateForALinkTheCablingLacksOrAnUnknownStateIsRefused() {
        InvalidConfigurationException notALink = assertThrows(InvalidConfigurationException.class,
                () -> MockCardsSpec.from(config(4, "ring", "0-2=DOWN")));
        assertTrue(notALink.getMessage().contains("'0-2=DOWN'"), notALink.getMessage());
        assertThrows(InvalidConfigurationException.class, () -> MockCardsSpec.from(config(4, "ring", "0-1=BROKEN")));
        assertThrows(InvalidConfigurationException.class, () -> MockCardsSpec.from(config(4, "ring", "0-1")));
    }

    private static org.popsolutions.spanker.api.topology.Link link(MockCardsSpec spec, int local, int remote) {
        return spec.outgoingLinks(local).stream().filter(l -> l.remote() == remote).findFirst().orElseThrow();
    }
}
