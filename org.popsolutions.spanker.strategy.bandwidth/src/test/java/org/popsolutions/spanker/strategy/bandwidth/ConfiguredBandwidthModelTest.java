package org.popsolutions.spanker.strategy.bandwidth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;

class ConfiguredBandwidthModelTest {

    private static BandwidthConfig config(long ddr, long intercard, long host) {
        return new BandwidthConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return BandwidthConfig.class;
            }

            @Override
            public long localDdrBytesPerSecond() {
                return ddr;
            }

            @Override
            public long intercardBytesPerSecond() {
                return intercard;
            }

            @Override
            public long hostLinkBytesPerSecond() {
                return host;
            }
        };
    }

    private static final Map<String, Object> CONFIGURED = Map.of("service.pid", ConfiguredBandwidthModel.PID);

    @Test
    void withoutConfigurationTheSpecDefaultsAreInEffect() {
        ConfiguredBandwidthModel service = new ConfiguredBandwidthModel();
        service.configure(config(2_000_000_000L, 500_000_000L, 100_000_000L), Map.of());
        assertEquals(BandwidthModel.DEFAULT, service.current());
        assertEquals(ConfiguredBandwidthModel.DEFAULTS, service.source());
        assertTrue(service.lastRejection().isEmpty());
    }

    @Test
    void validConfigurationTakesEffect() {
        ConfiguredBandwidthModel service = new ConfiguredBandwidthModel();
        service.configure(config(2_400_000_000L, 600_000_000L, 117_000_000L), CONFIGURED);
        assertEquals(new BandwidthModel(2_400_000_000L, 600_000_000L, 117_000_000L), service.current());
        assertTrue(service.source().contains(ConfiguredBandwidthModel.PID));
    }

    @Test
    void configurationBreakingAnInvariantIsRefusedAndThePreviousModelStays() {
        ConfiguredBandwidthModel service = new ConfiguredBandwidthModel();
        service.configure(config(2_400_000_000L, 600_000_000L, 117_000_000L), CONFIGURED);
        BandwidthModel before = service.current();
        service.configure(config(1_000_000_000L, 500_000_000L, 100_000_000L), CONFIGURED);
        assertEquals(before, service.current());
        String why = service.lastRejection().orElseThrow();
        assertTrue(why.contains("ddr-at-least-4x-intercard"), why);
        assertTrue(why.contains("ddr-litedram-range"), why);
    }

    @Test
    void aLaterValidConfigurationClearsTheRejection() {
        ConfiguredBandwidthModel service = new ConfiguredBandwidthModel();
        service.configure(config(0, 0, 0), CONFIGURED);
        assertEquals(BandwidthModel.DEFAULT, service.current());
        assertTrue(service.lastRejection().orElseThrow().contains("tiers-positive"));
        service.configure(config(1_600_000_000L, 400_000_000L, 90_000_000L), CONFIGURED);
        assertEquals(new BandwidthModel(1_600_000_000L, 400_000_000L, 90_000_000L), service.current());
        assertTrue(service.lastRejection().isEmpty());
    }
}
