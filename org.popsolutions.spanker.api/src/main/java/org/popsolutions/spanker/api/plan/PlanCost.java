package org.popsolutions.spanker.api.plan;

/**
 * A predicted time split into the terms a plan can be bound by.
 *
 * @param computeSeconds the cards streaming weights from their DDR (the slowest card of each step)
 * @param linkSeconds bytes on the busiest inter-card link of each step (β) and the reductions (γ)
 * @param latencySeconds per-hop latency of every inter-card message on the critical path (α)
 * @param hostSeconds the GbE host link: token ids in, logits out
 */
public record PlanCost(double computeSeconds, double linkSeconds, double latencySeconds, double hostSeconds) {

    public double totalSeconds() {
        return computeSeconds + linkSeconds + latencySeconds + hostSeconds;
    }

    /** The largest term's name: {@code compute}, {@code links}, {@code latency} or {@code host}. */
    public String dominantTerm() {
        String name = "compute";
        double largest = computeSeconds;
        if (linkSeconds > largest) {
            name = "links";
            largest = linkSeconds;
        }
        if (latencySeconds > largest) {
            name = "latency";
            largest = latencySeconds;
        }
        if (hostSeconds > largest) {
            name = "host";
        }
        return name;
    }
}
