package org.popsolutions.spanker.web.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.lang.reflect.Proxy;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.plan.CardLoad;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.runtime.FinishReason;
import org.popsolutions.spanker.api.runtime.GenerationRequest;
import org.popsolutions.spanker.api.runtime.GenerationResult;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.PassTimings;
import org.popsolutions.spanker.api.runtime.Sampling;
import org.popsolutions.spanker.api.runtime.TokenEvent;
import org.popsolutions.spanker.api.strategy.Strategy;
import org.popsolutions.spanker.api.topology.TopologyKind;

class InferenceViewTest {
    /** Block 0 tensor-parallel over cards 0 and 1, block 1 whole on card 1; card 1 computes the logits. */
    static final Plan PLAN = new Plan("search", "tiny", 2, TopologyKind.RING, List.of(
            new LayerPlacement(0, Strategy.TENSOR_PARALLEL, List.of(new CardShard(0, 0, 2, 0, 100),
                    new CardShard(1, 2, 4, 100, 200)), "2 x allreduce", 1e-3, 1e-4),
            new LayerPlacement(1, Strategy.PIPELINE, List.of(new CardShard(1, 0, 4, 0, 200)), "hand-off", 1e-3, 0)),
            List.of(), List.of(new CardLoad(0, 1000, 10, 1 << 30), new CardLoad(1, 3000, 30, 1 << 30)), 0, List.of(1),
            2e-3, 1e-4, 1e-5, 0.5, List.of());

    static LoadedModel model(Plan plan) {
        return (LoadedModel) Proxy.newProxyInstance(LoadedModel.class.getClassLoader(),
                new Class<?>[] {LoadedModel.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "plan" -> plan;
                    case "name" -> "tiny";
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void thePlanPerCardAndTheTokensAsTheyCome() {
        InferenceView view = new InferenceView(3);
        JsonObject empty = new JsonObject();
        view.addTo(empty);
        assertTrue(empty.get("plan").isJsonNull(), "no model placed yet");
        LoadedModel model = model(PLAN);
        view.loaded(model);
        view.started(model, new GenerationRequest(new int[] {1}, 5, Sampling.GREEDY));
        for (int i = 0; i < 4; i++) {
            view.token(new TokenEvent(i, 10 + i, "t" + i, 0.004, 0.003, PLAN.secondsPerToken(), 250.0));
        }
        JsonObject doc = new JsonObject();
        view.addTo(doc);
        JsonObject plan = doc.getAsJsonObject("plan");
        JsonArray perCard = plan.getAsJsonArray("perCard");
        assertEquals(2, perCard.size());
        assertEquals(1, perCard.get(0).getAsJsonObject().getAsJsonArray("blocks").size(), "card 0: its TP shard");
        assertEquals(2, perCard.get(1).getAsJsonObject().getAsJsonArray("blocks").size(), "card 1: shard and block");
        assertEquals(100, perCard.get(1).getAsJsonObject().getAsJsonArray("blocks").get(0).getAsJsonObject()
                .get("feedForwardRows").getAsInt());
        assertEquals(1, plan.getAsJsonArray("outputCards").get(0).getAsInt());
        JsonObject run = doc.getAsJsonObject("run");
        assertTrue(run.get("running").getAsBoolean());
        assertEquals(4, run.get("generated").getAsInt());
        assertEquals(250.0, run.get("tokensPerSecond").getAsDouble());
        JsonArray tokens = run.getAsJsonArray("tokens");
        assertEquals(3, tokens.size(), "the newest three are kept");
        assertEquals("t3", tokens.get(2).getAsJsonObject().get("text").getAsString());
        assertEquals(0.004, tokens.get(2).getAsJsonObject().get("measuredSeconds").getAsDouble());
        assertEquals(PLAN.secondsPerToken(), tokens.get(2).getAsJsonObject().get("predictedSeconds").getAsDouble());
        PassTimings none = new PassTimings(0, 0, new long[2], 0, 0);
        view.finished(new GenerationResult(List.of(10, 11, 12, 13), "t0t1t2t3", FinishReason.LENGTH, none, none));
        JsonObject after = new JsonObject();
        view.addTo(after);
        assertFalse(after.getAsJsonObject("run").get("running").getAsBoolean());
        assertEquals("length", after.getAsJsonObject("run").get("finish").getAsString());
        view.started(model, new GenerationRequest(new int[] {1}, 5, Sampling.GREEDY));
        view.failed();
        JsonObject failed = new JsonObject();
        view.addTo(failed);
        assertFalse(failed.getAsJsonObject("run").get("running").getAsBoolean());
        assertEquals("failed", failed.getAsJsonObject("run").get("finish").getAsString());
        view.closed(model(PLAN));
        JsonObject stillThere = new JsonObject();
        view.addTo(stillThere);
        assertFalse(stillThere.get("plan").isJsonNull(), "another model closing leaves this one's plan");
        view.closed(model);
        JsonObject gone = new JsonObject();
        view.addTo(gone);
        assertTrue(gone.get("plan").isJsonNull());
    }

    @Test
    void theRunsChartIsRunPlotsChartOfTheTokensKept() {
        InferenceView view = new InferenceView(3);
        assertTrue(view.chart().isEmpty(), "no model placed yet");
        LoadedModel model = model(PLAN);
        view.loaded(model);
        view.started(model, new GenerationRequest(new int[] {1}, 5, Sampling.GREEDY));
        assertTrue(view.chart().isEmpty(), "no token yet");
        for (int i = 0; i < 4; i++) {
            view.token(new TokenEvent(i, 10 + i, "t" + i, 0.004 + i, 0.003, PLAN.secondsPerToken(), 250.0));
        }
        org.popsolutions.spanker.api.plot.Chart chart = view.chart().orElseThrow();
        org.popsolutions.spanker.api.plot.Series measured = chart.series().get(0);
        assertEquals("measured per token", measured.name());
        assertArrayEquals(new double[] {1.004, 2.004, 3.004}, measured.y(), 1e-12, "the three tokens kept");
        assertTrue(chart.series().stream().anyMatch(s -> s.predicted() && s.name().equals("predicted per token")));
    }
}
