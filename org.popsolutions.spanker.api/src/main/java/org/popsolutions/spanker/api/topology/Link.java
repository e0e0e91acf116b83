package org.popsolutions.spanker.api.topology;

import java.util.Objects;

/**
 * A directed link from card {@code local} to card {@code remote}.
 *
 * @param bandwidthBytesPerSecond payload bandwidth in this direction
 * @param latencySeconds one-way latency of a message on this link
 */
public record Link(int local, int remote, LinkState state, long bandwidthBytesPerSecond, double latencySeconds) {
    public Link {
        Objects.requireNonNull(state, "state");
        if (local < 0 || remote < 0 || local == remote) {
            throw new IllegalArgumentException("a link joins two different cards, got " + local + " -> " + remote);
        }
        if (bandwidthBytesPerSecond < 0) {
            throw new IllegalArgumentException("link bandwidth must be >= 0 bytes/s, got " + bandwidthBytesPerSecond);
        }
        if (!(latencySeconds >= 0)) {
            throw new IllegalArgumentException("link latency must be >= 0 s, got " + latencySeconds);
        }
    }

    public Link withState(LinkState newState) {
        return new Link(local, remote, newState, bandwidthBytesPerSecond, latencySeconds);
    }
}
