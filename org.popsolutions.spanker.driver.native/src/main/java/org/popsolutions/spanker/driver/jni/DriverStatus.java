package org.popsolutions.spanker.driver.jni;

import java.nio.file.Path;
import java.util.List;

/**
 * What the driver in one directory answered: its control node, ABI version, ping round trip (the median of
 * {@value #PINGS} pings, so the first call's one-time costs do not stand for the driver's latency) and card nodes.
 */
public record DriverStatus(Path control, DriverVersion version, long pingNanos, List<Path> cards) {
    static final int PINGS = 5;

    public DriverStatus {
        cards = List.copyOf(cards);
    }

    /**
     * Opens {@code directory/spankerctl}, pings it, reads and checks its version, enumerates the card nodes and closes
     * it again: every step a real system call, every failure a named error.
     */
    public static DriverStatus probe(Path directory) {
        try (ControlDevice control = ControlDevice.open(directory)) {
            long[] pings = new long[PINGS];
            for (int i = 0; i < PINGS; i++) {
                pings[i] = control.ping();
            }
            java.util.Arrays.sort(pings);
            DriverVersion version = control.version();
            return new DriverStatus(control.node(), version, pings[PINGS / 2], CardNodes.enumerate(directory));
        }
    }
}
