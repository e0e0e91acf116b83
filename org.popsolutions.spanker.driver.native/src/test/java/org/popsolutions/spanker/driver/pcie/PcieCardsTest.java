package org.popsolutions.spanker.driver.pcie;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.annotation.Annotation;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.driver.jni.DriverStatus;
import org.popsolutions.spanker.driver.jni.FuseDouble;

class PcieCardsTest {
    @TempDir
    Path temp;

    @Test
    void everyEnumeratedNodeBecomesACardOfTheProviderPcie() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--cards", "3")) {
            PcieCards cards = PcieCards.from(config(dev.directory().toString(), "ring"));
            List<PcieSail> sails = cards.sails(DriverStatus.probe(dev.directory()));
            assertEquals(3, sails.size());
            for (int i = 0; i < 3; i++) {
                assertEquals(i, sails.get(i).card().index());
                assertEquals(dev.directory().resolve("spanker" + i).toString(), sails.get(i).card().name());
                assertEquals("pcie", sails.get(i).card().provider());
                assertEquals(TopologyKind.RING, sails.get(i).cabling());
            }
            // a ring of three: every card has one link to each neighbour, as configured (the ABI cannot read links)
            List<Link> links = sails.get(1).outgoingLinks();
            assertEquals(2, links.size());
            assertEquals(java.util.Set.of(0, 2), java.util.Set.of(links.get(0).remote(), links.get(1).remote()));
            for (Link link : links) {
                assertEquals(1, link.local());
                assertEquals(LinkState.UP, link.state());
                assertEquals(500_000_000L, link.bandwidthBytesPerSecond());
            }
        }
    }

    @Test
    void aBadCablingKindIsRefused() {
        assertThrows(InvalidConfigurationException.class, () -> PcieCards.from(config("/dev", "star")));
        assertThrows(InvalidConfigurationException.class, () -> PcieCards.from(config(" ", "RING")));
    }

    static PcieConfig config(String directory, String kind) {
        return new PcieConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return PcieConfig.class;
            }

            @Override
            public String devDirectory() {
                return directory;
            }

            @Override
            public String kind() {
                return kind;
            }

            @Override
            public long memoryBytes() {
                return 4_294_967_296L;
            }

            @Override
            public long linkBandwidthBytesPerSecond() {
                return 500_000_000L;
            }

            @Override
            public double linkLatencySeconds() {
                return 1e-6;
            }
        };
    }
}
