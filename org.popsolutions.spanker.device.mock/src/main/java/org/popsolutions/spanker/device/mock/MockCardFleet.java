package org.popsolutions.spanker.device.mock;

import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import org.osgi.annotation.bundle.Capability;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.log.Logger;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.config.ConfigProperties;
import org.popsolutions.spanker.api.NotImplementedException;
import org.popsolutions.spanker.api.compute.DeviceTrace;
import org.popsolutions.spanker.api.compute.MatmulInt4;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.device.mock.card.LinkEventSink;
import org.popsolutions.spanker.device.mock.card.MockCardGroup;

/**
 * Makes the configured mock cards and registers each one — the very object that computes, a {@link MockCard} —
 * as its {@link SailDevice} and {@link SailCard} service. A configuration change replaces the whole set; a
 * configuration that is invalid is refused and the cards already registered stay. The {@link MockCardProvider}
 * hands these cards to every group that asks for exactly them ({@link #claim}), several at once.
 */
@Component(configurationPid = MockCardFleet.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        service = MockCardFleet.class, immediate = true)
@Designate(ocd = MockDeviceConfig.class)
@Capability(namespace = "osgi.service", attribute = "objectClass:List<String>="
        + "'org.popsolutions.spanker.api.topology.SailDevice,org.popsolutions.spanker.api.card.SailCard'")
@Capability(namespace = "osgi.service", attribute = "objectClass:List<String>="
        + "'org.popsolutions.spanker.api.compute.MatmulInt4,org.popsolutions.spanker.api.compute.DeviceTrace'")
public final class MockCardFleet {
    public static final String PID = "org.popsolutions.spanker.device.mock";

    /** Karaf's log (pax-logging) when there is one; the standalone launcher has none and prints to stderr. */
    @Reference(service = LoggerFactory.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC)
    private volatile Logger logger;

    private final BundleContext context;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();
    private MockCardsSpec spec;
    /** The configured cards (the registered services). */
    private MockCardGroup cards;

    /** Where the cards' port changes go (EventAdmin), when that component is active. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile LinkEventSink events;

    /** The host's int4 matmul, which the mock cards compute with; not one of the cards' own. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, target = "(!(" + SailDevice.CARD_INDEX + "=*))")
    private volatile MatmulInt4 hostMatmul;

    @Activate
    public MockCardFleet(BundleContext context, Map<String, Object> properties) {
        this.context = context;
        apply(properties);
    }

    @Modified
    void modified(Map<String, Object> properties) {
        apply(properties);
    }

    @Deactivate
    synchronized void deactivate() {
        unregisterAll();
        closeCards();
    }

    /**
     * The configured cards, as a group, for a user whose spec names exactly them (the topology assembled from their
     * services, links in their present states), shared with any other group that holds them; otherwise null, and the
     * provider makes cards of the group's own (another number of cards, another cabling).
     *
     * @throws org.popsolutions.spanker.api.DeviceException when the cards are held under another link shaping
     */
    synchronized CardGroup claim(CardGroupSpec requested) {
        if (cards == null || !requested.topology().equals(cards.currentTopology())) {
            return null;
        }
        return cards.claim(requested);
    }

    private void closeCards() {
        if (cards != null) {
            cards.close();
            cards = null;
        }
    }

    private synchronized void apply(Map<String, Object> configuration) {
        MockCardsSpec requested;
        try {
            requested = MockCardsSpec.from(new ConfigProperties(PID, configuration));
        } catch (InvalidConfigurationException e) {
            // Config Admin has no way to hand the error back; keep the working cards and say why on stderr.
            System.err.println("spanker mock device: configuration refused, keeping " + describe(spec) + ": "
                    + e.getMessage());
            Logger log = logger;
            if (log != null) {
                log.error("configuration {} refused, the previous one stays: {}", PID, e.getMessage());
            }
            if (spec != null) {
                return;
            }
            requested = MockCardsSpec.DEFAULT;
        }
        if (requested.equals(spec)) {
            return;
        }
        unregisterAll();
        closeCards();
        spec = requested;
        cards = new MockCardGroup(CardGroupSpec.of(requested.topology()), MockCardsSpec.PROVIDER,
                (card, port, neighbour, state, previous) -> {
                    LinkEventSink sink = events;
                    if (sink != null) {
                        sink.linkState(card, port, neighbour, state, previous);
                    }
                });
        for (int index = 0; index < requested.cards(); index++) {
            Dictionary<String, Object> properties = new Hashtable<>();
            properties.put(SailDevice.CARD_INDEX, index);
            properties.put(SailDevice.PROVIDER, MockCardsSpec.PROVIDER);
            // one object per card: the topology's SailDevice is the SailCard that computes
            registrations.add(context.registerService(new String[] {SailDevice.class.getName(),
                SailCard.class.getName()}, cards.cards().get(index), properties));
            registrations.add(context.registerService(new String[] {MatmulInt4.class.getName(),
                DeviceTrace.class.getName()}, new MockMatmul(this::hostMatmul), properties));
        }
    }

    private MatmulInt4 hostMatmul() {
        MatmulInt4 host = hostMatmul;
        if (host == null) {
            throw new NotImplementedException("mock card matmul needs the host's int4 matmul: install the ggml bundle");
        }
        return host;
    }

    private void unregisterAll() {
        // Highest index first, so the topology never shows a gap in the middle while cards go away.
        for (int i = registrations.size() - 1; i >= 0; i--) {
            try {
                registrations.get(i).unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework is stopping and took it already
            }
        }
        registrations.clear();
    }

    private static String describe(MockCardsSpec spec) {
        return spec == null ? "the defaults" : spec.cards() + " cards (" + spec.kind() + ")";
    }
}
