package org.popsolutions.spanker.api.link;

/**
 * Burst versus sustained payload bandwidth of one link under continuous traffic, with credit-based flow
 * control: the sender may have {@code creditFrames} frames in flight; each credit returns one round trip
 * after its frame left.
 *
 * @param burstBytesPerSecond rate while credits last (the framed payload rate)
 * @param sustainedBytesPerSecond long-run rate: the lesser of the burst rate and what the credits allow
 * @param creditRoundTripSeconds time from a frame's first bit leaving to its credit returning
 * @param burstBytes payload the sender can push before it first waits for a credit
 * @param creditLimited whether the credits, not the wire, bound the sustained rate
 */
public record FlowControl(double burstBytesPerSecond, double sustainedBytesPerSecond, double creditRoundTripSeconds,
        long burstBytes, boolean creditLimited) {
}
