package org.popsolutions.spanker.strategy.bandwidth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;

class ConfiguredBandwidthModelTest {

    private static Map<String, Object> config(Object ddr, Object intercard, Object host) {
        return Map.of("service.pid", ConfiguredBandwidthModel.PID, "localDdrBytesPerSecond", ddr,
                "intercardBytesPerSecond", intercard, "hostLinkBytesPerSecond", host);
    }

    @Test
    void withoutConfigurationTheSpecDefaultsAreInEffect() {
        ConfiguredBandwidthModel service = new ConfiguredBandwidthModel();
        service.configure(Map.of());
        assertEquals(BandwidthModel.DEFAULT, service.current());
        assertEquals(ConfiguredBandwidthModel.DEFAULTS, service.source());
        assertTrue(service.lastRejection().isEmpty());
    }

    @Test
    void validConfigurationTakesEffect() {
        ConfiguredBandwidthModel service = new ConfiguredBandwidthModel();
        service.configure(config(2_400_000_000L, 600_000_000L, 117_000_000L));
        assertEquals(new BandwidthModel(2_400_000_000L, 600_000_000L, 117_000_000L), service.current());
        assertTrue(service.source().contains(ConfiguredBandwidthModel.PID));
    }

    @Test
    void configurationBreakingAnInvariantIsRefusedAndThePreviousModelStays() {
        ConfiguredBandwidthModel service = new ConfiguredBandwidthModel();
        service.configure(config(2_400_000_000L, 600_000_000L, 117_000_000L));
        BandwidthModel before = service.current();
        service.configure(config(1_000_000_000L, 500_000_000L, 100_000_000L));
        assertEquals(before, service.current());
        String why = service.lastRejection().orElseThrow();
        assertTrue(why.contains("ddr-at-least-4x-intercard"), why);
        assertTrue(why.contains("ddr-litedram-range"), why);
    }

    @Test
    void aLaterValidConfigurationClearsTheRejection() {
        ConfiguredBandwidthModel service = new ConfiguredBandwidthModel();
        service.configure(config(0, 0, 0));
        assertEquals(BandwidthModel.DEFAULT, service.current());
        assertTrue(service.lastRejection().orElseThrow().contains("tiers-positive"));
        service.configure(config(1_600_000_000L, 400_000_000L, 90_000_000L));
        assertEquals(new BandwidthModel(1_600_000_000L, 400_000_000L, 90_000_000L), service.current());
        assertTrue(service.lastRejection().isEmpty());
    }

    @Test
    void theReadmeNotationAndTextValuesAreAccepted() {
        ConfiguredBandwidthModel service = new ConfiguredBandwidthModel();
        service.configure(config("1.6e9", "4e8", 90_000_000));
        assertEquals(new BandwidthModel(1_600_000_000L, 400_000_000L, 90_000_000L), service.current());
        service.configure(config(2e9, "500_000_000", "1e8"));
        assertEquals(BandwidthModel.DEFAULT, service.current());
    }

    @Test
    void aValueThatDoesNotParseIsRefusedByNameAndThePreviousModelStays() {
        ConfiguredBandwidthModel service = new ConfiguredBandwidthModel();
        service.configure(config(2_400_000_000L, 600_000_000L, 117_000_000L));
        BandwidthModel before = service.current();
        for (Map<String, Object> bad : java.util.List.of(config("fast", 600_000_000L, 117_000_000L),
                config(2.5e9 + 0.5, 600_000_000L, 117_000_000L), config(2_400_000_000L, -1, 117_000_000L),
                config(2_400_000_000L, 600_000_000L, "1e400"))) {
            service.configure(bad);
            assertEquals(before, service.current());
            String why = service.lastRejection().orElseThrow();
            assertTrue(why.contains("property "), why);
            assertTrue(why.contains(ConfiguredBandwidthModel.PID), why);
        }
        assertTrue(service.lastRejection().orElseThrow().contains("hostLinkBytesPerSecond"));
    }
}
