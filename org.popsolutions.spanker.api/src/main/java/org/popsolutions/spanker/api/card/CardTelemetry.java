package org.popsolutions.spanker.api.card;

import java.util.List;

/**
 * What a card counted since it was opened.
 *
 * @param hostWriteBytes bytes written into the card over the host link
 * @param hostWrites host-link write transfers
 * @param hostReadBytes bytes read back over the host link
 * @param hostReads host-link read transfers
 * @param programs programs completed (successfully or not)
 * @param ops ops executed
 * @param busyNanos time the card spent executing programs
 * @param ports traffic per port, in port order
 */
public record CardTelemetry(long hostWriteBytes, long hostWrites, long hostReadBytes, long hostReads, long programs,
        long ops, long busyNanos, List<PortTraffic> ports) {
    public CardTelemetry {
        ports = List.copyOf(ports);
    }
}
