package org.popsolutions.spanker.driver.pcie;

import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import org.osgi.annotation.bundle.Capability;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.compute.DeviceTrace;
import org.popsolutions.spanker.api.compute.MatmulInt4;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.driver.jni.DriverStatus;

/**
 * The {@code pcie} device provider: when configured, probes the kernel driver (ping, version, card nodes) and
 * registers one {@link SailDevice} and one {@link MatmulInt4} per card node. A driver that is missing or refused
 * registers nothing and says why on stderr (Config Admin cannot hand an error back).
 */
@Component(configurationPid = PcieCardProvider.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = PcieConfig.class)
@Capability(namespace = "osgi.service",
        attribute = "objectClass:List<String>=org.popsolutions.spanker.api.topology.SailDevice")
@Capability(namespace = "osgi.service", attribute = "objectClass:List<String>="
        + "'org.popsolutions.spanker.api.compute.MatmulInt4,org.popsolutions.spanker.api.compute.DeviceTrace'")
public final class PcieCardProvider {
    public static final String PID = "org.popsolutions.spanker.driver.pcie";

    private final BundleContext context;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();

    @Activate
    public PcieCardProvider(BundleContext context, PcieConfig config) {
        this.context = context;
        apply(config);
    }

    @Modified
    void modified(PcieConfig config) {
        apply(config);
    }

    @Deactivate
    synchronized void deactivate() {
        unregisterAll();
    }

    private synchronized void apply(PcieConfig config) {
        unregisterAll();
        try {
            PcieCards cards = PcieCards.from(config);
            DriverStatus status = DriverStatus.probe(cards.devDirectory());
            for (PcieSail sail : cards.sails(status)) {
                Dictionary<String, Object> properties = new Hashtable<>();
                properties.put(SailDevice.CARD_INDEX, sail.card().index());
                properties.put(SailDevice.PROVIDER, PcieCards.PROVIDER);
                registrations.add(context.registerService(SailDevice.class, sail, properties));
                registrations.add(context.registerService(new String[] {MatmulInt4.class.getName(),
                    DeviceTrace.class.getName()}, new PcieMatmul(status.cards().get(sail.card().index()),
                            status.version()), properties));
            }
            if (status.cards().isEmpty()) {
                System.err.println("spanker pcie device: the driver at " + status.control() + " (ABI "
                        + status.version() + ") shows no card node; no card registered");
            }
        } catch (SpankerException e) {
            System.err.println("spanker pcie device: no card registered: " + e.kind().label() + ": " + e.getMessage());
        }
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
}
