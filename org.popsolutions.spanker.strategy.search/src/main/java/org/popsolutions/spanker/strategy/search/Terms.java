package org.popsolutions.spanker.strategy.search;

import org.popsolutions.spanker.api.plan.PlanCost;

/** Seconds split by what bounds them; adds up like the time it models. */
record Terms(double compute, double link, double latency, double host) {
    static final Terms ZERO = new Terms(0, 0, 0, 0);
    static final Terms IMPOSSIBLE = new Terms(Double.POSITIVE_INFINITY, 0, 0, 0);

    Terms plus(Terms other) {
        return new Terms(compute + other.compute, link + other.link, latency + other.latency, host + other.host);
    }

    Terms times(double factor) {
        return new Terms(compute * factor, link * factor, latency * factor, host * factor);
    }

    double total() {
        return compute + link + latency + host;
    }

    boolean possible() {
        return total() < Double.POSITIVE_INFINITY;
    }

    PlanCost cost() {
        return new PlanCost(compute, link, latency, host);
    }
}
