package org.popsolutions.spanker.card.emulator;

import java.util.concurrent.locks.LockSupport;

/**
 * Holds one channel (the host link) to a rate by deadline: a transfer whose first byte left at {@code start}
 * arrives after the channel's latency, then occupies the channel for its bytes at the rate, queued behind the
 * transfers before it; the caller returns when it would have finished on the hardware. The latency delays a
 * transfer but does not add up over back-to-back transfers (it is the pipe's length, not a gap between frames).
 * A rate of 0 leaves the channel unshaped.
 */
final class Pacer {
    private final double bytesPerSecond;
    private final double latencySeconds;
    private long freeAtNanos;

    Pacer(double bytesPerSecond, double latencySeconds) {
        this.bytesPerSecond = bytesPerSecond;
        this.latencySeconds = latencySeconds;
    }

    /** When the channel is free again (the last transfer's deadline). */
    synchronized long freeAtNanos() {
        return freeAtNanos;
    }

    static Pacer unshaped() {
        return new Pacer(0, 0);
    }

    boolean shaped() {
        return bytesPerSecond > 0;
    }

    /**
     * Waits until {@code bytes} (one transfer whose first byte left at {@code startNanos}) would have arrived;
     * {@link Long#MIN_VALUE} for a transfer that queued behind the previous one.
     */
    void pace(long bytes, long startNanos) {
        if (bytesPerSecond <= 0) {
            return;
        }
        long latency = (long) (latencySeconds * 1e9);
        long duration = (long) (bytes / bytesPerSecond * 1e9);
        long deadline;
        synchronized (this) {
            long firstByte = startNanos == Long.MIN_VALUE ? freeAtNanos : Math.max(startNanos + latency, freeAtNanos);
            deadline = firstByte + duration;
            freeAtNanos = deadline;
        }
        sleepUntil(deadline);
    }

    void pace(long bytes) {
        pace(bytes, System.nanoTime());
    }

    static void sleepUntil(long deadlineNanos) {
        long left;
        while ((left = deadlineNanos - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }
}
