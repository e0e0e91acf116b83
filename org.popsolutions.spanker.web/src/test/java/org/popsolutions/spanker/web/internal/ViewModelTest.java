package org.popsolutions.spanker.web.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.CardIdentity;
import org.popsolutions.spanker.api.card.CardMemory;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

class ViewModelTest {
    @Test
    void theDocumentHasEveryCardAndDirectedLinkWithItsStateAndTheStrategy() {
        Topology ring = Topology.uniform(TopologyKind.RING, 4, "mock", 1L << 32, 500_000_000L, 1e-6);
        JsonObject view = JsonParser.parseString(ViewModel.json(ring, "bandwidth")).getAsJsonObject();
        assertEquals("ring", view.get("kind").getAsString());
        assertEquals(4, view.getAsJsonArray("cards").size());
        assertEquals("mock2", view.getAsJsonArray("cards").get(2).getAsJsonObject().get("name").getAsString());
        assertEquals(1L << 32, view.getAsJsonArray("cards").get(2).getAsJsonObject().get("memoryBytes").getAsLong());
        assertEquals(8, view.getAsJsonArray("links").size());
        view.getAsJsonArray("links").forEach(link -> assertEquals("UP", link.getAsJsonObject().get("state").getAsString()));
        assertEquals("bandwidth", view.get("strategy").getAsString());
    }

    @Test
    void noCardsAndNoStrategyIsAnEmptyPictureNotAnError() {
        JsonObject view = JsonParser.parseString(ViewModel.json(null, null)).getAsJsonObject();
        assertTrue(view.get("kind").isJsonNull());
        assertEquals(0, view.getAsJsonArray("cards").size());
        assertEquals(0, view.getAsJsonArray("links").size());
        assertTrue(view.get("strategy").isJsonNull());
    }

    @Test
    void eachCardShowsTheMemoryItsBuffersHoldAndACardThatCannotAnswerShowsNone() {
        Topology ring = Topology.uniform(TopologyKind.RING, 3, "mock", 1L << 32, 500_000_000L, 1e-6);
        List<SailCard> cards = List.of(card("mock0", 12_345), card("mock2", -1));
        Map<String, Long> used = ViewModel.memoryInUse(cards);
        assertEquals(Map.of("mock/mock0", 12_345L), used);
        JsonObject view = JsonParser.parseString(ViewModel.json(ring, "bandwidth", used)).getAsJsonObject();
        JsonObject first = view.getAsJsonArray("cards").get(0).getAsJsonObject();
        assertEquals(12_345L, first.get("memoryUsedBytes").getAsLong());
        assertFalse(view.getAsJsonArray("cards").get(1).getAsJsonObject().has("memoryUsedBytes"));
        assertFalse(view.getAsJsonArray("cards").get(2).getAsJsonObject().has("memoryUsedBytes"));
    }

    /** A card answering its identity and memory; {@code used} < 0: its memory cannot be asked (lost). */
    private static SailCard card(String name, long used) {
        CardIdentity identity = new CardIdentity(0, name, "mock", "test", 1, 1L << 32, Set.of(), Set.of(), List.of());
        return (SailCard) Proxy.newProxyInstance(SailCard.class.getClassLoader(), new Class<?>[] {SailCard.class},
                (proxy, method, arguments) -> switch (method.getName()) {
                    case "identity" -> identity;
                    case "memory" -> {
                        if (used < 0) {
                            throw new IllegalStateException(name + " is lost");
                        }
                        yield new CardMemory(1L << 32, used, 3);
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
