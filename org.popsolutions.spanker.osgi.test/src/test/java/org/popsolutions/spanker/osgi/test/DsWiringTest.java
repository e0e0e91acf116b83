package org.popsolutions.spanker.osgi.test;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.api.topology.TopologyService;

/** The core bundles wire themselves through Declarative Services in a plain Felix, with no configuration at all. */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class DsWiringTest {
    static final Set<String> CORE_COMMANDS = Set.of("topology", "bandwidth", "pick", "allreduce", "allgather",
            "strategy");

    @InjectBundleContext
    BundleContext context;

    @InjectService(timeout = Eventually.TIMEOUT_MILLIS)
    TopologyService topologyService;

    @Test
    void theFrameworkIsFelix() {
        assertEquals("org.apache.felix.framework", context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).getSymbolicName());
    }

    @Test
    void theDefaultTopologyIsARingOfFourCardsWithEightUpLinks() {
        Eventually.until("a topology of 4 cards", () -> topologyService.current().cardCount() == 4,
                () -> topologyService.current());
        Topology topology = topologyService.current();
        assertAll(() -> assertEquals(TopologyKind.RING, topology.kind()),
                () -> assertEquals(4, topology.cardCount()),
                () -> assertEquals(8, topology.links().size(), topology.links()::toString),
                () -> assertTrue(topology.links().stream().allMatch(l -> l.state() == LinkState.UP),
                        topology.links()::toString),
                // Each card is cabled to its two ring neighbours.
                () -> assertTrue(topology.link(0, 1).isPresent() && topology.link(0, 3).isPresent()
                        && topology.link(0, 2).isEmpty(), topology.links()::toString));
    }

    @Test
    void theTopologyServicePropertiesDescribeTheTopology() {
        Eventually.until("a topology of 4 cards", () -> topologyService.current().cardCount() == 4,
                () -> topologyService.current());
        ServiceReference<TopologyService> reference = context.getServiceReference(TopologyService.class);
        assertAll(() -> assertEquals(4, reference.getProperty(TopologyService.CARD_COUNT)),
                () -> assertEquals("RING", reference.getProperty(TopologyService.KIND)));
    }

    @Test
    void everyCoreConsoleCommandIsRegistered() {
        Eventually.until("registered: every core command", () -> registeredCommands().containsAll(CORE_COMMANDS),
                this::registeredCommands);
        for (String name : CORE_COMMANDS) {
            ConsoleCommand command = Commands.command(context, name);
            assertEquals(name, command.spec().name(), "spec name of the service registered as " + name);
        }
    }

    @Test
    void thePickCommandReachesTheBandwidthStrategyThroughDs() {
        Eventually.until("registered: pick", () -> !Commands.named(context, "pick").isEmpty(), this::registeredCommands);
        String json = Commands.json(Commands.command(context, "pick"), "--m", "1", "--n", "5632", "--k", "2048",
                "--bpe", "2", "--cards", "4");
        assertAll(() -> assertTrue(json.contains("\"strategy\":\"ModelParallel\""), json),
                () -> assertTrue(json.contains("\"decidedBy\":\"bandwidth\""), json));
    }

    private Set<String> registeredCommands() {
        Set<String> names = new TreeSet<>();
        for (ServiceReference<ConsoleCommand> reference : Commands.all(context)) {
            names.add(String.valueOf(reference.getProperty(ConsoleCommand.NAME)));
        }
        return names;
    }
}
