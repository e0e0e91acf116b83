package org.popsolutions.spanker.runtime;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.collective.CollectiveEngine;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.device.mock.MockCardProvider;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;
import org.popsolutions.spanker.scheduler.link.LinkCalculator;

/**
 * Mock cards for tests: a topology with every link UP, the in-process mock card provider, and the scheduler's
 * collectives with the rev-A link model.
 */
public final class TestSupport {
    private TestSupport() {
    }

    public static Topology topology(TopologyKind kind, int cards) {
        List<Card> list = new ArrayList<>();
        for (int i = 0; i < cards; i++) {
            list.add(new Card(i, "mock" + i, "test", 4L << 30));
        }
        List<Link> links = new ArrayList<>();
        for (int[] pair : kind.directedPairs(cards)) {
            links.add(new Link(pair[0], pair[1], LinkState.UP, 500_000_000L, 1e-6));
        }
        return new Topology(kind, list, links);
    }

    public static CardProvider cards() {
        return new MockCardProvider();
    }

    public static ScheduledCollectives engine() {
        return new ScheduledCollectives(new LinkCalculator(LinkParameters.REV_A), cards());
    }

    public static void stop(CollectiveEngine engine) {
        ((ScheduledCollectives) engine).close();
    }
}
