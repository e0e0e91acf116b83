package org.popsolutions.spanker.device.mock.card;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.popsolutions.spanker.api.topology.LinkState;

/**
 * One direction of a cable between two mock cards: a FIFO of messages, buffered without limit (the sender never
 * waits for the receiver's program), its training state, its counters and, when shaped, when it is free again.
 * Payload arrays are recycled, so a run that sends the same sizes over and over allocates nothing per message.
 */
final class MockLink {
    /** A message on its way: {@code count} floats (and tags) plus the times the shaping model gives it. */
    static final class Message {
        float[] values = new float[0];
        byte[] tags;
        int count;
        boolean tagged;
        /** When its last byte is off the busiest link of its path so far (shaped runs). */
        long doneNanos;
        int hops;

        long bytes() {
            return (long) count * Float.BYTES + (tagged ? count : 0);
        }
    }

    final int from;
    final int to;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Message> queue = new ArrayDeque<>();
    private final ArrayDeque<Message> spare = new ArrayDeque<>();
    private volatile LinkState state;
    private long busyUntilNanos;
    long sentBytes;
    long sentMessages;

    MockLink(int from, int to, LinkState state) {
        this.from = from;
        this.to = to;
        this.state = state;
    }

    LinkState state() {
        return state;
    }

    /** Sets the state and wakes receivers, which fail unless it is UP. */
    void setState(LinkState newState) {
        lock.lock();
        try {
            state = newState;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A message to fill, recycled if one is spare. */
    Message take(int count, boolean tagged) {
        Message m;
        lock.lock();
        try {
            m = spare.poll();
        } finally {
            lock.unlock();
        }
        if (m == null) {
            m = new Message();
        }
        if (m.values.length < count) {
            m.values = new float[count];
        }
        if (tagged && (m.tags == null || m.tags.length < count)) {
            m.tags = new byte[count];
        }
        m.count = count;
        m.tagged = tagged;
        return m;
    }

    /** Hands a consumed message back for reuse. */
    void recycle(Message m) {
        lock.lock();
        try {
            if (spare.size() < 64) {
                spare.add(m);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Books the link for a message that may start at {@code startNanos}; returns when its last byte is off this
     * link. Unshaped links return {@code startNanos}.
     */
    long book(long startNanos, long bytes, double secondsPerByte) {
        if (secondsPerByte <= 0) {
            return startNanos;
        }
        long occupancy = (long) (bytes * secondsPerByte * 1e9);
        lock.lock();
        try {
            long begin = Math.max(startNanos, busyUntilNanos);
            busyUntilNanos = begin + occupancy;
            return busyUntilNanos;
        } finally {
            lock.unlock();
        }
    }

    void put(Message m) {
        lock.lock();
        try {
            if (state != LinkState.UP) {
                throw new OpFailure("link " + from + " -> " + to + " is " + state + " (data passes only while UP)");
            }
            queue.add(m);
            sentBytes += m.bytes();
            sentMessages++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The next message, waiting up to {@code timeoutNanos}; fails when the link leaves UP or nothing comes. */
    Message next(long timeoutNanos) {
        lock.lock();
        try {
            long left = timeoutNanos;
            while (true) {
                if (state != LinkState.UP) {
                    throw new OpFailure("link " + from + " -> " + to + " is " + state
                            + " (data passes only while UP)");
                }
                Message m = queue.poll();
                if (m != null) {
                    return m;
                }
                if (left <= 0) {
                    throw new OpFailure("nothing arrived on link " + from + " -> " + to + " within "
                            + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms (the sending card's program has no"
                            + " matching send, or it failed)");
                }
                try {
                    left = changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new OpFailure("interrupted while waiting on link " + from + " -> " + to);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Messages sent and not yet taken. */
    int pending() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** Drops what is queued (a group closing, or a program that failed half way through a collective). */
    void drain() {
        lock.lock();
        try {
            queue.clear();
        } finally {
            lock.unlock();
        }
    }
}
