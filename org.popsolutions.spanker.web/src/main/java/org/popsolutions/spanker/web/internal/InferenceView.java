package org.popsolutions.spanker.web.internal;

import java.util.List;
import java.util.Optional;
import org.popsolutions.spanker.api.plot.Chart;
import org.popsolutions.spanker.plot.charts.TokenCharts;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.runtime.GenerationRequest;
import org.popsolutions.spanker.api.runtime.GenerationResult;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.TokenEvent;

/** The plan of the model placed last and its current run, as the observer calls tell them (any thread). */
final class InferenceView {
    private final int tokensShown;
    private LoadedModel current;
    private String model;
    private Plan plan;
    private boolean running;
    private String finish;
    private int generated;
    private double tokensPerSecond;
    private final Deque<TokenEvent> tokens = new ArrayDeque<>();

    InferenceView(int tokensShown) {
        this.tokensShown = tokensShown;
    }

    synchronized void loaded(LoadedModel loaded) {
        current = loaded;
        model = loaded.name();
        plan = loaded.plan();
        tokens.clear();
        running = false;
        finish = null;
        generated = 0;
        tokensPerSecond = 0;
    }

    synchronized void started(LoadedModel loaded, GenerationRequest request) {
        if (current != loaded) {
            loaded(loaded);
        }
        tokens.clear();
        running = true;
        finish = null;
        generated = 0;
        tokensPerSecond = 0;
    }

    synchronized void token(TokenEvent event) {
        tokens.addLast(event);
        while (tokens.size() > tokensShown) {
            tokens.removeFirst();
        }
        generated = event.index() + 1;
        tokensPerSecond = event.tokensPerSecond();
    }

    synchronized void finished(GenerationResult result) {
        running = false;
        finish = result.finish().name().toLowerCase(java.util.Locale.ROOT);
    }

    synchronized void failed() {
        running = false;
        finish = "failed";
    }

    synchronized void closed(LoadedModel loaded) {
        if (current == loaded) {
            current = null;
            plan = null;
            model = null;
            running = false;
        }
    }

    /** The current or last run's chart (its newest tokens), empty when no model is placed or no token came yet. */
    synchronized Optional<Chart> chart() {
        if (plan == null || tokens.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(TokenCharts.perToken(List.copyOf(tokens), plan));
    }

    /** Adds {@code plan} (null when no model is placed) and {@code run} to the page's document. */
    synchronized void addTo(JsonObject view) {
        view.add("plan", plan == null ? null : planJson());
        if (plan == null) {
            view.add("run", null);
            return;
        }
        JsonObject run = new JsonObject();
        run.addProperty("running", running);
        run.addProperty("finish", finish);
        run.addProperty("generated", generated);
        run.addProperty("tokensPerSecond", tokensPerSecond);
        run.addProperty("predictedSecondsPerToken", plan.secondsPerToken());
        JsonArray list = new JsonArray();
        for (TokenEvent e : tokens) {
            JsonObject t = new JsonObject();
            t.addProperty("index", e.index());
            t.addProperty("token", e.token());
            t.addProperty("text", e.text());
            t.addProperty("measuredSeconds", e.measuredSeconds());
            t.addProperty("computeSeconds", e.computeSeconds());
            t.addProperty("predictedSeconds", e.predictedSeconds());
            list.add(t);
        }
        run.add("tokens", list);
        view.add("run", run);
    }

    private JsonObject planJson() {
        JsonObject p = new JsonObject();
        p.addProperty("model", model);
        p.addProperty("strategy", plan.strategy());
        p.addProperty("cards", plan.cards());
        p.addProperty("firstCard", plan.firstCard());
        JsonArray output = new JsonArray();
        plan.outputCards().forEach(output::add);
        p.add("outputCards", output);
        // per card: the blocks it takes part in, and how (whole block, or its shard of heads and rows)
        JsonArray perCard = new JsonArray();
        for (int c = 0; c < plan.cards(); c++) {
            JsonObject card = new JsonObject();
            card.addProperty("card", c);
            JsonArray blocks = new JsonArray();
            for (LayerPlacement layer : plan.layers()) {
                for (CardShard shard : layer.shards()) {
                    if (shard.card() == c) {
                        JsonObject b = new JsonObject();
                        b.addProperty("layer", layer.layer());
                        b.addProperty("strategy", layer.strategy().name());
                        b.addProperty("kvHeads", shard.kvHeadEnd() - shard.kvHeadStart());
                        b.addProperty("feedForwardRows", shard.feedForwardEnd() - shard.feedForwardStart());
                        b.addProperty("shared", layer.shards().size() > 1);
                        blocks.add(b);
                    }
                }
            }
            card.add("blocks", blocks);
            card.addProperty("weightBytes", plan.cardLoads().size() > c ? plan.cardLoads().get(c).weightBytes() : 0);
            perCard.add(card);
        }
        p.add("perCard", perCard);
        return p;
    }

}
