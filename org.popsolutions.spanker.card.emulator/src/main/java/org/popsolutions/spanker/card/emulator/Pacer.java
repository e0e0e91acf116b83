package org.popsolutions.spanker.card.emulator;

import java.util.concurrent.locks.LockSupport;

/**
 * Holds one channel (a host link, one link direction, the DDR port) to a rate: a transfer occupies the channel
 * for its bytes at the rate, transfers queue behind each other, and the caller returns when its transfer would
 * have finished on the hardware. A rate of 0 leaves the channel unshaped.
 */
final class Pacer {
    private final double bytesPerSecond;
    private final double latencySeconds;
    private long freeAtNanos;

    Pacer(double bytesPerSecond, double latencySeconds) {
        this.bytesPerSecond = bytesPerSecond;
        this.latencySeconds = latencySeconds;
    }

    static Pacer unshaped() {
        return new Pacer(0, 0);
    }

    boolean shaped() {
        return bytesPerSecond > 0;
    }

    /** Waits until {@code bytes} (one transfer) would have passed, counted from {@code startNanos} at the earliest. */
    void pace(long bytes, long startNanos) {
        if (bytesPerSecond <= 0) {
            return;
        }
        long duration = (long) ((latencySeconds + bytes / bytesPerSecond) * 1e9);
        long deadline;
        synchronized (this) {
            long start = Math.max(startNanos, freeAtNanos);
            deadline = start + duration;
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
