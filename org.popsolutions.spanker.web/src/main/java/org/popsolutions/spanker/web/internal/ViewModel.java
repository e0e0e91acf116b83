package org.popsolutions.spanker.web.internal;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.runtime.GenerationRequest;
import org.popsolutions.spanker.api.runtime.GenerationResult;
import org.popsolutions.spanker.api.runtime.InferenceObserver;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.TokenEvent;
import org.popsolutions.spanker.api.strategy.PartitionStrategy;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyService;

/**
 * What the page shows, read from the services as they are now: the cards (index, name, memory), every
 * directed link with its state, the cabling, and the strategy that decides (the highest-ranked one, as the
 * commands use it); as an inference observer, the plan of the model placed last (blocks per card) and its current
 * or last run (tokens as they come, tokens/s, predicted and measured seconds per token). One JSON document, the same for {@code /spanker/state} and each server-sent event.
 */
@Component(service = {ViewModel.class, InferenceObserver.class})
public final class ViewModel implements InferenceObserver {
    /** Tokens the page keeps of the current run (the newest). */
    static final int TOKENS_SHOWN = 200;

    private final InferenceView inference = new InferenceView(TOKENS_SHOWN);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile TopologyService topology;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile PartitionStrategy strategy;

    String json() {
        TopologyService cards = topology;
        Topology now = null;
        if (cards != null) {
            try {
                now = cards.current();
            } catch (SpankerException noCards) {
                now = null;
            }
        }
        PartitionStrategy deciding = strategy;
        JsonObject view = JsonParser.parseString(json(now, deciding == null ? null : deciding.name()))
                .getAsJsonObject();
        inference.addTo(view);
        return view.toString();
    }

    @Override
    public void loaded(LoadedModel model) {
        inference.loaded(model);
    }

    @Override
    public void started(LoadedModel model, GenerationRequest request) {
        inference.started(model, request);
    }

    @Override
    public void token(LoadedModel model, TokenEvent event) {
        inference.token(event);
    }

    @Override
    public void finished(LoadedModel model, GenerationResult result) {
        inference.finished(result);
    }

    @Override
    public void failed(LoadedModel model, RuntimeException error) {
        inference.failed();
    }

    @Override
    public void closed(LoadedModel model) {
        inference.closed(model);
    }

    /** @param topology {@code null} when no card is registered; @param strategy {@code null} when none is */
    static String json(Topology topology, String strategy) {
        JsonObject view = new JsonObject();
        view.addProperty("kind", topology == null ? null : topology.kind().label());
        JsonArray cards = new JsonArray();
        JsonArray links = new JsonArray();
        if (topology != null) {
            for (Card card : topology.cards()) {
                JsonObject json = new JsonObject();
                json.addProperty("index", card.index());
                json.addProperty("name", card.name());
                json.addProperty("provider", card.provider());
                json.addProperty("memoryBytes", card.memoryBytes());
                cards.add(json);
            }
            for (Link link : topology.links()) {
                JsonObject json = new JsonObject();
                json.addProperty("from", link.local());
                json.addProperty("to", link.remote());
                json.addProperty("state", link.state().name());
                json.addProperty("bandwidthBytesPerSecond", link.bandwidthBytesPerSecond());
                json.addProperty("latencySeconds", link.latencySeconds());
                links.add(json);
            }
        }
        view.add("cards", cards);
        view.add("links", links);
        view.addProperty("strategy", strategy);
        return view.toString();
    }
}
