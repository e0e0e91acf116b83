package org.popsolutions.spanker.api.strategy;

/** The predicted time of one candidate strategy; {@code +Infinity} when it cannot run (a zero bandwidth). */
public record CandidateCost(Strategy strategy, double seconds) {
}
