package org.popsolutions.spanker.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.NoSailsException;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

class TopologyAssemblyTest {

    record FakeSail(Card card, TopologyKind cabling, List<Link> outgoingLinks) implements SailDevice {
    }

    static List<SailDevice> ring(int cards) {
        List<SailDevice> devices = new ArrayList<>();
        for (int i = 0; i < cards; i++) {
            List<Link> links = new ArrayList<>();
            for (int[] p : TopologyKind.RING.directedPairs(cards)) {
                if (p[0] == i) {
                    links.add(new Link(p[0], p[1], LinkState.UP, 500_000_000L, 1e-6));
                }
            }
            devices.add(new FakeSail(new Card(i, "f" + i, "fake", 1), TopologyKind.RING, links));
        }
        return devices;
    }

    @Test
    void cardsAreOrderedByIndexWhateverTheRegistrationOrder() {
        List<SailDevice> devices = ring(4);
        java.util.Collections.reverse(devices);
        Topology topology = TopologyAssembly.assemble(devices);
        assertEquals(List.of(0, 1, 2, 3), topology.cards().stream().map(Card::index).toList());
        assertEquals(TopologyKind.RING, topology.kind());
        assertEquals(8, topology.links().size());
        assertEquals(0, topology.links().get(0).local());
        assertEquals(3, topology.links().get(7).local());
    }

    @Test
    void assemblyStopsAtTheFirstMissingIndexAndDropsLinksBeyondIt() {
        List<SailDevice> devices = ring(4);
        devices.remove(2);
        Topology topology = TopologyAssembly.assemble(devices);
        assertEquals(2, topology.cardCount());
        // 0>1, 0>3 (dropped), 1>2 (dropped), 1>0
        assertEquals(2, topology.links().size());
    }

    @Test
    void noCardZeroMeansNoTopology() {
        List<SailDevice> devices = ring(3);
        devices.remove(0);
        assertNull(TopologyAssembly.assemble(devices));
        assertNull(TopologyAssembly.assemble(List.of()));
    }

    @Test
    void liveTopologyWithoutCardsReportsNoSails() {
        LiveTopology live = new LiveTopology();
        NoSailsException e = assertThrows(NoSailsException.class, live::current);
        assertEquals("NoSails", e.kind().label());
    }

    @Test
    void liveTopologyFollowsCardsComingAndGoing() {
        LiveTopology live = new LiveTopology();
        List<SailDevice> devices = ring(4);
        devices.forEach(live::addDevice);
        assertEquals(4, live.current().cardCount());
        live.removeDevice(devices.get(3));
        assertEquals(3, live.current().cardCount());
    }
}
