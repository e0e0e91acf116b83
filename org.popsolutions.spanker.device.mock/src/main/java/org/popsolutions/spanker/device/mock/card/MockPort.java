package org.popsolutions.spanker.device.mock.card;

import org.popsolutions.spanker.api.card.LinkPort;

/** One port of a mock card: the cable's two directions and what came in. */
final class MockPort {
    final LinkPort info;
    final MockLink out;
    final MockLink in;
    /** Written only by the card's own thread. */
    long receivedBytes;
    long receivedMessages;

    MockPort(LinkPort info, MockLink out, MockLink in) {
        this.info = info;
        this.out = out;
        this.in = in;
    }
}
