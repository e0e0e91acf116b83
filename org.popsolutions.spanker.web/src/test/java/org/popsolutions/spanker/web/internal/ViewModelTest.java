package org.popsolutions.spanker.web.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
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
}
