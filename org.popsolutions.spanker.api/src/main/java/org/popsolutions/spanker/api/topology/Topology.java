package org.popsolutions.spanker.api.topology;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The cards present and the directed links between them. Cards are listed in index order and their
 * indices are 0..n−1; links are listed local-major.
 */
public record Topology(TopologyKind kind, List<Card> cards, List<Link> links) {
    public Topology {
        Objects.requireNonNull(kind, "kind");
        cards = List.copyOf(cards);
        links = List.copyOf(links);
        for (int i = 0; i < cards.size(); i++) {
            if (cards.get(i).index() != i) {
                throw new IllegalArgumentException(
                        "cards must be listed by index 0..n-1; position " + i + " holds card " + cards.get(i).index());
            }
        }
        for (Link link : links) {
            if (link.local() >= cards.size() || link.remote() >= cards.size()) {
                throw new IllegalArgumentException("link " + link.local() + " -> " + link.remote()
                        + " names a card outside 0.." + (cards.size() - 1));
            }
        }
    }

    /**
     * {@code cards} cards named {@code provider0, provider1, …}, cabled as {@code kind} with every link UP at the
     * given bandwidth and latency: host-side cards for commands and tools whose card count is a parameter.
     */
    public static Topology uniform(TopologyKind kind, int cards, String provider, long memoryBytes,
            long linkBytesPerSecond, double linkLatencySeconds) {
        List<Card> cardList = new ArrayList<>();
        for (int i = 0; i < cards; i++) {
            cardList.add(new Card(i, provider + i, provider, memoryBytes));
        }
        List<Link> links = new ArrayList<>();
        for (int[] pair : kind.directedPairs(cards)) {
            links.add(new Link(pair[0], pair[1], LinkState.UP, linkBytesPerSecond, linkLatencySeconds));
        }
        return new Topology(kind, cardList, links);
    }

    public int cardCount() {
        return cards.size();
    }

    /** The link from {@code local} to {@code remote}, if they are cabled directly. */
    public Optional<Link> link(int local, int remote) {
        return links.stream().filter(l -> l.local() == local && l.remote() == remote).findFirst();
    }
}
