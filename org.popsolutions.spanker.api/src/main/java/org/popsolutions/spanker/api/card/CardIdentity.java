package org.popsolutions.spanker.api.card;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Who a card is and what it can do.
 *
 * @param index position in its group, 0-based
 * @param name e.g. {@code mock0}, {@code sails-7f3a} (a serial), {@code /dev/spanker1}
 * @param provider the device bundle behind it, e.g. {@code mock}
 * @param firmwareVersion the card's firmware (gateware) version
 * @param protocolVersion the host-link protocol version it speaks
 * @param memoryBytes DDR capacity: what allocations are checked against
 * @param weightTypes GGUF tensor type ids (SPEC §7) its {@link Op.MatMul} and {@link Op.EmbeddingRow} accept
 * @param ops the ops it runs
 * @param ports its inter-card ports, in port order
 */
public record CardIdentity(int index, String name, String provider, String firmwareVersion, int protocolVersion,
        long memoryBytes, Set<Integer> weightTypes, Set<OpCode> ops, List<LinkPort> ports) {
    public CardIdentity {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(firmwareVersion, "firmwareVersion");
        weightTypes = Set.copyOf(weightTypes);
        ops = Set.copyOf(ops);
        ports = List.copyOf(ports);
        if (index < 0 || memoryBytes < 0) {
            throw new IllegalArgumentException("card index and memory are >= 0");
        }
    }

    /** This card's port whose cable goes to {@code card}, or −1 when they are not neighbours. */
    public int portTo(int card) {
        for (LinkPort p : ports) {
            if (p.neighbourCard() == card) {
                return p.port();
            }
        }
        return -1;
    }
}
