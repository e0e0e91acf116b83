package org.popsolutions.spanker.console.internal;

import java.io.IOException;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.NoSailsException;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.api.topology.TopologyService;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;

/**
 * Shows the cards and directed links. With {@code --cards}/{@code --kind} it first reconfigures the mock
 * device through Config Admin and waits until the topology is republished.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=topology")
public final class TopologyCommand extends AbstractConsoleCommand {
    static final String MOCK_PID = "org.popsolutions.spanker.device.mock";
    private static final long REPUBLISH_TIMEOUT_MILLIS = 10_000;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile TopologyService topology;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ConfigurationAdmin configurationAdmin;

    public TopologyCommand() {
        super("topology", "Cards and directed links with their state; --cards/--kind reconfigure the mock device",
                List.of(OptionSpec.value("cards", "N", "reconfigure the mock device to N cards (1..256)", null),
                        OptionSpec.choice("kind", List.of("ring", "mesh"), "reconfigure the mock device's cabling",
                                null)));
    }

    @Override
    protected Report run(Arguments arguments) {
        Optional<Integer> cards = arguments.integer("cards");
        Optional<TopologyKind> kind = arguments.choice("kind", TopologyKind.class);
        if (cards.isPresent() && (cards.get() < 1 || cards.get() > 256)) {
            throw new UsageException("option --cards must be within 1..256, got " + cards.get());
        }
        if (cards.isPresent() || kind.isPresent()) {
            reconfigureMock(cards, kind);
        }
        return report(topology.current());
    }

    private void reconfigureMock(Optional<Integer> cards, Optional<TopologyKind> kind) {
        ConfigurationAdmin admin = configurationAdmin;
        if (admin == null) {
            throw new DeviceException("cannot reconfigure the mock device: no Configuration Admin service is running");
        }
        int wantedCards;
        TopologyKind wantedKind;
        try {
            Configuration configuration = admin.getConfiguration(MOCK_PID, "?");
            Dictionary<String, Object> properties = configuration.getProperties();
            if (properties == null) {
                properties = new Hashtable<>();
            }
            Topology before = currentOrNull();
            wantedCards = cards.orElseGet(() -> before == null ? 0 : before.cardCount());
            wantedKind = kind.orElseGet(() -> before == null ? TopologyKind.RING : before.kind());
            properties.put("cards", wantedCards);
            properties.put("kind", wantedKind.name());
            configuration.update(properties);
        } catch (IOException e) {
            throw new DeviceException("cannot store the mock device configuration: " + e.getMessage(), e);
        }
        awaitTopology(wantedCards, wantedKind);
    }

    private void awaitTopology(int cards, TopologyKind kind) {
        long deadline = System.nanoTime() + REPUBLISH_TIMEOUT_MILLIS * 1_000_000;
        while (System.nanoTime() < deadline) {
            Topology now = currentOrNull();
            int count = now == null ? 0 : now.cardCount();
            if (count == cards && (cards == 0 || now.kind() == kind && now.links().size() == kind.directedPairs(cards).size())) {
                return;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new DeviceException("the mock device was reconfigured to " + cards + " cards (" + kind
                + ") but the topology did not follow within " + REPUBLISH_TIMEOUT_MILLIS / 1000
                + " s; is the mock device the active provider?");
    }

    private Topology currentOrNull() {
        try {
            return topology.current();
        } catch (NoSailsException e) {
            return null;
        }
    }

    static Report report(Topology topology) {
        String cabling = topology.kind().label();
        Rows cards = new Rows("cards", "Cards (" + cabling + ")", Column.of("index", "Card"), Column.of("name", "Name"),
                Column.of("provider", "Provider"), Column.of("memoryBytes", "Memory", Unit.BYTES));
        for (Card card : topology.cards()) {
            cards.add(card.index(), card.name(), card.provider(), card.memoryBytes());
        }
        Rows links = new Rows("links", "Links", Column.of("from", "From"), Column.of("to", "To"),
                Column.of("state", "State"), Column.of("bandwidthBytesPerSecond", "Bandwidth", Unit.BYTES_PER_SECOND),
                Column.of("latencySeconds", "Latency", Unit.SECONDS));
        for (Link link : topology.links()) {
            links.add(link.local(), link.remote(), link.state().name(), link.bandwidthBytesPerSecond(),
                    link.latencySeconds());
        }
        Report report = new Report().put("kind", cabling).rows(cards).rows(links);
        report.line(topology.cardCount() + " cards, " + topology.links().size() + " directed links, cabled as a "
                + cabling);
        return report;
    }
}
