package org.popsolutions.spanker.api.plan;

import java.util.List;

/**
 * A plan and what one cost model predicts for it.
 *
 * @param name {@code chosen}, or the baseline's name ({@code even-layers}, {@code memory-ring},
 *        {@code tensor-parallel}, {@code per-block})
 * @param layout one line saying where the blocks, the embedding and the head live
 * @param plan the plan itself (runnable), or {@code null} when it could not be built
 * @param decode predicted time of one decoded token
 * @param prefill predicted time of a prompt of {@code promptTokens} tokens
 * @param prefillRegime how the prompt runs: {@code batched} (each stage takes the whole prompt) or {@code pipelined}
 *        (one token per step, stages overlapping)
 * @param violations why the plan does not fit the cards (each card over its memory), empty when it fits
 */
public record CostedPlan(String name, String layout, Plan plan, PlanCost decode, PlanCost prefill, int promptTokens,
        String prefillRegime, List<String> violations) {
    public CostedPlan {
        violations = List.copyOf(violations);
    }

    public boolean fits() {
        return violations.isEmpty();
    }

    /** The predicted time of what the objective counts: a decoded token, or the whole prompt. */
    public double predictedSeconds(PlanObjective objective) {
        return objective == PlanObjective.DECODE ? decode.totalSeconds() : prefill.totalSeconds();
    }
}
