package org.popsolutions.spanker.driver.jni;

import java.nio.file.Path;
import java.util.List;

/** What the driver in one directory answered: its control node, ABI version, ping round trip and card nodes. */
public record DriverStatus(Path control, DriverVersion version, long pingNanos, List<Path> cards) {
    public DriverStatus {
        cards = List.copyOf(cards);
    }

    /**
     * Opens {@code directory/spankerctl}, pings it, reads and checks its version, enumerates the card nodes and closes
     * it again: every step a real system call, every failure a named error.
     */
    public static DriverStatus probe(Path directory) {
        try (ControlDevice control = ControlDevice.open(directory)) {
            long ping = control.ping();
            DriverVersion version = control.version();
            return new DriverStatus(control.node(), version, ping, CardNodes.enumerate(directory));
        }
    }
}
