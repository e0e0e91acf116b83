package org.popsolutions.spanker.web.internal;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.card.CardIdentity;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.plot.Chart;
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
 * What the page shows, read from the services as they are now: the cards (index, name, memory and its use), every
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

    /** The cards themselves, asked for their memory in use (a Sails card answers over its host link). */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile List<SailCard> sailCards;

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
        JsonObject view = JsonParser.parseString(json(now, deciding == null ? null : deciding.name(),
                memoryInUse(sailCards))).getAsJsonObject();
        inference.addTo(view);
        return view.toString();
    }

    /** The chart of the current or last run; empty before a model's first token. */
    Optional<Chart> runChart() {
        return inference.chart();
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

    /**
     * Each card's bytes in use by name and provider, as the cards answer now; a card that cannot answer (lost, its
     * host link down) is left out.
     */
    static Map<String, Long> memoryInUse(List<SailCard> cards) {
        Map<String, Long> used = new HashMap<>();
        if (cards != null) {
            for (SailCard card : cards) {
                try {
                    CardIdentity identity = card.identity();
                    used.put(identity.provider() + "/" + identity.name(), card.memory().usedBytes());
                } catch (RuntimeException unreachable) {
                    // shown as unknown
                }
            }
        }
        return used;
    }

    static String json(Topology topology, String strategy) {
        return json(topology, strategy, Map.of());
    }

    /**
     * @param topology {@code null} when no card is registered; @param strategy {@code null} when none is
     * @param memoryInUse bytes in use by {@code provider/name}; a card not in it has no {@code memoryUsedBytes}
     */
    static String json(Topology topology, String strategy, Map<String, Long> memoryInUse) {
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
                Long used = memoryInUse.get(card.provider() + "/" + card.name());
                if (used != null) {
                    json.addProperty("memoryUsedBytes", used);
                }
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
