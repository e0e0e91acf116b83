package org.popsolutions.spanker.api.topology;

import java.util.ArrayList;
import java.util.List;

/** How cards are cabled. rev-A cards have an upstream and a downstream port, hence {@link #RING}. */
public enum TopologyKind {
    /** Every card reaches every other directly: n·(n−1) directed links, listed local-major. */
    MESH,
    /** Each card reaches its two neighbours; for two cards the neighbours coincide (2 links), one card has none. */
    RING;

    /**
     * The directed (from, to) pairs of this cabling for {@code cards} cards, in canonical order: grouped by
     * the local card in ascending order; a ring lists each card's downstream neighbour before its upstream one.
     */
    public List<int[]> directedPairs(int cards) {
        if (cards < 0) {
            throw new IllegalArgumentException("card count must be >= 0, got " + cards);
        }
        List<int[]> pairs = new ArrayList<>();
        for (int local = 0; local < cards; local++) {
            if (this == MESH) {
                for (int remote = 0; remote < cards; remote++) {
                    if (remote != local) {
                        pairs.add(new int[] {local, remote});
                    }
                }
            } else if (cards > 1) {
                int downstream = (local + 1) % cards;
                int upstream = (local + cards - 1) % cards;
                pairs.add(new int[] {local, downstream});
                if (upstream != downstream) {
                    pairs.add(new int[] {local, upstream});
                }
            }
        }
        return pairs;
    }

    /**
     * The cards a message visits from {@code source} to {@code destination}, both included: directly on a mesh (and
     * between the two cards of a two-card ring); round a ring the shorter way, downstream on a tie, one hop per
     * neighbour.
     */
    public int[] route(int cards, int source, int destination) {
        if (source == destination) {
            return new int[] {source};
        }
        if (this == MESH || cards <= 2) {
            return new int[] {source, destination};
        }
        int downstream = Math.floorMod(destination - source, cards);
        int upstream = cards - downstream;
        int hops = Math.min(downstream, upstream);
        int direction = downstream <= upstream ? 1 : -1;
        int[] path = new int[hops + 1];
        for (int i = 0; i <= hops; i++) {
            path[i] = Math.floorMod(source + i * direction, cards);
        }
        return path;
    }
}
