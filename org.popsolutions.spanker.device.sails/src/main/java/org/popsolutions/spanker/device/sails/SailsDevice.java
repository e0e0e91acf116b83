package org.popsolutions.spanker.device.sails;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.osgi.annotation.bundle.Capability;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.card.ForwardingCard;
import org.popsolutions.spanker.api.card.LinkPort;
import org.popsolutions.spanker.api.card.PortStatus;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * Connects to every configured card, and registers for each one it holds a {@link SailDevice} (the topology) and a
 * {@link SailCard} (the SPI), plus one {@link CardProvider} named {@code sails}. Link states follow the cards'
 * LINK_EVENTs; a card whose connection breaks is unregistered at once (the topology is republished without it, the
 * remaining cards renumbered 0..k−1 in cable order) and reconnected with backoff.
 *
 * <p>Active when its configuration PID exists with {@code enabled=true}, or when the framework property
 * {@value #DEVICE_PROPERTY} is {@code sails} (the launcher's {@code --device sails}).
 */
@Component(configurationPid = SailsDevice.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {},
        immediate = true)
@Designate(ocd = SailsDeviceConfig.class)
@Capability(namespace = "osgi.service", attribute = "objectClass:List<String>="
        + "'org.popsolutions.spanker.api.topology.SailDevice,org.popsolutions.spanker.api.card.SailCard,"
        + "org.popsolutions.spanker.api.card.CardProvider'")
public final class SailsDevice {
    public static final String PID = "org.popsolutions.spanker.device.sails";
    /** Framework property naming the device the launcher asked for. */
    public static final String DEVICE_PROPERTY = "spanker.device";
    /** Framework property: endpoints given on the launcher's command line. */
    public static final String ENDPOINTS_PROPERTY = "spanker.sails.endpoints";

    private final BundleContext context;
    private final ScheduledExecutorService reconnects = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sails-reconnect");
        t.setDaemon(true);
        return t;
    });
    private final List<String> endpoints;
    private final byte[] secret;
    private final SailsDeviceConfig config;
    /** Live connections by endpoint position. */
    private final Map<Integer, CardConnection> connected = new ConcurrentHashMap<>();
    /** Each connection's port states: LINK_STATUS when it connected, then its LINK_EVENTs. */
    private final Map<CardConnection, Map<Integer, LinkState>> portStates = new ConcurrentHashMap<>();
    private final Map<Integer, Long> backoff = new HashMap<>();
    /** One epoch for every card this device drives: a failed program's round is given up on all of them. */
    private final ProgramEpochs epochs = new ProgramEpochs();
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();
    /** The link model in effect: the host NIC pacer reads its host-link rate and NIC setting from it. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile LinkModel linkModel;
    /** The fleet is shaped: this host's NIC is paced too (see {@link HostNicPacer}). */
    private boolean shapedFleet;
    /** One NIC for all of this host's cards, made when the first card tells its time dilation. */
    private HostNicPacer hostNic;
    private List<SailsCard> cards = List.of();
    private volatile boolean active;

    /** The mock device's PID: while the Sails cards are driven, the mock is configured to 0 cards. */
    static final String MOCK_PID = "org.popsolutions.spanker.device.mock";
    private final ConfigurationAdmin configurationAdmin;
    private Object mockCardsBefore;
    private boolean mockStoodAside;

    public SailsDevice(BundleContext context, SailsDeviceConfig config, Map<String, Object> properties) {
        this(context, config, properties, null);
    }

    @Activate
    public SailsDevice(BundleContext context, SailsDeviceConfig config, Map<String, Object> properties,
            @Reference(cardinality = ReferenceCardinality.OPTIONAL) ConfigurationAdmin configurationAdmin) {
        this.context = context;
        this.config = config;
        this.configurationAdmin = configurationAdmin;
        boolean configured = properties.containsKey("component.id") && properties.containsKey("service.pid");
        boolean asked = "sails".equals(context.getProperty(DEVICE_PROPERTY));
        if (!(asked || configured && config.enabled())) {
            this.endpoints = List.of();
            this.secret = null;
            return;
        }
        String given = context.getProperty(ENDPOINTS_PROPERTY);
        String configuredEndpoints = given != null && !given.isBlank() ? given : config.endpoints();
        Path fleetDirectory = config.fleetDirectory().isBlank() ? Fleet.defaultDirectory(context)
                : Path.of(config.fleetDirectory());
        Fleet.State fleet = configuredEndpoints.isBlank() || config.secretFile().isBlank()
                ? Fleet.read(fleetDirectory).orElse(null) : null;
        // only a fleet of shaped emulators wants its host's NIC emulated: real cards sit behind a real NIC
        this.shapedFleet = fleet != null && !fleet.unshaped();
        if (configuredEndpoints.isBlank()) {
            if (fleet == null) {
                // Not an error of the component: there is simply nothing to drive yet. Say so where the user looks.
                System.err.println("spanker device.sails: no Sails endpoints are configured and no fleet is running ("
                        + fleetDirectory.resolve(Fleet.STATE_FILE) + "): start one with 'spanker fleet start --cards"
                        + " N' or pass --endpoints");
                this.endpoints = List.of();
                this.secret = null;
                return;
            }
            configuredEndpoints = String.join(",", fleet.cards().stream().map(Fleet.Member::endpoint).toList());
        }
        this.endpoints = Arrays.stream(configuredEndpoints.split(",")).map(String::strip).filter(s -> !s.isEmpty())
                .toList();
        endpoints.forEach(CardConnection::splitEndpoint);
        if (!config.secretFile().isBlank()) {
            this.secret = readSecret(Path.of(config.secretFile()));
        } else if (fleet != null) {
            this.secret = Fleet.secret(fleet);
        } else {
            throw new InvalidConfigurationException("set secretFile: the Sails cards at " + configuredEndpoints
                    + " are driven only with their fleet secret");
        }
        active = true;
        standMockAside();
        // The first connection is made here, so a command started right after finds the cards.
        for (int i = 0; i < endpoints.size(); i++) {
            tryConnect(i);
        }
        republish();
    }

    private static byte[] readSecret(Path file) {
        try {
            return java.util.HexFormat.of().parseHex(Files.readString(file).strip());
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new InvalidConfigurationException("cannot read the Sails fleet secret " + file + ": " + e.getMessage());
        }
    }

    /** Two providers would both claim card 0: the mock steps back while this device drives the cards. */
    private void standMockAside() {
        if (configurationAdmin == null) {
            return;
        }
        try {
            Configuration mock = configurationAdmin.getConfiguration(MOCK_PID, "?");
            Dictionary<String, Object> properties = mock.getProperties();
            if (properties == null) {
                properties = new Hashtable<>();
            }
            mockCardsBefore = properties.get("cards");
            properties.put("cards", 0);
            mock.update(properties);
            mockStoodAside = true;
        } catch (java.io.IOException e) {
            System.err.println("spanker device.sails: cannot configure the mock device to 0 cards: " + e.getMessage());
        }
    }

    private void bringMockBack() {
        if (!mockStoodAside || configurationAdmin == null) {
            return;
        }
        try {
            Configuration mock = configurationAdmin.getConfiguration(MOCK_PID, "?");
            Dictionary<String, Object> properties = mock.getProperties();
            if (properties == null) {
                properties = new Hashtable<>();
            }
            if (mockCardsBefore == null) {
                properties.remove("cards");
            } else {
                properties.put("cards", mockCardsBefore);
            }
            mock.update(properties);
        } catch (java.io.IOException | IllegalStateException e) {
            System.err.println("spanker device.sails: cannot hand the cards back to the mock device: " + e.getMessage());
        }
    }

    @Deactivate
    void deactivate() {
        bringMockBack();
        active = false;
        reconnects.shutdownNow();
        synchronized (this) {
            unregisterAll();
        }
        connected.values().forEach(CardConnection::close);
        connected.clear();
    }

    private void tryConnect(int position) {
        if (!active) {
            return;
        }
        String endpoint = endpoints.get(position);
        CardConnection c = null;
        try {
            c = CardConnection.open(endpoint, secret, config.connectTimeoutMillis(),
                    config.requestTimeoutMillis());
            Map<Integer, LinkState> states = new ConcurrentHashMap<>();
            portStates.put(c, states);
            c.onLinkEvent(e -> {
                states.put(e.port(), e.state());
                republishLater();
            });
            for (PortStatus p : Fleet.linkStatus(c)) {
                states.putIfAbsent(p.port(), p.state());
            }
            connected.put(position, c);
            synchronized (this) {
                backoff.remove(position);
            }
            CardConnection opened = c;
            c.onLost(why -> lost(position, opened, why));
        } catch (DeviceException e) {
            if (c != null) {
                c.close();
            }
            System.err.println("spanker device.sails: " + e.getMessage());
            scheduleReconnect(position);
        }
    }

    private synchronized void scheduleReconnect(int position) {
        if (!active) {
            return;
        }
        long delay = backoff.merge(position, 100L, (old, x) -> Math.min(old * 2, config.reconnectMaxMillis()));
        reconnects.schedule(() -> {
            tryConnect(position);
            if (connected.containsKey(position)) {
                republish();
            }
        }, delay, TimeUnit.MILLISECONDS);
    }

    private void lost(int position, CardConnection c, String why) {
        portStates.remove(c);
        if (connected.remove(position, c)) {
            System.err.println("spanker device.sails: " + why + "; republishing the topology without it");
            republishLater();
            scheduleReconnect(position);
        }
    }

    private void republishLater() {
        try {
            reconnects.execute(this::republish);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // deactivated: nothing to publish
        }
    }

    /** The link model's parameters in effect (rev-A's while no link model is registered). */
    private LinkParameters linkParameters() {
        LinkModel model = linkModel;
        return model == null ? LinkParameters.REV_A : model.parameters();
    }

    /** The cards held now, in cable order, numbered 0..k−1. */
    synchronized List<SailsCard> cards() {
        return cards;
    }

    /** Re-registers every card: the topology service sees the new set (and the new link states) at once. */
    synchronized void republish() {
        if (!active) {
            return;
        }
        List<CardConnection> live = new ArrayList<>(connected.values());
        live.removeIf(c -> !c.isOpen());
        live.sort((a, b) -> Integer.compare(order(a), order(b)));
        Map<Integer, Integer> groupIndex = new HashMap<>();
        for (int i = 0; i < live.size(); i++) {
            groupIndex.put(live.get(i).hello().index() >= 0 ? live.get(i).hello().index() : -1 - i, i);
        }
        if (shapedFleet && hostNic == null && !live.isEmpty()) {
            // paced as the cards pace their host links: by the dilation they announce for them (1.3; a 1.2 card's
            // host link runs at its K)
            hostNic = new HostNicPacer(this::linkParameters, live.get(0).hello().hostLinkDilation());
        }
        List<SailsCard> next = new ArrayList<>();
        for (int i = 0; i < live.size(); i++) {
            SailsCard card = new SailsCard(live.get(i), i, cable -> groupIndex.getOrDefault(cable, -1), epochs,
                    hostNic);
            portStates.getOrDefault(live.get(i), Map.of()).forEach(card::portState);
            next.add(card);
        }
        unregisterAll();
        cards = List.copyOf(next);
        if (cards.isEmpty()) {
            return;
        }
        TopologyKind kind = cablingOf(cards);
        for (SailsCard card : cards) {
            card.cabling(kind);
            Dictionary<String, Object> properties = new Hashtable<>();
            properties.put(SailDevice.CARD_INDEX, card.identity().index());
            properties.put(SailDevice.PROVIDER, SailsCard.PROVIDER);
            properties.put("spanker.endpoint", card.connection().endpoint());
            // one object per card: the topology's SailDevice is the SailCard the SPI drives
            registrations.add(context.registerService(new String[] {SailDevice.class.getName(),
                SailCard.class.getName()}, card, properties));
        }
        Dictionary<String, Object> providerProperties = new Hashtable<>();
        providerProperties.put(CardProvider.PROVIDER, SailsCard.PROVIDER);
        // Above the mock's 0: where both are installed (Karaf), greedy consumers take the Sails cards.
        providerProperties.put(org.osgi.framework.Constants.SERVICE_RANKING, 100);
        registrations.add(context.registerService(CardProvider.class, new Provider(cards, kind), providerProperties));
    }

    private int order(CardConnection c) {
        if (c.hello().index() >= 0) {
            return c.hello().index();
        }
        for (Map.Entry<Integer, CardConnection> e : connected.entrySet()) {
            if (e.getValue() == c) {
                return e.getKey();
            }
        }
        return Integer.MAX_VALUE;
    }

    /** A ring when every card's port 0 goes to the next card (or there are at most two); a mesh otherwise. */
    static TopologyKind cablingOf(List<SailsCard> cards) {
        int n = cards.size();
        for (SailsCard c : cards) {
            List<LinkPort> ports = c.identity().ports();
            if (n > 2 && ports.size() == n - 1 && ports.size() > 2) {
                return TopologyKind.MESH;
            }
        }
        return TopologyKind.RING;
    }

    private void unregisterAll() {
        for (int i = registrations.size() - 1; i >= 0; i--) {
            try {
                registrations.get(i).unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework is stopping and took it already
            }
        }
        registrations.clear();
    }

    /** Opens the cards held now as one group (the spec must name as many cards as are connected). */
    private static final class Provider implements CardProvider {
        private final List<SailsCard> cards;
        private final TopologyKind kind;

        Provider(List<SailsCard> cards, TopologyKind kind) {
            this.cards = cards;
            this.kind = kind;
        }

        @Override
        public String name() {
            return SailsCard.PROVIDER;
        }

        @Override
        public CardGroup open(CardGroupSpec spec) {
            if (spec.topology().cardCount() != cards.size()) {
                throw new InvalidConfigurationException("the Sails device holds " + cards.size() + " cards, the"
                        + " group asks for " + spec.topology().cardCount());
            }
            List<Card> topologyCards = new ArrayList<>();
            List<Link> links = new ArrayList<>();
            for (SailsCard card : cards) {
                topologyCards.add(card.card());
                links.addAll(card.outgoingLinks());
            }
            Topology topology = new Topology(kind, topologyCards, links);
            List<GroupCard> group = cards.stream().map(GroupCard::new).toList();
            return new CardGroup() {
                @Override
                public Topology topology() {
                    return topology;
                }

                @Override
                public List<SailCard> cards() {
                    return List.copyOf(group);
                }

                @Override
                public void close() {
                    group.forEach(GroupCard::freeAll);
                }
            };
        }
    }

    /** A card as one group sees it: the buffers the group allocated are freed when it closes, no others. */
    private static final class GroupCard implements ForwardingCard {
        private final SailsCard card;
        private final java.util.Set<CardBuffer> buffers = ConcurrentHashMap.newKeySet();

        GroupCard(SailsCard card) {
            this.card = card;
        }

        void freeAll() {
            for (CardBuffer b : buffers) {
                try {
                    card.free(b);
                } catch (RuntimeException gone) {
                    // a card that is gone holds nothing any more
                }
            }
            buffers.clear();
        }

        @Override
        public SailCard delegate() {
            return card;
        }

        @Override
        public CardBuffer allocate(long bytes, String purpose) {
            CardBuffer b = card.allocate(bytes, purpose);
            buffers.add(b);
            return b;
        }

        @Override
        public void free(CardBuffer buffer) {
            card.free(buffer);
            buffers.remove(buffer);
        }

        @Override
        public String toString() {
            return card.toString();
        }
    }
}
