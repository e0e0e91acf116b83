package org.popsolutions.spanker.api.card;

/**
 * Rates a group of cards holds its transfers to, so that host-side cards take the time real ones would: a link
 * message arrives {@code linkLatencySeconds} plus its bytes at {@code linkBytesPerSecond} after it was sent (a
 * link carries one message at a time), a reduce-on-receive combines at {@code reduceBytesPerSecond}, a host-link
 * transfer takes {@code hostLinkLatencySeconds} plus its bytes at {@code hostLinkBytesPerSecond}. A rate of 0 (or
 * a latency of 0) leaves that part unshaped.
 */
public record LinkShaping(double linkLatencySeconds, double linkBytesPerSecond, double reduceBytesPerSecond,
        double hostLinkLatencySeconds, double hostLinkBytesPerSecond) {
    public LinkShaping {
        if (!(linkLatencySeconds >= 0 && linkBytesPerSecond >= 0 && reduceBytesPerSecond >= 0
                && hostLinkLatencySeconds >= 0 && hostLinkBytesPerSecond >= 0)) {
            throw new IllegalArgumentException("shaping rates and latencies are >= 0");
        }
    }
}
