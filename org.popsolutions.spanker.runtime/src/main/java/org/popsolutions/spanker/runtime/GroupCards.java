package org.popsolutions.spanker.runtime;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardIdentity;
import org.popsolutions.spanker.api.card.ForwardingCard;
import org.popsolutions.spanker.api.card.LinkPort;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * The cards of one tensor-parallel group as a card group of their own, so the group's allreduce is scheduled over
 * its cards and their links only (the other cards take no part, as the planner costs it). Card i of the view is the
 * group's i-th card; its identity lists only the ports to the group's other cards, numbered as in the view (the
 * port numbers stay the physical ones), so the ops the collectives build address the real links. Closing the view
 * closes nothing: the cards belong to the whole group.
 */
final class GroupCards implements CardGroup {
    private final Topology topology;
    private final List<SailCard> cards;

    private GroupCards(Topology topology, List<SailCard> cards) {
        this.topology = topology;
        this.cards = cards;
    }

    /**
     * The view of {@code members} (card indices of {@code whole}, in the group's order), or {@code null} when they are
     * not cabled as a group of their own: on a mesh every pair must be linked, on a ring each member to the next and
     * the last to the first (two neighbouring cards always are), every such link UP.
     */
    static CardGroup of(CardGroup whole, List<Integer> members) {
        Topology physical = whole.topology();
        int p = members.size();
        TopologyKind kind = physical.kind();
        List<Link> links = new ArrayList<>();
        for (int[] pair : kind.directedPairs(p)) {
            Link link = find(physical, members.get(pair[0]), members.get(pair[1]));
            if (link == null || link.state() != LinkState.UP) {
                return null;
            }
            links.add(new Link(pair[0], pair[1], link.state(), link.bandwidthBytesPerSecond(), link.latencySeconds()));
        }
        List<Card> cards = new ArrayList<>();
        List<SailCard> views = new ArrayList<>();
        for (int i = 0; i < p; i++) {
            Card card = physical.cards().get(members.get(i));
            cards.add(new Card(i, card.name(), card.provider(), card.memoryBytes(), card.timeDilation()));
            views.add(new Member(whole.cards().get(members.get(i)), i, members));
        }
        return new GroupCards(new Topology(kind, cards, links), List.copyOf(views));
    }

    private static Link find(Topology topology, int from, int to) {
        for (Link link : topology.links()) {
            if (link.local() == from && link.remote() == to) {
                return link;
            }
        }
        return null;
    }

    @Override
    public Topology topology() {
        return topology;
    }

    @Override
    public List<SailCard> cards() {
        return cards;
    }

    @Override
    public void close() {
        // The cards belong to the whole group.
    }

    /** One card of the group, with its identity in the group's numbering. */
    private static final class Member implements ForwardingCard {
        private final SailCard card;
        private final CardIdentity identity;

        Member(SailCard card, int index, List<Integer> members) {
            this.card = card;
            CardIdentity real = card.identity();
            List<LinkPort> ports = new ArrayList<>();
            for (LinkPort port : real.ports()) {
                int neighbour = members.indexOf(port.neighbourCard());
                if (neighbour >= 0) {
                    ports.add(new LinkPort(port.port(), neighbour, port.neighbourPort(),
                            port.bandwidthBytesPerSecond(), port.latencySeconds()));
                }
            }
            this.identity = new CardIdentity(index, real.name(), real.provider(), real.firmwareVersion(),
                    real.protocolVersion(), real.memoryBytes(), real.weightTypes(), real.ops(), ports);
        }

        @Override
        public SailCard delegate() {
            return card;
        }

        @Override
        public CardIdentity identity() {
            return identity;
        }
    }
}
