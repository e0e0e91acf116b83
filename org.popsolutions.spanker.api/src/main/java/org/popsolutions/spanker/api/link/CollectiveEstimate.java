package org.popsolutions.spanker.api.link;

/**
 * The predicted time of one collective run, split into its terms.
 *
 * @param bytesPerCard n: the size of each card's buffer
 * @param latencySeconds the α terms: per-hop latency summed over the critical path of every step
 * @param transferSeconds the β terms: bytes on the busiest link of each step over the payload rate
 * @param reduceSeconds the γ terms
 * @param steps communication steps
 * @param maxHops the longest route any message takes (1 on a mesh; more for non-neighbours on a ring)
 */
public record CollectiveEstimate(CollectiveKind kind, CollectiveAlgorithm algorithm, int cards, long bytesPerCard,
        double latencySeconds, double transferSeconds, double reduceSeconds, int steps, int maxHops) {

    public double totalSeconds() {
        return latencySeconds + transferSeconds + reduceSeconds;
    }
}
