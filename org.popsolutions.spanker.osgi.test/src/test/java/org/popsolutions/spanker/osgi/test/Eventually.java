package org.popsolutions.spanker.osgi.test;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for the framework to reach a state that arrives asynchronously (Config Admin delivers configurations on
 * its own thread, SCR rebinds references as services come and go). The bound only keeps a broken build from
 * hanging: a test passes as soon as the state is reached, and fails with the last observed state otherwise.
 */
final class Eventually {
    /** Generous on purpose: on 2 shared cores the framework can stall for a while under other builds. */
    static final long TIMEOUT_MILLIS = 30_000;

    private Eventually() {
    }

    static void until(String expectation, BooleanSupplier condition, Supplier<?> observed) {
        long deadline = System.nanoTime() + TIMEOUT_MILLIS * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("still not " + expectation + " after " + TIMEOUT_MILLIS + " ms; last seen: " + observed.get());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted while waiting until " + expectation);
            }
        }
    }
}
