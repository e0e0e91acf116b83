package org.popsolutions.spanker.api.card;

/**
 * One inter-card port and where its cable goes. A rev-A card has two: port 0 downstream (to card index + 1 in the
 * ring) and port 1 upstream; a mesh-cabled mock lists one port per other card, in card order. A two-card ring has
 * one port (both neighbours are the same card).
 *
 * @param port this card's port number, 0-based
 * @param neighbourCard the card at the other end
 * @param neighbourPort that card's port number for the same cable
 * @param bandwidthBytesPerSecond payload bandwidth in each direction
 * @param latencySeconds one-way latency of a message
 */
public record LinkPort(int port, int neighbourCard, int neighbourPort, long bandwidthBytesPerSecond,
        double latencySeconds) {
    public LinkPort {
        if (port < 0 || neighbourCard < 0 || neighbourPort < 0) {
            throw new IllegalArgumentException("port, neighbour card and neighbour port are >= 0");
        }
    }
}
