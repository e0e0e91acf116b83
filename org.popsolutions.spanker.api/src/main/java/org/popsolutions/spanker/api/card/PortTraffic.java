package org.popsolutions.spanker.api.card;

/** Bytes and messages through one port since the card was opened, per direction. */
public record PortTraffic(int port, long sentBytes, long sentMessages, long receivedBytes, long receivedMessages) {
}
