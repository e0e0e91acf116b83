package org.popsolutions.spanker.strategy.search;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;

/**
 * The cards and the links that are UP, costed with the link model's α (hop latency), β (1 / sustained payload
 * rate) and γ (1 / reduce rate), step by step on the actual routes: a step lasts its longest route's hops·α, plus
 * the bytes on its busiest directed link times β, plus the most bytes any card reduces times γ, so links shared by
 * several messages of a step are counted. Messages follow the shortest path over UP links (breadth first, links in
 * topology order, which on a ring goes downstream on a tie as the scheduler's routes do); a link that is DOWN,
 * TRAINING or FAULT is never used.
 *
 * <p>The chain is the card order plans are laid along: a path through every card over links UP both ways when
 * there is one (a ring with all links UP gives 0, 1, …, p−1), so that contiguous groups sit on neighbours.
 */
final class Network {
    /** The allreduce algorithms a group can use; rd and hd need a power-of-two group. */
    static final List<CollectiveAlgorithm> ALGORITHMS = List.of(CollectiveAlgorithm.RING,
            CollectiveAlgorithm.RECURSIVE_DOUBLING, CollectiveAlgorithm.HALVING_DOUBLING, CollectiveAlgorithm.DIRECT);

    private final int cards;
    private final int[][] next;
    private final int[][] hops;
    private final boolean[][] up;
    private final double alpha;
    private final double beta;
    private final double gamma;
    private final LinkModel links;
    private final int[] chain;
    private final int[] chainPosition;

    Network(Topology topology, LinkModel links) {
        this.cards = topology.cardCount();
        this.links = links;
        this.alpha = links.parameters().hopLatencySeconds();
        this.beta = 1 / links.flowControl().sustainedBytesPerSecond();
        this.gamma = 1 / links.parameters().reduceBytesPerSecond();
        this.up = new boolean[cards][cards];
        List<List<Integer>> neighbours = new ArrayList<>();
        for (int c = 0; c < cards; c++) {
            neighbours.add(new ArrayList<>());
        }
        for (Link link : topology.links()) {
            if (link.state() == LinkState.UP && !up[link.local()][link.remote()]) {
                up[link.local()][link.remote()] = true;
                neighbours.get(link.local()).add(link.remote());
            }
        }
        this.next = new int[cards][cards];
        this.hops = new int[cards][cards];
        for (int source = 0; source < cards; source++) {
            bfs(source, neighbours);
        }
        this.chain = chainOf();
        this.chainPosition = new int[cards];
        for (int i = 0; i < chain.length; i++) {
            chainPosition[chain[i]] = i;
        }
    }

    /** Fills next[source][*] with the first hop of the route from source (−1 when unreachable). */
    private void bfs(int source, List<List<Integer>> neighbours) {
        int[] parent = new int[cards];
        Arrays.fill(parent, -2);
        Arrays.fill(hops[source], -1);
        parent[source] = -1;
        hops[source][source] = 0;
        ArrayDeque<Integer> queue = new ArrayDeque<>(List.of(source));
        while (!queue.isEmpty()) {
            int at = queue.poll();
            for (int to : neighbours.get(at)) {
                if (parent[to] == -2) {
                    parent[to] = at;
                    hops[source][to] = hops[source][at] + 1;
                    queue.add(to);
                }
            }
        }
        for (int target = 0; target < cards; target++) {
            if (target == source || parent[target] == -2) {
                next[source][target] = target == source ? source : -1;
                continue;
            }
            int hop = target;
            while (parent[hop] != source) {
                hop = parent[hop];
            }
            next[source][target] = hop;
        }
    }

    /** The longest simple path over links UP both ways (first found, cards tried in index order), then the rest. */
    private int[] chainOf() {
        int[] best = new int[0];
        for (int start = 0; start < cards && best.length < cards; start++) {
            int[] path = new int[cards];
            path[0] = start;
            boolean[] used = new boolean[cards];
            used[start] = true;
            int[] found = longest(path, 1, used, best);
            if (found.length > best.length) {
                best = found;
            }
        }
        int[] order = Arrays.copyOf(best, cards);
        boolean[] placed = new boolean[cards];
        for (int c : best) {
            placed[c] = true;
        }
        int at = best.length;
        for (int c = 0; c < cards; c++) {
            if (!placed[c]) {
                order[at++] = c;
            }
        }
        return order;
    }

    private int[] longest(int[] path, int length, boolean[] used, int[] best) {
        if (length > best.length) {
            best = Arrays.copyOf(path, length);
        }
        if (best.length == cards) {
            return best;
        }
        int last = path[length - 1];
        for (int c = 0; c < cards; c++) {
            if (!used[c] && up[last][c] && up[c][last]) {
                used[c] = true;
                path[length] = c;
                best = longest(path, length + 1, used, best);
                used[c] = false;
                if (best.length == cards) {
                    return best;
                }
            }
        }
        return best;
    }

    int cards() {
        return cards;
    }

    int[] chain() {
        return chain.clone();
    }

    int card(int chainIndex) {
        return chain[chainIndex];
    }

    int position(int card) {
        return chainPosition[card];
    }

    boolean linkUp(int from, int to) {
        return up[from][to];
    }

    /** The cards a message visits from source to destination, both included; null when no UP route exists. */
    int[] route(int source, int destination) {
        if (hops[source][destination] < 0) {
            return null;
        }
        int[] path = new int[hops[source][destination] + 1];
        path[0] = source;
        for (int i = 1; i < path.length; i++) {
            path[i] = next[path[i - 1]][destination];
        }
        return path;
    }

    double hostSeconds(long bytes) {
        return links.hostTransferSeconds(bytes);
    }

    /** One message step: {from, to, bytes, reduce?1:0} per message, all sent at once. */
    private Terms step(List<double[]> messages) {
        double[] linkBytes = new double[cards * cards];
        double[] reduced = new double[cards];
        int stepHops = 0;
        for (double[] m : messages) {
            int[] path = route((int) m[0], (int) m[1]);
            if (path == null) {
                return Terms.IMPOSSIBLE;
            }
            stepHops = Math.max(stepHops, path.length - 1);
            for (int i = 0; i + 1 < path.length; i++) {
                linkBytes[path[i] * cards + path[i + 1]] += m[2];
            }
            if (m[3] != 0) {
                reduced[(int) m[1]] += m[2];
            }
        }
        double busiest = Arrays.stream(linkBytes).max().orElse(0);
        double reducer = Arrays.stream(reduced).max().orElse(0);
        return new Terms(0, busiest * beta + reducer * gamma, stepHops * alpha, 0);
    }

    /**
     * The hidden state from {@code source} to every card of {@code targets} in one step. A target no UP route
     * reaches gets it through the host (card to host, host to card, over GbE).
     */
    Terms handOff(int source, int[] targets, long bytes) {
        List<double[]> messages = new ArrayList<>();
        double relayed = 0;
        for (int t : targets) {
            if (t == source) {
                continue;
            }
            if (route(source, t) == null) {
                relayed += 2 * hostSeconds(bytes);
            } else {
                messages.add(new double[] {source, t, bytes, 0});
            }
        }
        Terms onLinks = messages.isEmpty() ? Terms.ZERO : step(messages);
        return onLinks.plus(new Terms(0, 0, 0, relayed));
    }

    /**
     * An allreduce of {@code bytes} per card over {@code group} (in chain order) by one algorithm; IMPOSSIBLE when
     * the algorithm cannot run on the group's size or a message has no UP route.
     */
    Terms allReduce(int[] group, double bytes, CollectiveAlgorithm algorithm) {
        int g = group.length;
        if (g <= 1) {
            return Terms.ZERO;
        }
        boolean powerOfTwo = Integer.bitCount(g) == 1;
        Terms total = Terms.ZERO;
        switch (algorithm) {
            case RING -> {
                for (int s = 0; s < 2 * (g - 1); s++) {
                    List<double[]> step = new ArrayList<>();
                    for (int i = 0; i < g; i++) {
                        step.add(new double[] {group[i], group[(i + 1) % g], bytes / g, s < g - 1 ? 1 : 0});
                    }
                    total = total.plus(step(step));
                }
            }
            case RECURSIVE_DOUBLING -> {
                if (!powerOfTwo) {
                    return Terms.IMPOSSIBLE;
                }
                for (int distance = 1; distance < g; distance <<= 1) {
                    List<double[]> step = new ArrayList<>();
                    for (int i = 0; i < g; i++) {
                        step.add(new double[] {group[i], group[i ^ distance], bytes, 1});
                    }
                    total = total.plus(step(step));
                }
            }
            case HALVING_DOUBLING -> {
                if (!powerOfTwo) {
                    return Terms.IMPOSSIBLE;
                }
                double size = bytes;
                List<Integer> distances = new ArrayList<>();
                for (int distance = g >> 1; distance >= 1; distance >>= 1) {
                    size /= 2;
                    distances.add(distance);
                    total = total.plus(step(exchange(group, distance, size, true)));
                }
                for (int i = distances.size() - 1; i >= 0; i--) {
                    total = total.plus(step(exchange(group, distances.get(i), size, false)));
                    size *= 2;
                }
            }
            case DIRECT -> {
                for (int phase = 0; phase < 2; phase++) {
                    List<double[]> step = new ArrayList<>();
                    for (int i = 0; i < g; i++) {
                        for (int j = 0; j < g; j++) {
                            if (i != j) {
                                step.add(new double[] {group[i], group[j], bytes / g, phase == 0 ? 1 : 0});
                            }
                        }
                    }
                    total = total.plus(step(step));
                }
            }
            default -> {
                return Terms.IMPOSSIBLE;
            }
        }
        return total;
    }

    private static List<double[]> exchange(int[] group, int distance, double size, boolean reduce) {
        List<double[]> step = new ArrayList<>();
        for (int i = 0; i < group.length; i++) {
            step.add(new double[] {group[i], group[i ^ distance], size, reduce ? 1 : 0});
        }
        return step;
    }

    /** The cheapest algorithm for the group (the first of {@link #ALGORITHMS} on a tie), null when none can run. */
    CollectiveAlgorithm best(int[] group, double bytes) {
        CollectiveAlgorithm best = null;
        double seconds = Double.POSITIVE_INFINITY;
        for (CollectiveAlgorithm a : ALGORITHMS) {
            double s = allReduce(group, bytes, a).total();
            if (s < seconds) {
                seconds = s;
                best = a;
            }
        }
        return best;
    }
}
