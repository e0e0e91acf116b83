package org.popsolutions.spanker.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.console.Table;
import org.popsolutions.spanker.api.plan.CardLoad;
import org.popsolutions.spanker.api.plan.CostedPlan;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.PlanComparison;
import org.popsolutions.spanker.api.plan.PlanCost;
import org.popsolutions.spanker.api.plan.PlanObjective;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.console.support.Json;
import org.popsolutions.spanker.console.support.Report;

/** plan --compare's table and JSON carry the same plans, figures and dominant terms. */
class PlanComparisonReportTest {

    private static CostedPlan costed(String name, PlanCost decode, PlanCost prefill, List<String> violations) {
        Plan plan = new Plan(name, "m", 2, TopologyKind.RING, List.of(), List.of(),
                List.of(new CardLoad(0, 10, 2, 100), new CardLoad(1, 10, 2, 100)), 0, List.of(0, 1),
                decode.computeSeconds(), decode.linkSeconds() + decode.latencySeconds(), decode.hostSeconds(), 1, List.of());
        return new CostedPlan(name, name + " layout", plan, decode, prefill, 16, "batched", violations);
    }

    @Test
    void theTableAndTheJsonCarryTheSameComparison() {
        CostedPlan chosen = costed("chosen", new PlanCost(0.010, 0.001, 0.0005, 0.0001),
                new PlanCost(0.16, 0.01, 0.0005, 0.0002), List.of());
        CostedPlan even = costed("even-layers", new PlanCost(0.040, 0.0001, 0.00001, 0.0001),
                new PlanCost(0.64, 0.001, 0.0001, 0.0002), List.of());
        CostedPlan latencyBound = costed("tensor-parallel", new PlanCost(0.001, 0.002, 0.030, 0.0001),
                new PlanCost(0.02, 0.03, 0.030, 0.0002), List.of("card 1 needs 200 bytes, holds 100"));
        PlanComparison comparison = new PlanComparison("search", PlanObjective.DECODE, 16, chosen,
                List.of(even, latencyBound), 1234, true, 0.01, List.of("a note"));
        Report report = PlanComparisonReport.report(comparison);

        JsonObject json = JsonParser.parseString(Json.write(report.json())).getAsJsonObject();
        JsonObject chosenJson = json.getAsJsonObject("chosen");
        assertEquals(chosen.decode().totalSeconds(), chosenJson.get("predictedSecondsPerToken").getAsDouble(), 0);
        assertEquals("compute", chosenJson.get("dominantTerm").getAsString());
        JsonArray baselines = json.getAsJsonArray("baselines");
        assertEquals(2, baselines.size());
        assertEquals("even-layers", baselines.get(0).getAsJsonObject().get("name").getAsString());
        assertEquals(even.decode().totalSeconds(),
                baselines.get(0).getAsJsonObject().get("predictedSecondsPerToken").getAsDouble(), 0);
        JsonObject tp = baselines.get(1).getAsJsonObject();
        assertEquals("latency", tp.get("dominantTerm").getAsString());
        assertFalse(tp.get("fits").getAsBoolean());
        assertEquals("decode", json.get("optimisedFor").getAsString());
        assertTrue(json.get("exact").getAsBoolean());

        Table table = report.tables().get(0);
        assertEquals(List.of("chosen", "even-layers", "tensor-parallel"),
                table.rows().stream().map(r -> r.get(0)).toList());
        int dominant = table.headers().indexOf("Dominant term");
        assertEquals(List.of("compute", "compute", "latency"), table.rows().stream().map(r -> r.get(dominant)).toList());
        assertEquals("no", table.rows().get(2).get(table.headers().indexOf("Fits")));
        assertTrue(report.lines().stream().anyMatch(l -> l.contains("does not fit: card 1 needs 200 bytes")),
                report.lines().toString());
    }

    /** Optimised for prefill and measured: the measured prompt time stands beside the prefill prediction. */
    @Test
    void aMeasuredPrefillIsSetBesideThePrefillPrediction() {
        CostedPlan chosen = costed("chosen", new PlanCost(0.010, 0.001, 0.0005, 0.0001),
                new PlanCost(0.16, 0.01, 0.0005, 0.0005), List.of());
        CostedPlan even = costed("even-layers", new PlanCost(0.040, 0.0001, 0.00001, 0.0001),
                new PlanCost(0.64, 0.001, 0.0001, 0.0002), List.of());
        PlanComparison comparison = new PlanComparison("search", PlanObjective.PREFILL, 16, chosen, List.of(even),
                1234, true, 0.01, List.of());
        PlanMeasurements.Measured measured = new PlanMeasurements.Measured(java.util.Map.of("chosen layout", 0.171,
                "even-layers layout", 0.90), "2 cards of provider 'sails'", 16, true);
        Report report = PlanComparisonReport.report(comparison, measured);
        Table table = report.tables().get(0);
        int column = table.headers().indexOf("Measured prefill");
        assertTrue(column > 0, table.headers().toString());
        assertEquals("1.00", table.rows().get(0).get(column + 1), "0.171 s against the 0.171 s predicted");
        assertEquals("1.40", table.rows().get(1).get(column + 1), "0.90 s against the 0.6433 s predicted");
        JsonObject json = JsonParser.parseString(Json.write(report.json())).getAsJsonObject();
        assertEquals(0.171, json.getAsJsonObject("chosen").get("measuredPrefillSeconds").getAsDouble(), 0);
        assertFalse(json.getAsJsonObject("chosen").has("measuredSecondsPerToken"), "no decode was measured");
        assertTrue(report.lines().stream().anyMatch(l -> l.startsWith("measured: prefill of 16 tokens")),
                report.lines().toString());
    }
}
