package org.popsolutions.spanker.api.strategy;

import java.util.List;
import java.util.Optional;

/**
 * What a partition strategy chose for one tile, with the predicted cost of every candidate it weighed.
 *
 * @param decidedBy the name of the strategy provider that decided
 */
public record StrategyDecision(Strategy strategy, List<CandidateCost> candidates, String decidedBy) {
    public StrategyDecision {
        candidates = List.copyOf(candidates);
    }

    public Optional<Double> secondsOf(Strategy candidate) {
        return candidates.stream().filter(c -> c.strategy().equals(candidate)).map(CandidateCost::seconds).findFirst();
    }
}
