package org.popsolutions.spanker.strategy.search;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveEstimate;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

class NetworkTest {

    /** On a whole ring or mesh the group costing reproduces the link model's own schedule costs term by term. */
    @Test
    void aWholeTopologyGroupCostsWhatTheLinkModelSays() {
        for (TopologyKind kind : TopologyKind.values()) {
            for (int p : new int[] {2, 4, 8}) {
                Topology topology = kind == TopologyKind.RING ? Fixtures.ring(p) : Fixtures.mesh(p);
                Network network = new Network(topology, Fixtures.LINKS);
                int[] group = network.chain();
                for (long bytes : new long[] {8192, 1 << 20}) {
                    for (CollectiveAlgorithm a : new CollectiveAlgorithm[] {CollectiveAlgorithm.RING,
                        CollectiveAlgorithm.RECURSIVE_DOUBLING, CollectiveAlgorithm.HALVING_DOUBLING}) {
                        CollectiveEstimate expected = Fixtures.LINKS.estimate(CollectiveKind.ALL_REDUCE, a, kind, p, bytes);
                        Terms actual = network.allReduce(group, bytes, a);
                        String what = kind + " p=" + p + " " + a + " " + bytes + " B";
                        assertEquals(expected.latencySeconds(), actual.latency(), 1e-12, what + " latency");
                        assertEquals(expected.transferSeconds() + expected.reduceSeconds(), actual.link(),
                                1e-9 * actual.link(), what + " transfer and reduce");
                    }
                }
            }
        }
    }

    @Test
    void aRingIsChainedInCardOrderAndAGroupOnASegmentPaysTheWrapAround() {
        Network network = new Network(Fixtures.ring(8), Fixtures.LINKS);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, network.chain());
        double alpha = Fixtures.LINKS.parameters().hopLatencySeconds();
        // Ring allreduce on 4 neighbours of 8: each of the 6 steps has the 3 -> 0 message going 3 hops back.
        Terms segment = network.allReduce(new int[] {0, 1, 2, 3}, 8192, CollectiveAlgorithm.RING);
        assertEquals(6 * 3 * alpha, segment.latency(), 1e-15);
        // The same four cards as a whole ring of four: one hop per step.
        Network four = new Network(Fixtures.ring(4), Fixtures.LINKS);
        assertEquals(6 * alpha, four.allReduce(four.chain(), 8192, CollectiveAlgorithm.RING).latency(), 1e-15);
    }

    @Test
    void routesNeverCrossALinkThatIsNotUp() {
        for (LinkState state : new LinkState[] {LinkState.DOWN, LinkState.TRAINING, LinkState.FAULT}) {
            Network network = new Network(Fixtures.withLink(Fixtures.ring(4), 1, 2, state), Fixtures.LINKS);
            assertFalse(network.linkUp(1, 2));
            assertArrayEquals(new int[] {1, 0, 3, 2}, network.route(1, 2), state.name());
            assertArrayEquals(new int[] {2, 3, 0, 1}, network.route(2, 1), state.name());
            // The chain goes round the broken link, so neighbouring groups sit on working links.
            assertArrayEquals(new int[] {1, 0, 3, 2}, network.chain(), state.name());
        }
    }

    @Test
    void cardsCutOffFromEachOtherCannotAllReduceAndHandOffThroughTheHost() {
        Topology cut = Fixtures.withLink(Fixtures.withLink(Fixtures.ring(4), 1, 2, LinkState.DOWN), 3, 0,
                LinkState.FAULT);
        Network network = new Network(cut, Fixtures.LINKS);
        assertNull(network.route(0, 2));
        assertFalse(network.allReduce(new int[] {1, 2}, 8192, CollectiveAlgorithm.RING).possible());
        assertNull(network.best(new int[] {0, 1, 2, 3}, 8192));
        Terms relay = network.handOff(1, new int[] {2}, 8192);
        assertEquals(2 * Fixtures.LINKS.hostTransferSeconds(8192), relay.host(), 1e-15);
        assertTrue(network.allReduce(new int[] {0, 1}, 8192, CollectiveAlgorithm.RING).possible());
    }
}
