package org.popsolutions.spanker.console.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.popsolutions.spanker.api.plan.CostedPlan;
import org.popsolutions.spanker.api.plan.PlanComparison;
import org.popsolutions.spanker.api.plan.PlanCost;
import org.popsolutions.spanker.api.plan.PlanObjective;
import org.popsolutions.spanker.console.support.Report;

/** {@code plan --compare}: the chosen plan and the baselines, costed by one model, with the term that dominates each. */
final class PlanComparisonReport {
    private PlanComparisonReport() {
    }

    static Report report(PlanComparison comparison) {
        return report(comparison, null);
    }

    /** With {@code measured} (plan --compare --measure): each plan's measured decode time beside its prediction. */
    static Report report(PlanComparison comparison, PlanMeasurements.Measured measured) {
        Report report = new Report();
        PlanObjective objective = comparison.objective();
        CostedPlan chosen = comparison.chosen();
        report.line("model " + chosen.plan().model() + " on " + chosen.plan().cards() + " cards ("
                + chosen.plan().cabling() + "), searched by '" + comparison.searcher() + "', optimised for "
                + objective.label() + (objective == PlanObjective.PREFILL ? " of " + comparison.promptTokens()
                        + " tokens" : "") + (comparison.exact() ? " (exact optimum of its cost model)" : ""));
        report.line("chosen: " + chosen.layout());
        List<String> headers = new ArrayList<>(List.of("Plan", "Decode per token", "Prefill (" + comparison
                .promptTokens() + " tokens)", "Prefill as", "Dominant term", "Compute", "Links", "Latency", "Host",
                "Fits", "vs chosen"));
        boolean measuredPrefill = measured != null && measured.prefill();
        if (measured != null) {
            headers.add(measuredPrefill ? "Measured prefill" : "Measured decode");
            headers.add("Measured/predicted");
        }
        Report.TableBuilder table = Report.tableOf("Plans", headers.toArray(String[]::new));
        double best = chosen.predictedSeconds(objective);
        Map<String, Object> chosenJson = null;
        List<Map<String, Object>> baselines = new ArrayList<>();
        for (CostedPlan plan : all(comparison)) {
            PlanCost shown = objective == PlanObjective.DECODE ? plan.decode() : plan.prefill();
            List<Object> row = new ArrayList<>(List.of(plan.name(), Units.seconds(plan.decode().totalSeconds()),
                    Units.seconds(plan.prefill().totalSeconds()), plan.prefillRegime(), shown.dominantTerm(),
                    share(shown.computeSeconds(), shown), share(shown.linkSeconds(), shown),
                    share(shown.latencySeconds(), shown), share(shown.hostSeconds(), shown),
                    plan.fits() ? "yes" : "no", String.format(Locale.ROOT, "%.2fx", plan.predictedSeconds(objective)
                            / best)));
            Double seconds = measured == null ? null : measured.secondsPerToken().get(plan.layout());
            if (measured != null) {
                row.add(seconds == null ? "not run (does not fit)" : Units.seconds(seconds));
                row.add(seconds == null ? "-" : String.format(Locale.ROOT, "%.2f",
                        seconds / (measuredPrefill ? plan.prefill() : plan.decode()).totalSeconds()));
            }
            table.row(row.toArray());
            Map<String, Object> json = json(plan, objective);
            if (seconds != null) {
                json.put(measuredPrefill ? "measuredPrefillSeconds" : "measuredSecondsPerToken", seconds);
            }
            if (plan != chosen) {
                baselines.add(json);
            } else {
                chosenJson = json;
            }
        }
        report.table(table.build());
        for (CostedPlan plan : comparison.baselines()) {
            report.line(plan.name() + ": " + plan.layout());
            plan.violations().forEach(v -> report.line("  does not fit: " + v));
        }
        comparison.notes().forEach(n -> report.line("note: " + n));
        if (measured != null) {
            report.line(measuredPrefill ? "measured: prefill of " + comparison.promptTokens() + " tokens on "
                    + measured.cards() + ", in the runtime's batched passes, after one unmeasured prompt, the mean"
                    : "measured: decode on " + measured.cards() + ", after unmeasured warm-up tokens, the mean");
            report.put("measuredOn", measured.cards());
            report.put("dilation", measured.dilation());
        }
        report.put("chosen", chosenJson).put("baselines", baselines)
                .put("optimisedFor", objective.label()).put("promptTokens", comparison.promptTokens())
                .put("exact", comparison.exact()).put("candidates", comparison.candidates())
                .put("searchSeconds", comparison.searchSeconds()).put("notes", comparison.notes());
        return report;
    }

    private static List<CostedPlan> all(PlanComparison comparison) {
        List<CostedPlan> plans = new ArrayList<>();
        plans.add(comparison.chosen());
        plans.addAll(comparison.baselines());
        return plans;
    }

    private static String share(double seconds, PlanCost cost) {
        return Units.seconds(seconds) + String.format(Locale.ROOT, " (%.0f%%)", 100 * seconds / cost.totalSeconds());
    }

    private static Map<String, Object> json(CostedPlan plan, PlanObjective objective) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", plan.name());
        json.put("layout", plan.layout());
        json.put("predictedSecondsPerToken", plan.decode().totalSeconds());
        json.put("predictedPrefillSeconds", plan.prefill().totalSeconds());
        json.put("prefillRegime", plan.prefillRegime());
        json.put("dominantTerm", (objective == PlanObjective.DECODE ? plan.decode() : plan.prefill()).dominantTerm());
        json.put("decode", terms(plan.decode()));
        json.put("prefill", terms(plan.prefill()));
        json.put("fits", plan.fits());
        json.put("violations", plan.violations());
        if (plan.plan() != null) {
            json.put("firstCard", plan.plan().firstCard());
            json.put("outputCards", plan.plan().outputCards());
            json.put("cardLoads", plan.plan().cardLoads());
        }
        return json;
    }

    private static Map<String, Object> terms(PlanCost cost) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("computeSeconds", cost.computeSeconds());
        json.put("linkSeconds", cost.linkSeconds());
        json.put("latencySeconds", cost.latencySeconds());
        json.put("hostSeconds", cost.hostSeconds());
        json.put("totalSeconds", cost.totalSeconds());
        return json;
    }
}
