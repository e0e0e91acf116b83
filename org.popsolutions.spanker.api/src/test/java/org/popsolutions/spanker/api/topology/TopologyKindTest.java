package org.popsolutions.spanker.api.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class TopologyKindTest {

    private static String pairs(TopologyKind kind, int cards) {
        return String.join(" ", kind.directedPairs(cards).stream().map(p -> p[0] + ">" + p[1]).toList());
    }

    @Test
    void meshHasNTimesNMinusOneLinks() {
        assertEquals(0, TopologyKind.MESH.directedPairs(0).size());
        assertEquals(0, TopologyKind.MESH.directedPairs(1).size());
        assertEquals(2, TopologyKind.MESH.directedPairs(2).size());
        assertEquals(12, TopologyKind.MESH.directedPairs(4).size());
        assertEquals(56, TopologyKind.MESH.directedPairs(8).size());
    }

    @Test
    void meshListsLinksLocalMajor() {
        assertEquals("0>1 0>2 1>0 1>2 2>0 2>1", pairs(TopologyKind.MESH, 3));
    }

    @Test
    void ringLinksEachCardToItsTwoNeighbours() {
        assertEquals("", pairs(TopologyKind.RING, 1));
        assertEquals("0>1 1>0", pairs(TopologyKind.RING, 2));
        assertEquals("0>1 0>3 1>2 1>0 2>3 2>1 3>0 3>2", pairs(TopologyKind.RING, 4));
    }

    @Test
    void negativeCardCountIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> TopologyKind.RING.directedPairs(-1));
    }

    @Test
    void linkStateCodesAreTheTwoBitHardwareCodes() {
        assertEquals(List.of(0, 1, 2, 3),
                List.of(LinkState.DOWN.code(), LinkState.TRAINING.code(), LinkState.UP.code(), LinkState.FAULT.code()));
        for (LinkState state : LinkState.values()) {
            assertEquals(state, LinkState.fromCode(state.code()));
        }
        assertThrows(IllegalArgumentException.class, () -> LinkState.fromCode(4));
    }

    @Test
    void onlyUpCarriesData() {
        assertEquals(List.of(LinkState.UP),
                List.of(LinkState.values()).stream().filter(LinkState::carriesData).toList());
    }

    @Test
    void uniformTopologyHasEveryLinkUpInCanonicalOrder() {
        Topology ring = Topology.uniform(TopologyKind.RING, 4, "host", 7, 500, 1e-6);
        assertEquals(List.of("host0", "host1", "host2", "host3"), ring.cards().stream().map(Card::name).toList());
        assertEquals(8, ring.links().size());
        assertEquals(new Link(0, 3, LinkState.UP, 500, 1e-6), ring.links().get(1));
        assertEquals(0, Topology.uniform(TopologyKind.MESH, 0, "x", 0, 1, 0).cardCount());
    }

    @Test
    void topologyRefusesCardsOutOfOrderAndLinksToMissingCards() {
        Card card0 = new Card(0, "a", "test", 0);
        Card card1 = new Card(1, "b", "test", 0);
        assertThrows(IllegalArgumentException.class,
                () -> new Topology(TopologyKind.RING, List.of(card1, card0), List.of()));
        Link toMissing = new Link(0, 2, LinkState.UP, 1, 0);
        assertThrows(IllegalArgumentException.class,
                () -> new Topology(TopologyKind.RING, List.of(card0, card1), List.of(toMissing)));
    }

    @Test
    void aRingRoutesTheShorterWayDownstreamOnATieAndAMeshDirectly() {
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {1, 2, 3}, TopologyKind.RING.route(4, 1, 3));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {0, 4, 3}, TopologyKind.RING.route(5, 0, 3));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {0, 1}, TopologyKind.RING.route(2, 0, 1));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {0, 3}, TopologyKind.MESH.route(4, 0, 3));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {2}, TopologyKind.RING.route(4, 2, 2));
    }
}
