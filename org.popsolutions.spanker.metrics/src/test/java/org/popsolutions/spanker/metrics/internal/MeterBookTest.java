package org.popsolutions.spanker.metrics.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.NoSailsException;
import org.popsolutions.spanker.api.collective.CollectiveOutcome;
import org.popsolutions.spanker.api.collective.CollectiveRequest;
import org.popsolutions.spanker.api.collective.LinkTraffic;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveEstimate;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.runtime.ServingStatus;
import org.popsolutions.spanker.api.runtime.TokenEvent;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

class MeterBookTest {
    private final AtomicReference<Topology> cards = new AtomicReference<>(
            Topology.uniform(TopologyKind.RING, 4, "mock", 1L << 32, 500_000_000L, 1e-6));
    private final List<ServingStatus> serving = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final MeterBook meters = new MeterBook(() -> {
        Topology now = cards.get();
        if (now == null) {
            throw new NoSailsException("no cards");
        }
        return now;
    }, () -> serving);

    /** A serving endpoint's queue as the test sets it. */
    private static ServingStatus queue(int waiting, int running, long rejected) {
        return new ServingStatus() {
            @Override
            public int queueDepth() {
                return waiting;
            }

            @Override
            public int queueCapacity() {
                return 8;
            }

            @Override
            public int running() {
                return running;
            }

            @Override
            public long rejected() {
                return rejected;
            }
        };
    }

    @Test
    void tokensAndTheirRateAreCountedAndTheQueuesDepthIsRead() {
        // Micrometer's gauges hold what they read weakly: the queue gauges must survive a collection
        System.gc();
        String before = meters.prometheusText();
        assertTrue(before.contains("spanker_tokens_total 0.0"), before);
        assertTrue(before.contains("spanker_serve_queue_depth 0.0"), before);
        meters.recordToken(new TokenEvent(0, 5, "a", 0.010, 0.008, 0.02, 100.0));
        meters.recordToken(new TokenEvent(1, 6, "b", 0.030, 0.020, 0.02, 50.0));
        serving.add(queue(3, 1, 2));
        serving.add(queue(1, 0, 0));
        String text = meters.prometheusText();
        assertTrue(text.contains("spanker_tokens_total 2.0"), text);
        assertTrue(text.contains("spanker_tokens_per_second 50.0"), text);
        assertTrue(text.contains("spanker_token_seconds_count 2"), text);
        assertTrue(text.contains("spanker_token_seconds_sum 0.04"), text);
        assertTrue(text.contains("spanker_serve_queue_depth 4.0"), text);
        assertTrue(text.contains("spanker_serve_running 1.0"), text);
        assertTrue(text.contains("spanker_serve_rejected_total 2.0"), text);
        assertEquals(2, meters.tokenCount());
        assertEquals(50.0, meters.tokensPerSecond());
    }

    private static CollectiveOutcome outcome(long nanos, LinkTraffic... traffic) {
        CollectiveEstimate predicted = new CollectiveEstimate(CollectiveKind.ALL_REDUCE, CollectiveAlgorithm.RING, 4, 16,
                0, 0, 0, 6, 1);
        return new CollectiveOutcome(CollectiveAlgorithm.RING, List.of(), nanos, predicted, List.of(traffic));
    }

    private CollectiveRequest request() {
        List<float[]> buffers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            buffers.add(new float[] {i});
        }
        return CollectiveRequest.of(CollectiveKind.ALL_REDUCE, ReduceOp.SUM, cards.get(), buffers, CollectiveAlgorithm.RING);
    }

    @Test
    void cardsAndLinksAreReadFromTheTopologyAsPrometheusText() {
        String text = meters.prometheusText();
        assertTrue(text.contains("spanker_cards 4.0"), text);
        assertTrue(text.contains("spanker_card_memory_bytes{card=\"3\",name=\"mock3\"} 4.294967296E9"), text);
        assertTrue(text.contains("spanker_link_up{local=\"0\",remote=\"1\",state=\"UP\"} 1.0"), text);
        assertTrue(text.contains("# TYPE spanker_link_up gauge"), text);
    }

    @Test
    void aLinkThatGoesDownIsReportedWithItsState() {
        Topology ring = cards.get();
        List<Link> links = new ArrayList<>(ring.links());
        links.set(0, links.get(0).withState(LinkState.DOWN));
        cards.set(new Topology(ring.kind(), ring.cards(), links));
        Link down = links.get(0);
        String text = meters.prometheusText();
        assertTrue(text.contains("spanker_link_up{local=\"" + down.local() + "\",remote=\"" + down.remote()
                + "\",state=\"DOWN\"} 0.0"), text);
        assertFalse(text.contains("spanker_link_up{local=\"" + down.local() + "\",remote=\"" + down.remote()
                + "\",state=\"UP\"}"), text);
    }

    @Test
    void collectivesAreCountedAndTimedAndTheirBytesAddUpPerDirection() {
        meters.recordCollective(request(), outcome(2_000_000, new LinkTraffic(0, 1, 100, 2), new LinkTraffic(1, 0, 7, 1)));
        meters.recordCollective(request(), outcome(3_000_000, new LinkTraffic(0, 1, 50, 1)));
        assertEquals(2, meters.collectiveCount());
        assertEquals(0.005, meters.collectiveSeconds(), 1e-12);
        assertEquals(150, meters.linkTotals(0, 1)[0]);
        assertEquals(3, meters.linkTotals(0, 1)[1]);
        assertEquals(7, meters.linkTotals(1, 0)[0]);
        assertEquals(0, meters.linkTotals(2, 3)[0]);
        String text = meters.prometheusText();
        assertTrue(text.contains("spanker_collective_seconds_count{algorithm=\"RING\",kind=\"ALL_REDUCE\"} 2"), text);
        assertTrue(text.contains("spanker_link_bytes_total{local=\"0\",remote=\"1\"} 150.0"), text);
    }

    @Test
    void noCardsIsZeroCardsAndNoLinks() {
        meters.prometheusText();
        cards.set(null);
        String text = meters.prometheusText();
        assertTrue(text.contains("spanker_cards 0.0"), text);
        assertFalse(text.contains("spanker_link_up{"), text);
        assertFalse(text.contains("spanker_card_memory_bytes{"), text);
    }
}
