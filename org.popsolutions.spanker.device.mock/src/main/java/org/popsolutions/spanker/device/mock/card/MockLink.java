package org.popsolutions.spanker.device.mock.card;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.popsolutions.spanker.api.topology.LinkState;

/**
 * One direction of a cable between two mock cards: a FIFO of messages, buffered without limit (the sender never
 * waits for the receiver's program), its training state, its counters and, when shaped, when it is free again.
 * A message reads the sender's memory in place until it is taken or the sender changes those bytes (then it takes
 * a copy, {@link Message#keep}), so a step's data is copied once, by its receiver. Messages and their copy arrays are
 * recycled, so a run that sends the same sizes over and over allocates nothing per message.
 */
final class MockLink {
    /** A message on its way: {@code count} floats (and tags) plus the times the shaping model gives it. */
    static final class Message {
        /** Where the receiver reads: the sender's memory while lent, else {@link #values}/{@link #tags}. */
        float[] source;
        int sourceAt;
        byte[] tagSource;
        int tagSourceAt;
        private float[] values = new float[0];
        private byte[] tags;
        int count;
        boolean tagged;
        /**
         * Which use of this (recycled) message; a stale note of an earlier use must not touch it. Written under the
         * message's lock, last when a use begins, and volatile with {@link #lent} and {@link #consumed}: so
         * {@link #settled} reads all three without the lock, which the receiver holds while it reads the message.
         */
        private volatile long generation;
        private volatile boolean lent;
        private volatile boolean consumed;
        /** When its last byte is off the busiest link of its path so far (shaped runs). */
        long doneNanos;
        int hops;

        long bytes() {
            return (long) count * Float.BYTES + (tagged ? count : 0);
        }

        /** Makes the message read the sender's values (and tags) in place; returns this use's generation. */
        synchronized long lend(float[] values, int at, byte[] tagBytes, int tagAt) {
            begin(values, at, tagBytes, tagAt);
            return generation;
        }

        /** A new use: its fields first, its generation last (who reads that generation sees them). */
        private void begin(float[] values, int at, byte[] tagBytes, int tagAt) {
            source = values;
            sourceAt = at;
            tagSource = tagBytes;
            tagSourceAt = tagAt;
            lent = true;
            consumed = false;
            generation = generation + 1;
        }

        /** Makes the message carry a copy of the sender's values (and tags): cheaper than a loan when small. */
        synchronized void carry(float[] values, int at, byte[] tagBytes, int tagAt) {
            begin(values, at, tagBytes, tagAt);
            keep(generation);
        }

        /** Whether the message reads the sender's memory (the receiver then reads it holding the message's lock). */
        synchronized boolean lent() {
            return lent;
        }

        /** The sender is about to change what this use of the message reads: take a copy unless it is taken. */
        synchronized void keep(long use) {
            if (use != generation || !lent || consumed) {
                return;
            }
            if (values.length < count) {
                values = new float[count];
            }
            System.arraycopy(source, sourceAt, values, 0, count);
            source = values;
            sourceAt = 0;
            if (tagged) {
                if (tags == null || tags.length < count) {
                    tags = new byte[count];
                }
                System.arraycopy(tagSource, tagSourceAt, tags, 0, count);
                tagSource = tags;
                tagSourceAt = 0;
            }
            lent = false;
        }

        /**
         * Whether this use no longer reads the sender's memory (taken, copied, or the message reused). Without the
         * lock: the sender prunes its notes of lent messages at every op that writes, and must not wait while a
         * receiver reads a message that has nothing to do with the bytes it writes (at 8 MiB a fold holds a message
         * for hundreds of microseconds). A use settles once and for all, and a new use publishes its generation
         * last, so a false "settled" cannot be read; a stale "not settled" only keeps the note until the next op.
         */
        boolean settled(long use) {
            return use != generation || !lent || consumed;
        }

        /** The receiver is done reading; called holding the message's lock, which {@link #keep} also takes. */
        void consumed() {
            consumed = true;
            source = null;
            tagSource = null;
        }
    }

    final int from;
    final int to;
    private final ArrayDeque<Message> queue = new ArrayDeque<>();
    private final ArrayDeque<Message> spare = new ArrayDeque<>();
    private volatile LinkState state;
    /** The card at the receiving end (set once the group's cards exist), and whether it waits on this link. */
    MockCard receiver;
    private boolean receiverWaiting;
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

    /** Sets the state and wakes a waiting receiver, which fails unless it is UP. */
    void setState(LinkState newState) {
        boolean wake;
        synchronized (this) {
            state = newState;
            wake = receiverWaiting;
            receiverWaiting = false;
        }
        if (wake) {
            receiver.wake();
        }
    }

    /** A message to fill, recycled if one is spare. */
    Message take(int count, boolean tagged) {
        Message m;
        synchronized (this) {
            m = spare.poll();
        }
        if (m == null) {
            m = new Message();
        }
        m.count = count;
        m.tagged = tagged;
        return m;
    }

    /** Hands a message back for reuse once its receiver is done with it (or refused it). */
    void recycle(Message m) {
        synchronized (m) {
            m.consumed();
        }
        synchronized (this) {
            if (spare.size() < 64) {
                spare.add(m);
            }
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
        synchronized (this) {
            long begin = Math.max(startNanos, busyUntilNanos);
            busyUntilNanos = begin + occupancy;
            return busyUntilNanos;
        }
    }

    void put(Message m) {
        boolean wake;
        synchronized (this) {
            if (state != LinkState.UP) {
                throw new OpFailure("link " + from + " -> " + to + " is " + state + " (data passes only while UP)");
            }
            queue.add(m);
            sentBytes += m.bytes();
            sentMessages++;
            wake = receiverWaiting;
            receiverWaiting = false;
        }
        if (wake) {
            receiver.wake();
        }
    }

    /**
     * The next message, or null when none is here yet: then the receiving card is noted as waiting, and the next
     * {@link #put} (or state change) wakes it. Fails when the link is not UP.
     */
    Message poll() {
        synchronized (this) {
            if (state != LinkState.UP) {
                throw new OpFailure("link " + from + " -> " + to + " is " + state + " (data passes only while UP)");
            }
            Message m = queue.poll();
            if (m == null) {
                receiverWaiting = true;
            }
            return m;
        }
    }

    /** Why a receive on this link failed after waiting {@code timeoutNanos} for its message. */
    OpFailure nothingArrived(long timeoutNanos) {
        return new OpFailure("nothing arrived on link " + from + " -> " + to + " within "
                + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms (the sending card's program has no matching send,"
                + " or it failed)");
    }

    /** Messages sent and not yet taken. */
    int pending() {
        synchronized (this) {
            return queue.size();
        }
    }

    /** Drops what is queued (a group closing, or a program that failed half way through a collective). */
    void drain() {
        synchronized (this) {
            queue.clear();
        }
    }
}
