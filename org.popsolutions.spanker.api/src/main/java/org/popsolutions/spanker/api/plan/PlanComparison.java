package org.popsolutions.spanker.api.plan;

import java.util.List;

/**
 * The plan a search chose and the baselines users would otherwise run, all costed by the same model.
 *
 * @param objective what the search minimised
 * @param candidates partial or whole plans the search examined
 * @param exact whether the chosen plan is the optimum of the cost model over the whole search space
 * @param searchSeconds CPU time the search took (wall time where the JVM cannot measure a thread's CPU time)
 */
public record PlanComparison(String searcher, PlanObjective objective, int promptTokens, CostedPlan chosen,
        List<CostedPlan> baselines, long candidates, boolean exact, double searchSeconds, List<String> notes) {
    public PlanComparison {
        baselines = List.copyOf(baselines);
        notes = List.copyOf(notes);
    }
}
