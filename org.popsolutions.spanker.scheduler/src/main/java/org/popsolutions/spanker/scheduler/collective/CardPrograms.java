package org.popsolutions.spanker.scheduler.collective;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.popsolutions.spanker.api.card.CardIdentity;
import org.popsolutions.spanker.api.card.Combine;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * Turns a {@link Schedule} into each card's ops: sends, forwards along the route, receives, and the folds that keep
 * the schedule's summation order.
 *
 * <p>A step's messages move in hop rounds: in round 0 every source sends (all data is read before anything in the
 * step is written, as a step requires); in round r the cards r hops down a message's route forward it or, at its
 * destination, receive it. Every card lists a round's ops in one canonical order (destination, offset, source), so
 * each link's messages are taken in the order they were put on it, and a sequential run in round order never waits
 * for a message not yet sent: the cards' programs cannot deadlock.
 *
 * <p>A range that receives one message combines it on receive (SUM is commutative, and tagged MAX/MIN pick the
 * same winner whichever side holds it). A range that receives several is folded in card order with the receiver's
 * own data in its place, as {@code combineInCardOrder} did on the host ({@link Fold}); its receives are taken as
 * late as the links' order allows, in the order the fold wants them ({@link LateReceives}).
 */
final class CardPrograms {
    private CardPrograms() {
    }

    /** Where a card's staging area is: float values and (tagged runs) one tag byte per value. */
    record Staging(Slice values, Slice tags) {
    }

    /** Staging space each card needs, in values: the most any step stages on it. */
    static int[] stagingValues(Schedule schedule) {
        int p = schedule.cards();
        int[] most = new int[p];
        for (List<Transfer> step : schedule.steps()) {
            int[] need = new int[p];
            for (List<Transfer> group : groups(step, p)) {
                if (group.size() > 1) {
                    for (Transfer t : group) {
                        need[t.destination()] += t.length();
                    }
                }
            }
            for (int c = 0; c < p; c++) {
                most[c] = Math.max(most[c], need[c]);
            }
        }
        return most;
    }

    static Combine combineOf(ReduceOp op) {
        return switch (op) {
            case SUM, AVG -> Combine.SUM;
            case MAX -> Combine.MAX;
            case MIN -> Combine.MIN;
        };
    }

    /**
     * Appends the schedule's ops to {@code ops} (one list per card).
     *
     * @param work each card's working range ({@code schedule.workLength()} values)
     * @param tags each card's origin tags (one byte per value) for MAX/MIN, or null for SUM/AVG
     * @param staging each card's staging area, at least {@link #stagingValues} long
     */
    static void append(Schedule schedule, TopologyKind cabling, List<CardIdentity> cards, ReduceOp op,
            List<Slice> work, List<Slice> tags, List<Staging> staging, List<List<Op>> ops) {
        int p = schedule.cards();
        Combine combine = combineOf(op);
        boolean tagged = tags != null;
        if (tagged) {
            for (int c = 0; c < p; c++) {
                ops.get(c).add(new Op.TagOrigins(combine, work.get(c), tags.get(c), c));
            }
        }
        for (List<Transfer> step : schedule.steps()) {
            appendStep(step, p, cabling, cards, combine, work, tags, staging, ops);
        }
    }

    private static void appendStep(List<Transfer> step, int p, TopologyKind cabling, List<CardIdentity> cards,
            Combine combine, List<Slice> work, List<Slice> tags, List<Staging> staging, List<List<Op>> ops) {
        boolean tagged = tags != null;
        List<Transfer> order = new ArrayList<>(step);
        order.sort(CANONICAL);
        // which messages are staged, and where
        List<List<Transfer>> groups = groups(step, p);
        java.util.Map<Transfer, Integer> stagedAt = new java.util.IdentityHashMap<>();
        int[] cursor = new int[p];
        for (List<Transfer> group : groups) {
            if (group.size() > 1) {
                for (Transfer t : group) {
                    stagedAt.put(t, cursor[t.destination()]);
                    cursor[t.destination()] += t.length();
                }
            }
        }
        java.util.Map<Transfer, Fold> folds = new java.util.IdentityHashMap<>();
        for (List<Transfer> group : groups) {
            if (group.size() > 1) {
                Fold fold = new Fold(group, combine, work, tags, staging.get(group.get(0).destination()), stagedAt);
                group.forEach(t -> folds.put(t, fold));
            }
        }
        int[][] paths = new int[order.size()][];
        int rounds = 0;
        for (int i = 0; i < order.size(); i++) {
            Transfer t = order.get(i);
            paths[i] = Routes.path(cabling, p, t.source(), t.destination());
            rounds = Math.max(rounds, paths[i].length - 1);
        }
        for (int i = 0; i < order.size(); i++) {
            Transfer t = order.get(i);
            int source = t.source();
            ops.get(source).add(new Op.Send(port(cards, source, paths[i][1]), values(work, source, t),
                    tagged ? tagRange(tags, source, t) : Slice.NONE));
        }
        List<LateReceives> pending = new ArrayList<>(p);
        for (int c = 0; c < p; c++) {
            pending.add(new LateReceives(ops.get(c)));
        }
        for (int r = 1; r <= rounds; r++) {
            for (int i = 0; i < order.size(); i++) {
                int[] path = paths[i];
                if (path.length - 1 < r) {
                    continue;
                }
                Transfer t = order.get(i);
                int at = path[r];
                int in = port(cards, at, path[r - 1]);
                if (r < path.length - 1) {
                    long bytes = (long) t.length() * Float.BYTES + (tagged ? t.length() : 0);
                    pending.get(at).takeBefore(in);
                    ops.get(at).add(new Op.Forward(in, port(cards, at, path[r + 1]), bytes));
                } else if (folds.containsKey(t)) {
                    pending.get(at).arrives(t, in, folds.get(t));
                } else {
                    pending.get(at).arrives(in, new Op.Receive(in, values(work, at, t),
                            tagged ? tagRange(tags, at, t) : Slice.NONE, t.reduce() ? combine : Combine.COPY));
                }
            }
        }
        for (LateReceives card : pending) {
            card.takeAll();
        }
        for (Fold fold : new java.util.LinkedHashSet<>(folds.values())) {
            fold.finish();
        }
    }

    /**
     * One card's receives of a step, taken as late as each link's order allows. A link's messages are taken in the
     * order they were put on it, by the card's receives and forwards alike, so a receive is put off only until the
     * next op that takes from its link; the rest wait for the end of the step. So the card forwards what others wait
     * for before it copies or folds what is its own, and a fold takes its messages in the order it wants them (a
     * message taken when its turn comes combines on receive instead of being staged and folded later: one pass over
     * the data instead of two). Taking a message later than its canonical round never makes a run wait for a message
     * not yet sent, so the cards' programs still cannot deadlock.
     */
    private static final class LateReceives {
        /** A message on its way to this card: a fold's ({@code transfer}, {@code fold}) or a plain receive. */
        private record Arrival(int port, Transfer transfer, Fold fold, Op receive) {
            boolean wanted() {
                return fold == null || fold.wants(transfer);
            }

            void take(List<Op> ops) {
                if (fold == null) {
                    ops.add(receive);
                } else {
                    fold.take(transfer, port, ops);
                }
            }
        }

        private final List<Op> ops;
        /** Per port, in the order they are on the link. */
        private final java.util.Map<Integer, java.util.ArrayDeque<Arrival>> byPort = new java.util.TreeMap<>();

        LateReceives(List<Op> ops) {
            this.ops = ops;
        }

        void arrives(Transfer t, int port, Fold fold) {
            queue(port).add(new Arrival(port, t, fold, null));
        }

        void arrives(int port, Op.Receive receive) {
            queue(port).add(new Arrival(port, null, null, receive));
        }

        private java.util.ArrayDeque<Arrival> queue(int port) {
            return byPort.computeIfAbsent(port, k -> new java.util.ArrayDeque<>());
        }

        /** Another op takes from {@code port} next: the receives before it on that link are taken first. */
        void takeBefore(int port) {
            java.util.ArrayDeque<Arrival> queue = byPort.get(port);
            while (queue != null && !queue.isEmpty()) {
                queue.poll().take(ops);
            }
        }

        /** The end of the step: every receive put off, the messages the folds want first. */
        void takeAll() {
            while (true) {
                java.util.ArrayDeque<Arrival> next = null;
                java.util.ArrayDeque<Arrival> blocking = null;
                java.util.ArrayDeque<Arrival> any = null;
                for (java.util.ArrayDeque<Arrival> queue : byPort.values()) {
                    Arrival head = queue.peek();
                    if (head == null) {
                        continue;
                    }
                    if (head.wanted()) {
                        next = queue;
                        break;
                    }
                    if (blocking == null && queue.stream().anyMatch(Arrival::wanted)) {
                        blocking = queue;
                    }
                    if (any == null) {
                        any = queue;
                    }
                }
                next = next != null ? next : blocking != null ? blocking : any;
                if (next == null) {
                    return;
                }
                next.poll().take(ops);
            }
        }
    }

    /**
     * The messages of one range, folded in card order with the receiver's own data at its place: F = ((a0 ⊕ a1) ⊕ a2)
     * ⊕ …. Each ⊕ is commutative (SUM's float addition; tagged MAX/MIN pick the same winner whichever side holds
     * it), which leaves two freedoms that save passes over the data without changing a bit of the result: the first
     * two terms may come in either order, and each partial fold may be kept where either of its operands is. So the
     * accumulator is the receiver's own range from its turn on (and from the start when it is among the first two):
     * no copy at the end. Before that it is the staging slot of the first message taken. A message that comes before
     * its turn waits in its staging slot and is folded when its turn comes.
     */
    private static final class Fold {
        private final Combine combine;
        final int destination;
        /** Card order: the senders below the receiver, the receiver ({@code null}), the senders above it. */
        private final List<Transfer> order = new ArrayList<>();
        private final java.util.Set<Transfer> staged = java.util.Collections.newSetFromMap(
                new java.util.IdentityHashMap<>());
        private final Slice own;
        private final Slice ownTags;
        private final Staging staging;
        private final java.util.Map<Transfer, Integer> stagedAt;
        private final int length;
        private final boolean tagged;
        /** Where the fold so far is (null until its first message is taken when the receiver is not among the first two). */
        private Slice acc;
        private Slice accTags;
        /** Index in {@link #order} of what is folded next. */
        private int next;

        Fold(List<Transfer> group, Combine combine, List<Slice> work, List<Slice> tags, Staging staging,
                java.util.Map<Transfer, Integer> stagedAt) {
            Transfer first = group.get(0);
            this.combine = combine;
            this.destination = first.destination();
            this.staging = staging;
            this.stagedAt = stagedAt;
            this.length = first.length();
            this.tagged = tags != null;
            this.own = values(work, destination, first);
            this.ownTags = tagged ? tagRange(tags, destination, first) : Slice.NONE;
            for (Transfer t : group) {
                if (t.source() > destination && !order.contains(null)) {
                    order.add(null);
                }
                order.add(t);
            }
            if (!order.contains(null)) {
                order.add(null);
            }
            if (order.get(1) == null) {
                // a0 ⊕ own = own ⊕ a0
                java.util.Collections.swap(order, 0, 1);
            }
            if (order.get(0) == null) {
                acc = own;
                accTags = ownTags;
                next = 1;
            }
        }

        private Slice slot(Transfer t) {
            return staging.values().sub((long) stagedAt.get(t) * Float.BYTES, (long) length * Float.BYTES);
        }

        private Slice slotTags(Transfer t) {
            return tagged ? staging.tags().sub(stagedAt.get(t), length) : Slice.NONE;
        }

        /** Whether {@code t}, taken now, combines on receive. */
        boolean wants(Transfer t) {
            if (acc == null) {
                return order.get(0) == t || order.get(1) == t;
            }
            return next < order.size() && order.get(next) == t;
        }

        /** The receive of {@code t} on port {@code in}, then whatever has become due. */
        void take(Transfer t, int in, List<Op> card) {
            if (!wants(t)) {
                card.add(new Op.Receive(in, slot(t), slotTags(t), Combine.COPY));
                staged.add(t);
                return;
            }
            if (acc == null) {
                if (order.get(1) == t) {
                    java.util.Collections.swap(order, 0, 1);
                }
                acc = slot(t);
                accTags = slotTags(t);
                card.add(new Op.Receive(in, acc, accTags, Combine.COPY));
            } else {
                card.add(new Op.Receive(in, acc, accTags, combine));
            }
            next++;
            while (next < order.size()) {
                Transfer due = order.get(next);
                if (due == null) {
                    // F ⊕ own, kept in the receiver's own range
                    card.add(new Op.Reduce(combine, own, ownTags, acc, accTags));
                    acc = own;
                    accTags = ownTags;
                } else if (staged.remove(due)) {
                    card.add(new Op.Reduce(combine, acc, accTags, slot(due), slotTags(due)));
                } else {
                    return;
                }
                next++;
            }
        }

        /** Every message has been received: the result is in the receiver's range. */
        void finish() {
            if (next != order.size() || acc != own) {
                throw new IllegalStateException("the fold into card " + destination + " is left at " + next + " of "
                        + order.size());
            }
        }
    }

    private static final Comparator<Transfer> CANONICAL = Comparator.comparingInt(Transfer::destination)
            .thenComparingInt(Transfer::offset).thenComparingInt(Transfer::source);

    /** A step's messages per destination range (same destination, offset and length), each sorted by source. */
    private static List<List<Transfer>> groups(List<Transfer> step, int p) {
        List<Transfer> sorted = new ArrayList<>(step);
        sorted.sort(Comparator.comparingInt(Transfer::destination).thenComparingInt(Transfer::offset)
                .thenComparingInt(Transfer::length).thenComparingInt(Transfer::source));
        List<List<Transfer>> groups = new ArrayList<>();
        List<Transfer> current = null;
        for (Transfer t : sorted) {
            if (current == null || !t.reduce() || current.get(0).destination() != t.destination()
                    || current.get(0).offset() != t.offset() || current.get(0).length() != t.length()
                    || !current.get(0).reduce()) {
                current = new ArrayList<>();
                groups.add(current);
            }
            current.add(t);
        }
        return groups;
    }

    private static int port(List<CardIdentity> cards, int from, int to) {
        int port = cards.get(from).portTo(to);
        if (port < 0) {
            throw new IllegalStateException("card " + from + " has no port to card " + to);
        }
        return port;
    }

    private static Slice values(List<Slice> work, int card, Transfer t) {
        return work.get(card).sub((long) t.offset() * Float.BYTES, (long) t.length() * Float.BYTES);
    }

    private static Slice tagRange(List<Slice> tags, int card, Transfer t) {
        return tags.get(card).sub(t.offset(), t.length());
    }
}
