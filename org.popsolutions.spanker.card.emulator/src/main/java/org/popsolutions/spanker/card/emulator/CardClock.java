package org.popsolutions.spanker.card.emulator;

/**
 * The card's hardware time while it runs programs (shaped cards only): where a rev-A card would be in its program,
 * kept apart from where the emulator is. Each op moves it by what the hardware spends on it — weights streamed at
 * the DDR rate, values reduced at the reduce rate, a message's arrival as its sender's clock and link stamped it —
 * and the emulator computes as fast as the host lets it. A program completes no earlier than its hardware time:
 * the card is held by deadline, max(its own compute, the modelled time), not compute + sleep per op, so the host's
 * per-op overheads vanish into slack the hardware would have spent streaming weights, and only a card that is
 * really slower than rev-A (CPU-bound) shows as late. Clocks of cards on one machine are comparable
 * ({@link System#nanoTime()} is the system's monotonic clock on Linux), which is what lets a message carry its
 * hardware arrival time to another emulator process.
 *
 * <p>Touched by the card's work thread only (programs run one at a time); the counters are read by TELEMETRY-like
 * reports after a program, through {@link #report()}.
 */
final class CardClock {
    private final boolean shaped;
    private final double ddrBytesPerSecond;
    private final double reduceBytesPerSecond;
    /** The hardware time of the running program, in the host's monotonic nanoseconds. */
    private long hardwareNanos = Long.MIN_VALUE;
    private long programStart;
    private long streamedBytes;
    private long reducedBytes;
    private long waitedForArrivalNanos;
    private long lateNanos;

    CardClock(EmulatorOptions options) {
        this.shaped = !options.unshaped() && options.ddrBytesPerSecond() > 0;
        // a dilated card runs K times slower than rev-A: every modelled time on its clock is K times longer
        this.ddrBytesPerSecond = options.dilatedRate(options.ddrBytesPerSecond());
        this.reduceBytesPerSecond = options.dilatedRate(options.reduceBytesPerSecond());
    }

    boolean shaped() {
        return shaped;
    }

    /**
     * A program starts now; the card was idle (or finishing the previous one) until then. Returns when it starts
     * on the card's clock: now, or when the previous program's hardware time ends if that is later.
     */
    long startProgram() {
        long now = System.nanoTime();
        programStart = now;
        hardwareNanos = Math.max(hardwareNanos, now);
        streamedBytes = 0;
        reducedBytes = 0;
        waitedForArrivalNanos = 0;
        return shaped ? hardwareNanos : now;
    }

    /** The hardware time the running program has taken so far (its modelled time, dilated). */
    long modelledNanos() {
        return hardwareNanos - programStart;
    }

    /** The hardware time now (the earliest a message sent now leaves the card). */
    long hardwareNanos() {
        return hardwareNanos;
    }

    /** An op streamed {@code bytes} of weights from DDR. */
    void streamed(long bytes) {
        if (shaped && bytes > 0) {
            streamedBytes += bytes;
            hardwareNanos += (long) (bytes / ddrBytesPerSecond * 1e9);
        }
    }

    /** An op reduced {@code bytes} of float32 values into an accumulator. */
    void reduced(long bytes) {
        if (shaped && bytes > 0 && reduceBytesPerSecond > 0) {
            reducedBytes += bytes;
            hardwareNanos += (long) (bytes / reduceBytesPerSecond * 1e9);
        }
    }

    /** A message the program waited for arrived, on the hardware, at {@code arrivalNanos}. */
    void arrived(long arrivalNanos) {
        if (shaped && arrivalNanos > hardwareNanos) {
            waitedForArrivalNanos += arrivalNanos - hardwareNanos;
            hardwareNanos = arrivalNanos;
        }
    }

    /**
     * Holds the program until its hardware time (its COMPLETE is not sent earlier); returns how far the emulator
     * was behind the hardware time when it got here (0 when it had to wait).
     */
    long finishProgram() {
        if (!shaped) {
            return 0;
        }
        long now = System.nanoTime();
        long late = Math.max(0, now - hardwareNanos);
        lateNanos = late;
        Pacer.sleepUntil(hardwareNanos);
        return late;
    }

    /** One line on the last program: where its time went (for the card's log when timing is traced). */
    String report() {
        long modelled = hardwareNanos - programStart;
        return String.format(java.util.Locale.ROOT, "modelled %.3f ms (weights %d B, reduced %d B, waiting for"
                + " messages %.3f ms), emulator late by %.3f ms at the end", modelled / 1e6, streamedBytes,
                reducedBytes, waitedForArrivalNanos / 1e6, lateNanos / 1e6);
    }
}
