package org.popsolutions.spanker.console.support;

import java.util.LinkedHashMap;
import java.util.Map;
import org.popsolutions.spanker.api.plan.Plan;

/**
 * The one JSON rendering of a {@link Plan}'s headline facts: every command that shows a plan ({@code plan},
 * {@code run}, {@code logits}) uses these keys, spelled the same.
 */
public final class PlanView {
    private PlanView() {
    }

    /** model, strategy, cards, cabling (as typed), predicted seconds per token by term, load, first and output cards. */
    public static Map<String, Object> json(Plan plan) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", plan.model());
        json.put("strategy", plan.strategy());
        json.put("cards", plan.cards());
        json.put("cabling", plan.cabling().label());
        json.put("secondsPerToken", plan.secondsPerToken());
        json.put("computeSecondsPerToken", plan.computeSecondsPerToken());
        json.put("communicationSecondsPerToken", plan.communicationSecondsPerToken());
        json.put("hostSecondsPerToken", plan.hostSecondsPerToken());
        json.put("loadSeconds", plan.loadSeconds());
        json.put("firstCard", plan.firstCard());
        json.put("outputCards", plan.outputCards());
        json.put("notes", plan.notes());
        return json;
    }
}
