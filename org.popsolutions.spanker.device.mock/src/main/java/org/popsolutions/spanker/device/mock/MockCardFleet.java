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
import org.popsolutions.spanker.api.topology.SailDevice;

/**
 * Registers one {@link SailDevice} service per configured mock card. A configuration change replaces the
 * whole set; a configuration that is invalid is refused and the cards already registered stay.
 */
@Component(configurationPid = MockCardFleet.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {})
@Designate(ocd = MockDeviceConfig.class)
@Capability(namespace = "osgi.service",
        attribute = "objectClass:List<String>=org.popsolutions.spanker.api.topology.SailDevice")
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
        spec = requested;
        for (int index = 0; index < requested.cards(); index++) {
            Dictionary<String, Object> properties = new Hashtable<>();
            properties.put(SailDevice.CARD_INDEX, index);
            properties.put(SailDevice.PROVIDER, MockCardsSpec.PROVIDER);
            registrations.add(context.registerService(SailDevice.class, new MockSail(requested, index), properties));
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
