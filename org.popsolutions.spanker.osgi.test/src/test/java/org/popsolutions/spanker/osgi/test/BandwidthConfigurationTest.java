package org.popsolutions.spanker.osgi.test;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.bandwidth.BandwidthModelService;

/**
 * The bandwidth model is configured through Config Admin; a configuration that breaks an invariant is refused with
 * a message naming it, and the model in effect stays what it was.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class BandwidthConfigurationTest {
    /** Keeps every invariant: DDR 1.6 GB/s = 4 x 400 MB/s, host link 100 MB/s. */
    static final BandwidthModel SLOWER_VALID = new BandwidthModel(1_600_000_000L, 400_000_000L, 100_000_000L);
    /** DDR 1 GB/s with the default 500 MB/s inter-card link: DDR is no longer at least 4 x inter-card. */
    static final BandwidthModel BREAKS_DDR_4X = new BandwidthModel(1_000_000_000L, 500_000_000L, 100_000_000L);

    @InjectBundleContext
    BundleContext context;

    @InjectService(timeout = Eventually.TIMEOUT_MILLIS)
    ConfigurationAdmin configurationAdmin;

    @InjectService(timeout = Eventually.TIMEOUT_MILLIS)
    BandwidthModelService bandwidth;

    @BeforeEach
    @AfterEach
    void restoreTheDefaults() throws Exception {
        Configurations.deleteAll(configurationAdmin, Configurations.BANDWIDTH_PID);
        Eventually.until("back on the default model with no rejection",
                () -> bandwidth.current().equals(BandwidthModel.DEFAULT) && bandwidth.lastRejection().isEmpty(),
                this::describe);
    }

    @Test
    void aValidConfigurationTakesEffect() throws Exception {
        configure(SLOWER_VALID);

        Eventually.until("on the configured model", () -> bandwidth.current().equals(SLOWER_VALID), this::describe);
        assertAll(() -> assertTrue(bandwidth.lastRejection().isEmpty(), this::describe),
                () -> assertTrue(bandwidth.source().contains(Configurations.BANDWIDTH_PID), bandwidth::source));
    }

    @Test
    void aConfigurationBreakingAnInvariantIsRefusedNamingItAndTheDefaultsStay() throws Exception {
        configure(BREAKS_DDR_4X);

        Eventually.until("refused", () -> bandwidth.lastRejection().isPresent(), this::describe);
        String rejection = bandwidth.lastRejection().orElseThrow();
        assertAll(() -> assertTrue(rejection.contains("ddr-at-least-4x-intercard"), rejection),
                () -> assertEquals(BandwidthModel.DEFAULT, bandwidth.current()));
    }

    @Test
    void aRefusedConfigurationKeepsThePreviouslyConfiguredModel() throws Exception {
        configure(SLOWER_VALID);
        Eventually.until("on the configured model", () -> bandwidth.current().equals(SLOWER_VALID), this::describe);

        configure(BREAKS_DDR_4X);
        Eventually.until("refused", () -> bandwidth.lastRejection().isPresent(), this::describe);
        assertAll(() -> assertEquals(SLOWER_VALID, bandwidth.current(), "the previous model stays in effect"),
                () -> assertTrue(bandwidth.lastRejection().orElseThrow().contains("ddr-at-least-4x-intercard"),
                        this::describe));
    }

    @Test
    void aValueThatDoesNotParseIsRefusedNamingThePropertyAndTheServiceStays() throws Exception {
        configure(SLOWER_VALID);
        Eventually.until("on the configured model", () -> bandwidth.current().equals(SLOWER_VALID), this::describe);

        Configurations.update(configurationAdmin, Configurations.BANDWIDTH_PID, Map.of(
                "localDdrBytesPerSecond", "fast", "intercardBytesPerSecond", 400_000_000L,
                "hostLinkBytesPerSecond", 90_000_000L));
        Eventually.until("refused", () -> bandwidth.lastRejection().isPresent(), this::describe);
        assertAll(() -> assertEquals(SLOWER_VALID, bandwidth.current(), "the previous model stays in effect"),
                () -> assertTrue(bandwidth.lastRejection().orElseThrow().contains("localDdrBytesPerSecond"),
                        this::describe));

        Configurations.update(configurationAdmin, Configurations.BANDWIDTH_PID, Map.of(
                "localDdrBytesPerSecond", "2e9", "intercardBytesPerSecond", "5e8", "hostLinkBytesPerSecond", "1e8"));
        Eventually.until("the README's notation taken", () -> bandwidth.current().equals(BandwidthModel.DEFAULT)
                && bandwidth.lastRejection().isEmpty(), this::describe);
    }

    @Test
    void thePickCommandCostsWithTheConfiguredModel() throws Exception {
        configure(SLOWER_VALID);
        Eventually.until("on the configured model", () -> bandwidth.current().equals(SLOWER_VALID), this::describe);

        String json = Commands.json(Commands.command(context, "pick"), "--m", "1", "--n", "5632", "--k", "2048",
                "--cards", "4");
        assertAll(() -> assertTrue(json.contains("\"localDdrBytesPerSecond\":1600000000"), json),
                () -> assertTrue(json.contains("\"intercardBytesPerSecond\":400000000"), json));
    }

    private void configure(BandwidthModel model) throws Exception {
        Configurations.update(configurationAdmin, Configurations.BANDWIDTH_PID, Map.of(
                "localDdrBytesPerSecond", model.localDdrBytesPerSecond(),
                "intercardBytesPerSecond", model.intercardBytesPerSecond(),
                "hostLinkBytesPerSecond", model.hostLinkBytesPerSecond()));
    }

    private String describe() {
        return bandwidth.current() + " from " + bandwidth.source() + ", last rejection: "
                + bandwidth.lastRejection().orElse("none");
    }
}
