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
 * same winner whichever side holds it). A range that receives several is staged and folded afterwards in card order
 * with the receiver's own data in its place, as {@code combineInCardOrder} did on the host.
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
                } else if (stagedAt.containsKey(t)) {
                    Staging s = staging.get(at);
                    int from = stagedAt.get(t);
                    ops.get(at).add(new Op.Receive(in, s.values().sub((long) from * Float.BYTES,
                            (long) t.length() * Float.BYTES),
                            tagged ? s.tags().sub(from, t.length()) : Slice.NONE, Combine.COPY));
                } else {
                    ops.get(at).add(new Op.Receive(in, values(work, at, t),
                            tagged ? tagRange(tags, at, t) : Slice.NONE, t.reduce() ? combine : Combine.COPY));
                }
            }
        }
        for (List<Transfer> group : groups) {
            if (group.size() > 1) {
                foldInCardOrder(group, combine, work, tags, staging, stagedAt, ops);
            }
        }
    }

    /** The staged messages of one range, folded in card order with the receiver's own data at its place. */
    private static void foldInCardOrder(List<Transfer> group, Combine combine, List<Slice> work, List<Slice> tags,
            List<Staging> staging, java.util.Map<Transfer, Integer> stagedAt, List<List<Op>> ops) {
        Transfer first = group.get(0);
        int d = first.destination();
        List<Op> card = ops.get(d);
        Slice own = values(work, d, first);
        Slice ownTags = tags == null ? Slice.NONE : tagRange(tags, d, first);
        Staging s = staging.get(d);
        java.util.function.IntFunction<Slice> stagedValues = k -> s.values().sub(
                (long) stagedAt.get(group.get(k)) * Float.BYTES, (long) first.length() * Float.BYTES);
        java.util.function.IntFunction<Slice> stagedTags = k -> tags == null ? Slice.NONE
                : s.tags().sub(stagedAt.get(group.get(k)), first.length());
        if (first.source() > d) {
            for (int k = 0; k < group.size(); k++) {
                card.add(new Op.Reduce(combine, own, ownTags, stagedValues.apply(k), stagedTags.apply(k)));
            }
            return;
        }
        Slice acc = stagedValues.apply(0);
        Slice accTags = stagedTags.apply(0);
        boolean ownDone = false;
        for (int k = 1; k <= group.size(); k++) {
            if (!ownDone && (k == group.size() || group.get(k).source() > d)) {
                card.add(new Op.Reduce(combine, acc, accTags, own, ownTags));
                ownDone = true;
            }
            if (k < group.size()) {
                card.add(new Op.Reduce(combine, acc, accTags, stagedValues.apply(k), stagedTags.apply(k)));
            }
        }
        card.add(new Op.Copy(acc, own));
        if (tags != null) {
            card.add(new Op.Copy(accTags, ownTags));
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
