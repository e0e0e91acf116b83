package org.popsolutions.spanker.scheduler.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.link.LineCoding;
import org.popsolutions.spanker.api.link.LinkParameters;

class ConfiguredLinkModelTest {

    @Test
    void withoutConfigurationRevAIsInEffect() {
        ConfiguredLinkModel model = new ConfiguredLinkModel();
        model.configure(Map.of());
        assertEquals(LinkParameters.REV_A, model.parameters());
        assertTrue(model.lastRejection().isEmpty());
    }

    @Test
    void numbersGivenAsTextInTheReadmeNotationAreTaken() {
        ConfiguredLinkModel model = new ConfiguredLinkModel();
        model.configure(Map.of("lanes", "2", "laneBitsPerSecond", "2.5e9", "coding", "64B/66B",
                "hopLatencySeconds", "2e-6"));
        assertTrue(model.lastRejection().isEmpty(), () -> model.lastRejection().orElse(""));
        assertEquals(2, model.parameters().lanes());
        assertEquals(2_500_000_000L, model.parameters().laneBitsPerSecond());
        assertEquals(LineCoding.B64_B66, model.parameters().coding());
        assertEquals(2e-6, model.parameters().hopLatencySeconds());
    }

    @Test
    void aValueThatDoesNotParseIsRefusedByNameAndThePreviousModelStays() {
        ConfiguredLinkModel model = new ConfiguredLinkModel();
        model.configure(Map.of("lanes", 2));
        LinkParameters before = model.parameters();
        for (Map<String, Object> bad : java.util.List.<Map<String, Object>>of(Map.of("lanes", "fast"),
                Map.of("lanes", 2.5), Map.of("laneBitsPerSecond", 0), Map.of("coding", "4b/5b"),
                Map.of("hopLatencySeconds", "NaN"), Map.of("reduceBytesPerSecond", 0))) {
            model.configure(bad);
            assertEquals(before, model.parameters(), bad.toString());
            String why = model.lastRejection().orElseThrow();
            assertTrue(why.contains(bad.keySet().iterator().next()), why);
        }
    }
}
