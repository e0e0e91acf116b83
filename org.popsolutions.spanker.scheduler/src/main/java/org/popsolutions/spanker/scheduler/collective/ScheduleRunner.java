package org.popsolutions.spanker.scheduler.collective;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.collective.LinkTraffic;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * Runs a schedule on mock cards: each card's part of a step is a task on the pool, so the cards work
 * concurrently. A step has two phases, separated by waiting for every card: sends (each source copies its
 * ranges onto the links, which count the bytes) and receives (each destination takes or combines what
 * arrived). Shaping holds every link to the model's rate and latency and every card's combining to the
 * model's reduce rate, by making the receiver wait until the bytes could have arrived.
 */
final class ScheduleRunner {
    /** Link and card rates for shaping; null fields mean unshaped. */
    record Shaping(double alphaSeconds, double betaSecondsPerByte, double gammaSecondsPerByte) {
    }

    private final Schedule schedule;
    private final TopologyKind cabling;
    private final ReduceOp op;
    private final float[][] work;
    private final byte[][] origins;
    private final Shaping shaping;
    private final ExecutorService pool;
    private final int p;
    private final int bytesPerElement;
    private final AtomicLongArray linkBytes;
    private final AtomicLongArray linkMessages;
    private final long[] linkBusyUntil;
    /** Below this many elements moved in a step, the cards' parts run on the calling thread. */
    private static final long INLINE_STEP_ELEMENTS = 16_384;
    private static final int INLINE_SHAPED_MAX_CARDS = 8;

    ScheduleRunner(Schedule schedule, TopologyKind cabling, ReduceOp op, float[][] work, byte[][] origins,
            Shaping shaping, ExecutorService pool) {
        this.schedule = schedule;
        this.cabling = cabling;
        this.op = op;
        this.work = work;
        this.origins = origins;
        this.shaping = shaping;
        this.pool = pool;
        this.p = schedule.cards();
        this.bytesPerElement = Float.BYTES + (origins == null ? 0 : 1);
        this.linkBytes = new AtomicLongArray(p * p);
        this.linkMessages = new AtomicLongArray(p * p);
        this.linkBusyUntil = new long[p * p];
    }

    /**
     * A transfer's data on its way: either a copy taken in the send phase, or (when no card of the step
     * writes where another reads) a view of the sender's own array, read directly by the receiver.
     */
    private record InFlight(Transfer transfer, float[] values, byte[] origins, int offset, long arrivalNanos) {
    }

    /** Runs every step; returns the elapsed nanoseconds. */
    long run() {
        long start = System.nanoTime();
        for (List<Transfer> step : schedule.steps()) {
            boolean staged = readsOverlapWrites(step);
            // Shaped steps end at absolute deadlines set by the model, and the host copies an order of magnitude
            // faster than the modelled links and cards, so a few cards' parts done in turn fit inside the window
            // (they run before the one wait); waking a thread per card would add more than it saves.
            boolean inline = shaping == null ? elementsMoved(step) < INLINE_STEP_ELEMENTS
                    : p <= INLINE_SHAPED_MAX_CARDS;
            List<List<Integer>> bySource = groupBy(step, true);
            List<List<Integer>> byDestination = groupBy(step, false);
            InFlight[] inFlight = new InFlight[step.size()];
            List<Callable<Void>> sends = new ArrayList<>();
            for (List<Integer> outgoing : bySource) {
                if (!outgoing.isEmpty()) {
                    sends.add(() -> {
                        for (int index : outgoing) {
                            inFlight[index] = send(step.get(index), staged);
                        }
                        return null;
                    });
                }
            }
            runAll(sends, inline);
            List<Callable<Void>> receives = new ArrayList<>();
            long[] doneBy = new long[p];
            for (int card = 0; card < p; card++) {
                List<Integer> incoming = byDestination.get(card);
                if (!incoming.isEmpty()) {
                    int destination = card;
                    receives.add(() -> {
                        List<InFlight> arrived = new ArrayList<>(incoming.size());
                        for (int index : incoming) {
                            arrived.add(inFlight[index]);
                        }
                        doneBy[destination] = receive(destination, arrived);
                        if (shaping != null && !inline) {
                            waitUntil(doneBy[destination], false);
                        }
                        return null;
                    });
                }
            }
            runAll(receives, inline);
            if (shaping != null && inline) {
                // Every card of the step has taken its data in; the step ends when the slowest would have.
                long last = Long.MIN_VALUE;
                for (long deadline : doneBy) {
                    last = Math.max(last, deadline);
                }
                waitUntil(last, true);
            }
        }
        return System.nanoTime() - start;
    }

    private InFlight send(Transfer t, boolean staged) {
        float[] values = work[t.source()];
        byte[] valueOrigins = origins == null ? null : origins[t.source()];
        int offset = t.offset();
        if (staged) {
            values = Arrays.copyOfRange(values, offset, offset + t.length());
            valueOrigins = valueOrigins == null ? null : Arrays.copyOfRange(valueOrigins, offset, offset + t.length());
            offset = 0;
        }
        int[] path = Routes.path(cabling, p, t.source(), t.destination());
        long bytes = (long) t.length() * bytesPerElement;
        for (int i = 0; i + 1 < path.length; i++) {
            int link = Routes.linkIndex(p, path[i], path[i + 1]);
            linkBytes.addAndGet(link, bytes);
            linkMessages.incrementAndGet(link);
        }
        long arrival = 0;
        if (shaping != null) {
            arrival = reserve(path, bytes);
        }
        return new InFlight(t, values, valueOrigins, offset, arrival);
    }

    /** Books the bytes on every link of the path; the message arrives when the last link is done. */
    private long reserve(int[] path, long bytes) {
        long now = System.nanoTime();
        long occupancy = (long) (bytes * shaping.betaSecondsPerByte() * 1e9);
        long done = now;
        synchronized (linkBusyUntil) {
            for (int i = 0; i + 1 < path.length; i++) {
                int link = Routes.linkIndex(p, path[i], path[i + 1]);
                long begin = Math.max(now, linkBusyUntil[link]);
                linkBusyUntil[link] = begin + occupancy;
                done = Math.max(done, begin + occupancy);
            }
        }
        return done + (long) ((path.length - 1) * shaping.alphaSeconds() * 1e9);
    }

    /** Takes or combines what arrived; returns when the card is done by the link model (shaped runs). */
    private long receive(int destination, List<InFlight> arrived) {
        long arrival = 0;
        for (InFlight message : arrived) {
            arrival = Math.max(arrival, message.arrivalNanos());
        }
        long reducedBytes = 0;
        // Messages into the same range combine in card order, the receiver's own data taking its place.
        arrived.sort((a, b) -> a.transfer().offset() != b.transfer().offset()
                ? Integer.compare(a.transfer().offset(), b.transfer().offset())
                : Integer.compare(a.transfer().source(), b.transfer().source()));
        int i = 0;
        while (i < arrived.size()) {
            int j = i;
            Transfer first = arrived.get(i).transfer();
            while (j < arrived.size() && arrived.get(j).transfer().offset() == first.offset()
                    && arrived.get(j).transfer().length() == first.length()) {
                j++;
            }
            List<InFlight> group = arrived.subList(i, j);
            if (first.reduce()) {
                combineInCardOrder(destination, group);
                reducedBytes += (long) group.size() * first.length() * Float.BYTES;
            } else {
                for (InFlight message : group) {
                    System.arraycopy(message.values(), message.offset(), work[destination], first.offset(),
                            first.length());
                    if (origins != null) {
                        System.arraycopy(message.origins(), message.offset(), origins[destination], first.offset(),
                                first.length());
                    }
                }
            }
            i = j;
        }
        // A card takes the bytes in as they arrive and combines at its reduce rate after the last one; the
        // host's own copying happens inside that window instead of adding to it.
        return shaping == null ? 0 : arrival + (long) (reducedBytes * shaping.gammaSecondsPerByte() * 1e9);
    }

    private void combineInCardOrder(int destination, List<InFlight> group) {
        Transfer first = group.get(0).transfer();
        int offset = first.offset();
        int length = first.length();
        byte[] ownOrigins = origins == null ? null : origins[destination];
        if (first.source() > destination) {
            for (InFlight m : group) {
                Combine.into(op, work[destination], ownOrigins, offset, m.values(), m.origins(), m.offset(), length);
            }
            return;
        }
        // Some sender precedes the receiver: fold from the lowest card into a scratch range, inserting the
        // receiver's own data at its place in card order.
        InFlight lowest = group.get(0);
        float[] acc = Arrays.copyOfRange(lowest.values(), lowest.offset(), lowest.offset() + length);
        byte[] accOrigins = ownOrigins == null ? null
                : Arrays.copyOfRange(lowest.origins(), lowest.offset(), lowest.offset() + length);
        boolean ownDone = false;
        for (int k = 1; k <= group.size(); k++) {
            if (!ownDone && (k == group.size() || group.get(k).transfer().source() > destination)) {
                Combine.into(op, acc, accOrigins, 0, work[destination], ownOrigins, offset, length);
                ownDone = true;
            }
            if (k < group.size()) {
                InFlight m = group.get(k);
                Combine.into(op, acc, accOrigins, 0, m.values(), m.origins(), m.offset(), length);
            }
        }
        System.arraycopy(acc, 0, work[destination], offset, length);
        if (ownOrigins != null) {
            System.arraycopy(accOrigins, 0, ownOrigins, offset, length);
        }
    }

    /**
     * Whether some card writes, in this step, a range another transfer of the step reads from it; only then
     * must senders copy their data out before receivers change anything.
     */
    private boolean readsOverlapWrites(List<Transfer> step) {
        List<List<int[]>> writes = new ArrayList<>(p);
        for (int card = 0; card < p; card++) {
            writes.add(new ArrayList<>());
        }
        for (Transfer t : step) {
            writes.get(t.destination()).add(new int[] {t.offset(), t.offset() + t.length()});
        }
        for (Transfer t : step) {
            for (int[] written : writes.get(t.source())) {
                if (t.offset() < written[1] && written[0] < t.offset() + t.length()) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Sleeps until {@code deadline}: parked while far (a park overshoots by tens of microseconds), then spinning
     * when this thread runs the whole step, or yielding when the cards' threads may outnumber the cores.
     */
    private static void waitUntil(long deadline, boolean spin) {
        long remaining;
        while ((remaining = deadline - System.nanoTime()) > 0) {
            if (remaining > 250_000) {
                LockSupport.parkNanos(remaining - 200_000);
            } else if (spin) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    private static long elementsMoved(List<Transfer> step) {
        long elements = 0;
        for (Transfer t : step) {
            elements += t.length();
        }
        return elements;
    }

    /**
     * Runs the cards' parts of a phase concurrently, or one after another on this thread when {@code inline}:
     * for a few kilobytes, waking a thread per card costs more than the copies (the result is the same, since a
     * phase's parts never touch the same data).
     */
    private void runAll(List<Callable<Void>> tasks, boolean inline) {
        if (inline || tasks.size() == 1) {
            for (Callable<Void> task : tasks) {
                callInline(task);
            }
            return;
        }
        runConcurrently(tasks);
    }

    private static void callInline(Callable<Void> task) {
        try {
            task.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new DeviceException("a mock card failed: " + e, e);
        }
    }

    private void runConcurrently(List<Callable<Void>> tasks) {
        try {
            for (Future<Void> f : pool.invokeAll(tasks)) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeviceException("collective interrupted", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new DeviceException("a mock card failed: " + cause, cause);
        }
    }

    /** Indices of the step's transfers per source (or destination) card. */
    private List<List<Integer>> groupBy(List<Transfer> step, boolean bySource) {
        List<List<Integer>> groups = new ArrayList<>(p);
        for (int card = 0; card < p; card++) {
            groups.add(new ArrayList<>());
        }
        for (int i = 0; i < step.size(); i++) {
            Transfer t = step.get(i);
            groups.get(bySource ? t.source() : t.destination()).add(i);
        }
        return groups;
    }

    List<LinkTraffic> traffic() {
        List<LinkTraffic> traffic = new ArrayList<>();
        for (int local = 0; local < p; local++) {
            for (int remote = 0; remote < p; remote++) {
                int link = Routes.linkIndex(p, local, remote);
                if (linkMessages.get(link) > 0) {
                    traffic.add(new LinkTraffic(local, remote, linkBytes.get(link), linkMessages.get(link)));
                }
            }
        }
        return traffic;
    }
}
