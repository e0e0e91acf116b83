package org.popsolutions.spanker.device.mock.card;

import java.util.concurrent.locks.LockSupport;

/** Holding a card to a modelled deadline. */
final class Waits {
    private Waits() {
    }

    /** Sleeps until {@code deadline} (System.nanoTime): parked while far (a park overshoots), then yielding. */
    static void until(long deadline) {
        long remaining;
        while ((remaining = deadline - System.nanoTime()) > 0) {
            if (remaining > 250_000) {
                LockSupport.parkNanos(remaining - 200_000);
            } else {
                Thread.yield();
            }
        }
    }
}
