package org.popsolutions.spanker.api.topology;

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

    public int cardCount() {
        return cards.size();
    }

    /** The link from {@code local} to {@code remote}, if they are cabled directly. */
    public Optional<Link> link(int local, int remote) {
        return links.stream().filter(l -> l.local() == local && l.remote() == remote).findFirst();
    }
}
