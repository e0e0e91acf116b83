package org.popsolutions.spanker.osgi.test;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.api.topology.TopologyService;

/** The mock device is configured live through Config Admin and the topology follows without a restart. */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class MockDeviceConfigurationTest {
    @InjectBundleContext
    BundleContext context;

    @InjectService(timeout = Eventually.TIMEOUT_MILLIS)
    ConfigurationAdmin configurationAdmin;

    @InjectService(timeout = Eventually.TIMEOUT_MILLIS)
    TopologyService topologyService;

    @AfterEach
    void restoreTheDefaultCards() throws Exception {
        Configurations.deleteAll(configurationAdmin, Configurations.MOCK_DEVICE_PID);
        Eventually.until("back to the default RING of 4", () -> isTopology(TopologyKind.RING, 4),
                this::describeTopology);
    }

    @Test
    void eightCardsAsAMeshAreRepublishedWithFiftySixLinks() throws Exception {
        Configurations.update(configurationAdmin, Configurations.MOCK_DEVICE_PID, Map.of("cards", 8, "kind", "MESH"));

        Eventually.until("a MESH of 8 cards", () -> isTopology(TopologyKind.MESH, 8), this::describeTopology);
        Topology topology = topologyService.current();
        ServiceReference<TopologyService> reference = context.getServiceReference(TopologyService.class);
        assertAll(() -> assertEquals(56, topology.links().size(), "n(n-1) directed links for n = 8"),
                () -> assertTrue(topology.links().stream().allMatch(l -> l.state() == LinkState.UP)),
                () -> assertEquals(0, topology.links().get(0).local(), "local-major order"),
                () -> assertEquals(1, topology.links().get(0).remote(), "local-major order"),
                () -> assertEquals(7, topology.links().get(55).local(), "local-major order"),
                () -> assertEquals(8, reference.getProperty(TopologyService.CARD_COUNT)),
                () -> assertEquals("MESH", reference.getProperty(TopologyService.KIND)));
    }

    @Test
    void aValueThatDoesNotParseIsRefusedAndTheCardsStay() throws Exception {
        Configurations.update(configurationAdmin, Configurations.MOCK_DEVICE_PID, Map.of("cards", "2", "kind", "ring"));
        Eventually.until("a RING of 2 cards from text values", () -> isTopology(TopologyKind.RING, 2),
                this::describeTopology);

        for (Map<String, Object> bad : List.<Map<String, Object>>of(Map.of("cards", "abc"), Map.of("cards", -1),
                Map.of("cards", 3, "linkBandwidthBytesPerSecond", 0))) {
            Configurations.update(configurationAdmin, Configurations.MOCK_DEVICE_PID, bad);
            Thread.sleep(300);
            assertTrue(isTopology(TopologyKind.RING, 2), bad + " was refused: " + describeTopology());
        }
        Configurations.update(configurationAdmin, Configurations.MOCK_DEVICE_PID, Map.of("cards", "3e0"));
        Eventually.until("the component still takes a valid configuration", () -> isTopology(TopologyKind.RING, 3),
                this::describeTopology);
    }

    @Test
    void deletingTheConfigurationRestoresTheDefaultRing() throws Exception {
        Configurations.update(configurationAdmin, Configurations.MOCK_DEVICE_PID, Map.of("cards", 2, "kind", "RING"));
        Eventually.until("a RING of 2 cards", () -> isTopology(TopologyKind.RING, 2), this::describeTopology);
        assertEquals(2, topologyService.current().links().size(), "a ring of 2 has one link each way");

        Configurations.deleteAll(configurationAdmin, Configurations.MOCK_DEVICE_PID);
        Eventually.until("the default RING of 4", () -> isTopology(TopologyKind.RING, 4),
                this::describeTopology);
        assertEquals(8, topologyService.current().links().size());
    }

    @Test
    void theRegisteredDeviceOfACardIsTheCardTheProviderHandsOut() throws Exception {
        // a memory no other test configures: the topology shows it only once this configuration's cards are the
        // registered ones (an earlier RING of 3 may still be registered while they are replaced)
        long memory = 3_000_000_000L;
        Configurations.update(configurationAdmin, Configurations.MOCK_DEVICE_PID, Map.of("cards", 3, "kind", "RING",
                "memoryBytes", memory));
        Eventually.until("a RING of 3 cards of " + memory + " bytes", () -> isTopology(TopologyKind.RING, 3, memory),
                this::describeTopology);
        List<SailDevice> registered = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ServiceReference<?>[] refs = context.getServiceReferences(SailDevice.class.getName(),
                    "(&(" + SailDevice.PROVIDER + "=mock)(" + SailDevice.CARD_INDEX + "=" + i + "))");
            assertEquals(1, refs.length, "card " + i + " is registered once");
            assertEquals(List.of(SailDevice.class.getName(), SailCard.class.getName()),
                    List.of((String[]) refs[0].getProperty(org.osgi.framework.Constants.OBJECTCLASS)),
                    "one registration carries both facets of card " + i);
            registered.add((SailDevice) context.getService(refs[0]));
        }
        CardProvider provider = context.getService(context.getServiceReferences(CardProvider.class,
                "(" + CardProvider.PROVIDER + "=mock)").iterator().next());
        Topology topology = topologyService.current();
        try (CardGroup group = provider.open(CardGroupSpec.of(topology))) {
            for (int i = 0; i < 3; i++) {
                assertSame(registered.get(i), group.cards().get(i), "card " + i + " is one object");
            }
            group.cards().get(1).allocate(1000, "seen from the service");
            assertEquals(1000, ((SailCard) registered.get(1)).memory().usedBytes());
            try (CardGroup second = provider.open(CardGroupSpec.of(topology))) {
                assertSame(registered.get(0), second.cards().get(0),
                        "while one group holds the cards, another gets the same cards");
            }
            assertEquals(1000, ((SailCard) registered.get(1)).memory().usedBytes(),
                    "the second group closing left the first group's buffers");
        }
        assertEquals(0, ((SailCard) registered.get(1)).memory().usedBytes(), "closing the group freed its buffers");
        try (CardGroup again = provider.open(CardGroupSpec.of(topology))) {
            assertSame(registered.get(0), again.cards().get(0), "handed back, the cards are claimed again");
        }
    }

    private String describeTopology() {
        try {
            Topology topology = topologyService.current();
            return topology.kind() + " of " + topology.cardCount() + " cards, " + topology.links().size() + " links";
        } catch (SpankerException e) {
            return e.getMessage();
        }
    }

    private boolean isTopology(TopologyKind kind, int cards, long memoryBytes) {
        try {
            return isTopology(kind, cards)
                    && topologyService.current().cards().stream().allMatch(c -> c.memoryBytes() == memoryBytes);
        } catch (SpankerException noCardsForAMoment) {
            return false;
        }
    }

    private boolean isTopology(TopologyKind kind, int cards) {
        try {
            Topology topology = topologyService.current();
            return topology.kind() == kind && topology.cardCount() == cards;
        } catch (SpankerException noCardsForAMoment) {
            // While the cards are re-registered there may briefly be none.
            return false;
        }
    }
}
