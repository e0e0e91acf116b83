package org.popsolutions.spanker.scheduler.collective;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveKind;

/**
 * Builds the schedule of each (collective, algorithm). Chunk c of a buffer of n elements split p ways is
 * [c·n/p, (c+1)·n/p), rounded down. Summation orders, which decide Sum/Avg rounding:
 * <ul>
 * <li>reference and direct: card order 0, 1, …, p−1, as the original;</li>
 * <li>ring: chunk c is folded c, c+1, …, p−1, 0, …, c−1 (it starts at its own card and travels the ring);</li>
 * <li>recursive doubling and halving-doubling: a binary tree: cards p'..p−1 first fold into card r−p'
 *     (p' the largest power of two ≤ p), then pairs, pairs of pairs, …</li>
 * </ul>
 * Every order is a sum of the same p terms, so |result − exact| ≤ (p−1)·2⁻²⁴·Σ|xᵢ| to first order.
 */
public final class Schedules {
    private Schedules() {
    }

    /** The algorithms that can run {@code kind}, in the order ties are broken. */
    public static List<CollectiveAlgorithm> algorithmsFor(CollectiveKind kind) {
        return kind.algorithms();
    }

    public static Schedule build(CollectiveKind kind, CollectiveAlgorithm algorithm, int cards, int elements, int root) {
        if (algorithm == CollectiveAlgorithm.AUTO) {
            throw new IllegalArgumentException("resolve AUTO through the link model before building a schedule");
        }
        if (!algorithmsFor(kind).contains(algorithm)) {
            throw new IllegalArgumentException("algorithm " + algorithm.label() + " cannot run " + kind.label()
                    + "; use one of " + algorithmsFor(kind).stream().map(CollectiveAlgorithm::label).toList());
        }
        if (cards < 1) {
            throw new IllegalArgumentException("a collective needs at least one card, got " + cards);
        }
        if (kind == CollectiveKind.BROADCAST && (root < 0 || root >= cards)) {
            throw new IllegalArgumentException("broadcast root must be a card 0.." + (cards - 1) + ", got " + root);
        }
        long work = kind == CollectiveKind.ALL_GATHER ? (long) cards * elements : elements;
        if (work > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(kind.label() + " of " + cards + " cards x " + elements
                    + " elements exceeds the largest Java array");
        }
        Builder b = new Builder(cards, elements, (int) work);
        switch (kind) {
            case ALL_REDUCE -> allReduce(b, algorithm);
            case REDUCE_SCATTER -> reduceScatter(b, algorithm);
            case ALL_GATHER -> allGather(b, algorithm);
            case BROADCAST -> broadcast(b, algorithm, root);
        }
        return new Schedule(kind, algorithm, cards, elements, (int) work, b.steps);
    }

    private static void allReduce(Builder b, CollectiveAlgorithm algorithm) {
        int p = b.cards;
        switch (algorithm) {
            case REFERENCE -> {
                foldIntoCardZero(b);
                b.step();
                for (int c = 1; c < p; c++) {
                    b.copy(0, c, 0, b.n);
                }
            }
            case RING -> {
                // Card r ends the reduce-scatter owning chunk r + 1, which the allgather then passes on.
                ringReduceScatter(b, 0);
                for (int s = 0; s < p - 1; s++) {
                    b.step();
                    for (int r = 0; r < p; r++) {
                        b.copyChunk(r, (r + 1) % p, Math.floorMod(r + 1 - s, p), p);
                    }
                }
            }
            case RECURSIVE_DOUBLING -> {
                int q = Integer.highestOneBit(p);
                foldExtrasIn(b, q);
                for (int mask = 1; mask < q; mask <<= 1) {
                    b.step();
                    for (int r = 0; r < q; r++) {
                        b.reduce(r, r ^ mask, 0, b.n);
                    }
                }
                copyResultToExtras(b, q);
            }
            case HALVING_DOUBLING -> {
                int q = Integer.highestOneBit(p);
                foldExtrasIn(b, q);
                int[][] owned = halvingReduceScatter(b, q);
                doublingAllGather(b, q, owned);
                copyResultToExtras(b, q);
            }
            case DIRECT -> {
                directReduceScatter(b);
                b.step();
                for (int r = 0; r < p; r++) {
                    for (int c = 0; c < p; c++) {
                        if (c != r) {
                            b.copyChunk(r, c, r, p);
                        }
                    }
                }
            }
            default -> throw new IllegalStateException(algorithm.name());
        }
    }

    private static void reduceScatter(Builder b, CollectiveAlgorithm algorithm) {
        int p = b.cards;
        switch (algorithm) {
            case REFERENCE -> {
                foldIntoCardZero(b);
                b.step();
                for (int c = 1; c < p; c++) {
                    b.copyChunk(0, c, c, p);
                }
            }
            // Shifted by one chunk so that card r ends owning chunk r.
            case RING -> ringReduceScatter(b, 1);
            case RECURSIVE_DOUBLING, HALVING_DOUBLING -> {
                int q = Integer.highestOneBit(p);
                foldExtrasIn(b, q);
                halvingReduceScatter(b, q);
                if (q != p) {
                    // Hand each card the part of its p-way chunk that the q-way halving left elsewhere.
                    b.step();
                    for (int r = 0; r < q; r++) {
                        int from = b.bound(r, q);
                        int to = b.bound(r + 1, q);
                        for (int c = 0; c < p; c++) {
                            int lo = Math.max(from, b.bound(c, p));
                            int hi = Math.min(to, b.bound(c + 1, p));
                            if (c != r && lo < hi) {
                                b.copy(r, c, lo, hi - lo);
                            }
                        }
                    }
                }
            }
            case DIRECT -> directReduceScatter(b);
            default -> throw new IllegalStateException(algorithm.name());
        }
    }

    /** The original's first half: every card's whole buffer folded into card 0, in card order. */
    private static void foldIntoCardZero(Builder b) {
        b.step();
        for (int c = 1; c < b.cards; c++) {
            b.reduce(c, 0, 0, b.n);
        }
    }

    /** p−1 neighbour steps; at step s card r passes chunk r − s − shift downstream, which folds it in. */
    private static void ringReduceScatter(Builder b, int shift) {
        int p = b.cards;
        for (int s = 0; s < p - 1; s++) {
            b.step();
            for (int r = 0; r < p; r++) {
                b.reduceChunk(r, (r + 1) % p, Math.floorMod(r - s - shift, p), p);
            }
        }
    }

    /** One step: every card sends chunk c to card c, which folds the p contributions in card order. */
    private static void directReduceScatter(Builder b) {
        int p = b.cards;
        b.step();
        for (int r = 0; r < p; r++) {
            for (int c = 0; c < p; c++) {
                if (c != r) {
                    b.reduceChunk(r, c, c, p);
                }
            }
        }
    }

    private static void allGather(Builder b, CollectiveAlgorithm algorithm) {
        int p = b.cards;
        int n = b.n;
        switch (algorithm) {
            case REFERENCE -> {
                b.step();
                for (int c = 1; c < p; c++) {
                    b.copy(c, 0, c * n, n);
                }
                b.step();
                for (int c = 1; c < p; c++) {
                    b.copy(0, c, 0, p * n);
                }
            }
            case RING -> {
                for (int s = 0; s < p - 1; s++) {
                    b.step();
                    for (int r = 0; r < p; r++) {
                        b.copy(r, (r + 1) % p, Math.floorMod(r - s, p) * n, n);
                    }
                }
            }
            case RECURSIVE_DOUBLING, HALVING_DOUBLING -> {
                int q = Integer.highestOneBit(p);
                List<TreeSet<Integer>> blocks = new ArrayList<>();
                for (int r = 0; r < q; r++) {
                    TreeSet<Integer> own = new TreeSet<>();
                    own.add(r);
                    blocks.add(own);
                }
                if (q != p) {
                    b.step();
                    for (int r = q; r < p; r++) {
                        b.copy(r, r - q, r * n, n);
                        blocks.get(r - q).add(r);
                    }
                }
                for (int mask = 1; mask < q; mask <<= 1) {
                    b.step();
                    List<TreeSet<Integer>> next = new ArrayList<>();
                    for (int r = 0; r < q; r++) {
                        for (int block : blocks.get(r)) {
                            b.copy(r, r ^ mask, block * n, n);
                        }
                        TreeSet<Integer> merged = new TreeSet<>(blocks.get(r));
                        merged.addAll(blocks.get(r ^ mask));
                        next.add(merged);
                    }
                    blocks = next;
                }
                copyResultToExtras(b, q);
            }
            case DIRECT -> {
                b.step();
                for (int r = 0; r < p; r++) {
                    for (int c = 0; c < p; c++) {
                        if (c != r) {
                            b.copy(r, c, r * n, n);
                        }
                    }
                }
            }
            default -> throw new IllegalStateException(algorithm.name());
        }
    }

    private static void broadcast(Builder b, CollectiveAlgorithm algorithm, int root) {
        int p = b.cards;
        switch (algorithm) {
            case REFERENCE, DIRECT -> {
                b.step();
                for (int c = 0; c < p; c++) {
                    if (c != root) {
                        b.copy(root, c, 0, b.n);
                    }
                }
            }
            case BINOMIAL_TREE -> {
                for (int mask = 1; mask < p; mask <<= 1) {
                    b.step();
                    for (int v = 0; v < mask && v + mask < p; v++) {
                        b.copy((v + root) % p, (v + mask + root) % p, 0, b.n);
                    }
                }
            }
            case RING -> {
                // A pipelined chain root → root+1 → …, the buffer cut into p pieces.
                int pieces = p;
                for (int s = 0; s < pieces + p - 2; s++) {
                    b.step();
                    for (int j = 0; j < p - 1; j++) {
                        int piece = s - j;
                        if (piece >= 0 && piece < pieces) {
                            b.copyChunk((j + root) % p, (j + 1 + root) % p, piece, pieces);
                        }
                    }
                }
            }
            default -> throw new IllegalStateException(algorithm.name());
        }
    }

    /** Cards q..p−1 fold their whole buffer into card r−q, so that a power of two of cards remains. */
    private static void foldExtrasIn(Builder b, int q) {
        if (q == b.cards) {
            return;
        }
        b.step();
        for (int r = q; r < b.cards; r++) {
            b.reduce(r, r - q, 0, b.n);
        }
    }

    private static void copyResultToExtras(Builder b, int q) {
        if (q == b.cards) {
            return;
        }
        b.step();
        for (int r = q; r < b.cards; r++) {
            b.copy(r - q, r, 0, b.workLength());
        }
    }

    /**
     * Recursive halving over q (a power of two) cards and q chunks: each step a card keeps the half of its
     * range holding its own chunk and sends the other half to its partner. Returns each card's final chunk
     * range [lo, hi) in chunk units (= [r, r+1)).
     */
    private static int[][] halvingReduceScatter(Builder b, int q) {
        int[][] range = new int[q][];
        for (int r = 0; r < q; r++) {
            range[r] = new int[] {0, q};
        }
        for (int mask = q >> 1; mask >= 1; mask >>= 1) {
            b.step();
            for (int r = 0; r < q; r++) {
                int lo = range[r][0];
                int hi = range[r][1];
                int mid = (lo + hi) >>> 1;
                boolean keepLower = (r & mask) == 0;
                int sendLo = keepLower ? mid : lo;
                int sendHi = keepLower ? hi : mid;
                b.reduce(r, r ^ mask, b.bound(sendLo, q), b.bound(sendHi, q) - b.bound(sendLo, q));
                range[r] = keepLower ? new int[] {lo, mid} : new int[] {mid, hi};
            }
        }
        return range;
    }

    private static void doublingAllGather(Builder b, int q, int[][] owned) {
        for (int mask = 1; mask < q; mask <<= 1) {
            b.step();
            int[][] next = new int[q][];
            for (int r = 0; r < q; r++) {
                int lo = owned[r][0];
                int hi = owned[r][1];
                b.copy(r, r ^ mask, b.bound(lo, q), b.bound(hi, q) - b.bound(lo, q));
                int[] partner = owned[r ^ mask];
                next[r] = new int[] {Math.min(lo, partner[0]), Math.max(hi, partner[1])};
            }
            owned = next;
        }
    }

    private static final class Builder {
        final int cards;
        final int n;
        final int workLength;
        final List<List<Transfer>> steps = new ArrayList<>();

        Builder(int cards, int n, int workLength) {
            this.cards = cards;
            this.n = n;
            this.workLength = workLength;
        }

        int workLength() {
            return workLength;
        }

        void step() {
            steps.add(new ArrayList<>());
        }

        int bound(int chunk, int chunks) {
            return (int) ((long) chunk * n / chunks);
        }

        void reduce(int source, int destination, int offset, int length) {
            add(new Transfer(source, destination, offset, length, true));
        }

        void copy(int source, int destination, int offset, int length) {
            add(new Transfer(source, destination, offset, length, false));
        }

        void reduceChunk(int source, int destination, int chunk, int chunks) {
            reduce(source, destination, bound(chunk, chunks), bound(chunk + 1, chunks) - bound(chunk, chunks));
        }

        void copyChunk(int source, int destination, int chunk, int chunks) {
            copy(source, destination, bound(chunk, chunks), bound(chunk + 1, chunks) - bound(chunk, chunks));
        }

        private void add(Transfer transfer) {
            if (transfer.length() > 0) {
                steps.get(steps.size() - 1).add(transfer);
            }
        }
    }
}
