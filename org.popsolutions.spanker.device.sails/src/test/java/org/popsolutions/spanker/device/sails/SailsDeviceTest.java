package org.popsolutions.spanker.device.sails;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.api.topology.TopologyKind;

/** The Sails device component against real emulator processes, its framework played by a recording stand-in. */
class SailsDeviceTest {
    @TempDir
    Path directory;
    private SailsDevice device;

    /** Services registered now, as (interface, service). */
    private final List<Object[]> registered = new CopyOnWriteArrayList<>();

    private BundleContext context(Map<String, String> properties) {
        return (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {BundleContext.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getProperty" -> properties.get((String) args[0]);
                    case "registerService" -> {
                        String[] names = args[0] instanceof String[] several ? several
                                : new String[] {args[0] instanceof Class<?> c ? c.getName() : String.valueOf(args[0])};
                        List<Object[]> entries = new ArrayList<>();
                        for (String name : names) {
                            entries.add(new Object[] {name, args[1], args[2]});
                        }
                        registered.addAll(entries);
                        yield Proxy.newProxyInstance(getClass().getClassLoader(),
                                new Class<?>[] {ServiceRegistration.class}, (p, m, a) -> {
                                    if (m.getName().equals("unregister")) {
                                        registered.removeAll(entries);
                                    }
                                    return null;
                                });
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static SailsDeviceConfig config(String secretFile) {
        return (SailsDeviceConfig) Proxy.newProxyInstance(SailsDeviceTest.class.getClassLoader(),
                new Class<?>[] {SailsDeviceConfig.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "secretFile" -> secretFile;
                    case "endpoints", "fleetDirectory" -> "";
                    case "enabled" -> true;
                    case "connectTimeoutMillis" -> 5_000;
                    case "requestTimeoutMillis" -> 30_000L;
                    case "reconnectMaxMillis" -> 500L;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private List<SailDevice> devices() {
        List<SailDevice> out = new ArrayList<>();
        for (Object[] r : registered) {
            if (r[0].equals(SailDevice.class.getName())) {
                out.add((SailDevice) r[1]);
            }
        }
        out.sort((a, b) -> Integer.compare(a.card().index(), b.card().index()));
        return out;
    }

    private long count(Class<?> type) {
        return registered.stream().filter(r -> r[0].equals(type.getName())).count();
    }

    @AfterEach
    void stop() {
        if (device != null) {
            device.deactivate();
        }
        Fleet.stop(directory);
    }

    @Test
    void registersEveryCardAndRepublishesWithoutAKilledOne() throws Exception {
        Fleet.State state = Fleet.start(directory, new Fleet.Launch(3, TopologyKind.RING, true, 8L << 20,
                EmulatorFleetTest.emulatorClasspath(), List.of(), 60_000));
        String endpoints = state.cards().stream().map(Fleet.Member::endpoint).collect(Collectors.joining(","));
        device = new SailsDevice(context(Map.of(SailsDevice.DEVICE_PROPERTY, "sails", SailsDevice.ENDPOINTS_PROPERTY,
                endpoints)), config(state.secretFile()), Map.of());
        List<SailDevice> all = devices();
        assertEquals(3, all.size());
        assertEquals(3, count(SailCard.class));
        assertEquals(1, count(CardProvider.class));
        assertEquals(List.of("sails-emu-0", "sails-emu-1", "sails-emu-2"), all.stream().map(d -> d.card().name())
                .toList());
        List<Object> cards = registered.stream().filter(r -> r[0].equals(SailCard.class.getName())).map(r -> r[1])
                .toList();
        for (SailDevice d : all) {
            assertTrue(cards.stream().anyMatch(c -> c == d), "card " + d.card().index()
                    + ": the registered SailDevice is the registered SailCard, one object");
            assertEquals(2, d.outgoingLinks().size());
            d.outgoingLinks().forEach(l -> assertEquals(LinkState.UP, l.state()));
        }

        ProcessHandle.of(state.cards().get(1).pid()).orElseThrow().destroyForcibly();
        long deadline = System.nanoTime() + 5_000_000_000L; // stated bound: republished within 5 s of the kill
        while (devices().size() != 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        List<SailDevice> left = devices();
        assertEquals(List.of("sails-emu-0", "sails-emu-2"), left.stream().map(d -> d.card().name()).toList(),
                "the topology is republished without the killed card, the others renumbered 0..1");
        assertEquals(List.of(0, 1), left.stream().map(d -> d.card().index()).toList());
        // Cards 0 and 2 of a three-card ring are neighbours: their cable is still UP; the ones to card 1 are gone.
        List<Link> links = left.stream().flatMap(d -> d.outgoingLinks().stream()).toList();
        assertEquals(List.of(new Link(0, 1, LinkState.UP, links.get(0).bandwidthBytesPerSecond(), links.get(0)
                .latencySeconds()), new Link(1, 0, LinkState.UP, links.get(0).bandwidthBytesPerSecond(),
                        links.get(0).latencySeconds())), links);
        assertEquals(2, count(SailCard.class));
        assertTrue(registered.stream().allMatch(r -> ((Dictionary<?, ?>) r[2]) != null));
    }
}
