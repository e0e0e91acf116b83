package org.popsolutions.spanker.api.collective;

/** Bytes and messages that crossed one directed link during a collective. */
public record LinkTraffic(int local, int remote, long bytes, long messages) {
}
