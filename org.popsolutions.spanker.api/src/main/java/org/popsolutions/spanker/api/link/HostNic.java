package org.popsolutions.spanker.api.link;

import java.util.Locale;

/**
 * How a host reaches its cards' GbE ports (SPEC §1, §10: each rev-A card has its own GbE port). Usually the host has
 * one GbE NIC behind a switch, so the cards' loads share that NIC's rate; a host with a NIC per card loads every
 * card at the full host-link rate at once.
 */
public enum HostNic {
    /** One NIC for all of the host's cards: their host-link transfers queue on one host-link rate. */
    SHARED("shared"),
    /** One NIC per card: each card's host link is its own, the cards load side by side. */
    PER_CARD("per-card");

    private final String label;

    HostNic(String label) {
        this.label = label;
    }

    /** The configuration spelling: {@code shared} or {@code per-card}. */
    public String label() {
        return label;
    }

    /** The setting a label names, or null. */
    public static HostNic fromLabel(String label) {
        for (HostNic n : values()) {
            if (n.label.equals(label.toLowerCase(Locale.ROOT))) {
                return n;
            }
        }
        return null;
    }
}
