package org.popsolutions.spanker.device.sails;

import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.popsolutions.spanker.api.link.HostNic;
import org.popsolutions.spanker.api.link.LinkParameters;

/**
 * The host's NIC for emulated cards: each emulated card paces its own GbE port, but a host usually reaches its cards
 * through one GbE NIC behind a switch (SPEC §1, §10), and that NIC is what limits loading several cards at once.
 * Every WRITE chunk to any of this host's cards takes the next slot of {@code bytes / rate} on the NIC and leaves at
 * its slot's start (the card then paces its own port from the chunk's first byte, so one card alone loads exactly as
 * before, and two cards loading together take twice as long). The rate and the NIC setting are the link model's
 * own ({@link LinkParameters#hostLinkBytesPerSecond()}, {@link LinkParameters#hostNic()}), read at every chunk, so the
 * pacer and the planner's {@link LinkParameters#loadSeconds} cannot disagree; the rate is divided by the fleet's
 * time dilation K like the cards' own pacing. {@link HostNic#PER_CARD} leaves the cards' ports as the only limit.
 */
final class HostNicPacer {
    /** Waits until a time on the clock of {@link #clock}. */
    interface Sleeper {
        void sleepUntil(long nanos);
    }

    private final Supplier<LinkParameters> parameters;
    private final double timeDilation;
    private final LongSupplier clock;
    private final Sleeper sleeper;
    private long freeAtNanos = Long.MIN_VALUE;

    /**
     * @param parameters the link model's parameters in effect (read at every chunk)
     * @param timeDilation the fleet's K (1: rev-A time)
     */
    HostNicPacer(Supplier<LinkParameters> parameters, double timeDilation) {
        this(parameters, timeDilation, System::nanoTime, HostNicPacer::park);
    }

    HostNicPacer(Supplier<LinkParameters> parameters, double timeDilation, LongSupplier clock, Sleeper sleeper) {
        if (!(timeDilation >= 1)) {
            throw new IllegalArgumentException("a time dilation is >= 1, got " + timeDilation);
        }
        this.parameters = parameters;
        this.timeDilation = timeDilation;
        this.clock = clock;
        this.sleeper = sleeper;
    }

    /**
     * Takes the NIC's next slot for {@code bytes} and returns when the slot starts (now, when the NIC is idle or
     * there is one NIC per card).
     */
    long reserve(long bytes) {
        LinkParameters p = parameters.get();
        long now = clock.getAsLong();
        if (p.hostNic() != HostNic.SHARED) {
            return now;
        }
        long duration = (long) (bytes / (p.hostLinkBytesPerSecond() / timeDilation) * 1e9);
        synchronized (this) {
            long start = Math.max(now, freeAtNanos);
            freeAtNanos = start + duration;
            return start;
        }
    }

    /** Waits for the NIC's slot for {@code bytes}: the chunk may leave when this returns. */
    void pace(long bytes) {
        sleeper.sleepUntil(reserve(bytes));
    }

    /** When the NIC has sent everything reserved so far. */
    synchronized long freeAtNanos() {
        return freeAtNanos;
    }

    private static void park(long deadlineNanos) {
        long left;
        while ((left = deadlineNanos - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }
}
