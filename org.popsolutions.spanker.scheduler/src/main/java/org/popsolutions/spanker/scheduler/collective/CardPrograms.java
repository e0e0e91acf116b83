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
 * own data in its place, as {@code combineInCardOrder} did on the host: into the receiver's range when its own data
 * comes first, else into the lowest sender's message; a message whose turn it is when it arrives is combined on
 * receive, one that arrives early waits in the staging area and is folded when its turn comes.
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
                    ops.get(at).add(new Op.Forward(in, port(cards, at, path[r + 1]), bytes));
                } else if (folds.containsKey(t)) {
                    folds.get(t).receive(t, in, ops.get(at));
                } else {
                    ops.get(at).add(new Op.Receive(in, values(work, at, t),
                            tagged ? tagRange(tags, at, t) : Slice.NONE, t.reduce() ? combine : Combine.COPY));
                }
            }
        }
        for (Fold fold : new java.util.LinkedHashSet<>(folds.values())) {
            fold.finish(ops.get(fold.destination));
        }
    }

    /**
     * The messages of one range, folded in card order with the receiver's own data at its place. The accumulator is
     * the receiver's range when its own data comes first, else the staging slot of the lowest sender's message (copied
     * into the range at the end). Messages are received in program order; each one whose turn it is is combined on
     * receive, the others wait in their staging slots, and whatever has become due is folded after each receive.
     */
    private static final class Fold {
        private final Combine combine;
        final int destination;
        /** Card order: the senders below the receiver, the receiver ({@code null}), the senders above it. */
        private final List<Transfer> order = new ArrayList<>();
        private final java.util.Set<Transfer> waiting = java.util.Collections.newSetFromMap(
                new java.util.IdentityHashMap<>());
        private final Slice own;
        private final Slice ownTags;
        private final Staging staging;
        private final java.util.Map<Transfer, Integer> stagedAt;
        private final int length;
        private final boolean tagged;
        private final Slice acc;
        private final Slice accTags;
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
            if (order.get(0) == null) {
                acc = own;
                accTags = ownTags;
                next = 1;
            } else {
                acc = slot(order.get(0));
                accTags = slotTags(order.get(0));
                next = 0;
            }
        }

        private Slice slot(Transfer t) {
            return staging.values().sub((long) stagedAt.get(t) * Float.BYTES, (long) length * Float.BYTES);
        }

        private Slice slotTags(Transfer t) {
            return tagged ? staging.tags().sub(stagedAt.get(t), length) : Slice.NONE;
        }

        /** The receive of {@code t} on port {@code in}, then what has become due. */
        void receive(Transfer t, int in, List<Op> card) {
            if (order.get(next) != t) {
                card.add(new Op.Receive(in, slot(t), slotTags(t), Combine.COPY));
                waiting.add(t);
                return;
            }
            card.add(next == 0 ? new Op.Receive(in, acc, accTags, Combine.COPY)
                    : new Op.Receive(in, acc, accTags, combine));
            next++;
            while (next < order.size()) {
                Transfer due = order.get(next);
                if (due == null) {
                    card.add(new Op.Reduce(combine, acc, accTags, own, ownTags));
                } else if (waiting.remove(due)) {
                    card.add(new Op.Reduce(combine, acc, accTags, slot(due), slotTags(due)));
                } else {
                    return;
                }
                next++;
            }
        }

        /** Every message has been received: the sum is in place (copied from the lowest sender's slot if there). */
        void finish(List<Op> card) {
            if (next != order.size()) {
                throw new IllegalStateException("the fold into card " + destination + " is left at " + next + " of "
                        + order.size());
            }
            if (acc != own) {
                card.add(new Op.Copy(acc, own));
                if (tagged) {
                    card.add(new Op.Copy(accTags, ownTags));
                }
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
