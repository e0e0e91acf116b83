package org.popsolutions.spanker.scheduler;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.osgi.annotation.bundle.Capability;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.popsolutions.spanker.api.NoSailsException;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyService;

/**
 * The {@link TopologyService}: reassembles the topology whenever a card comes or goes and updates the
 * service properties (card count, kind, generation) so that consumers see the change. The service is
 * registered by hand because DS cannot change a component's service properties at run time.
 */
@Component(immediate = true, service = {})
@Capability(namespace = "osgi.service",
        attribute = "objectClass:List<String>=org.popsolutions.spanker.api.topology.TopologyService")
public final class LiveTopology implements TopologyService {
    private final Map<SailDevice, Boolean> devices = new ConcurrentHashMap<>();
    private volatile Topology topology;
    private long generation;
    private ServiceRegistration<TopologyService> registration;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addDevice(SailDevice device) {
        devices.put(device, Boolean.TRUE);
        republish();
    }

    void removeDevice(SailDevice device) {
        devices.remove(device);
        republish();
    }

    @Activate
    synchronized void activate(BundleContext context) {
        topology = TopologyAssembly.assemble(devices.keySet());
        registration = context.registerService(TopologyService.class, this, properties());
    }

    @Deactivate
    synchronized void deactivate() {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework is stopping and took it already
            }
            registration = null;
        }
    }

    @Override
    public Topology current() {
        Topology snapshot = topology;
        if (snapshot == null) {
            throw new NoSailsException(
                    "no Sails card is registered: the mock provider needs cards >= 1 (Config Admin PID "
                            + "org.popsolutions.spanker.device.mock, or 'topology --cards 4'); emulated or real cards "
                            + "need a running fleet and the sails provider; PCIe cards need /dev/spanker0");
        }
        return snapshot;
    }

    private synchronized void republish() {
        topology = TopologyAssembly.assemble(devices.keySet());
        if (registration != null) {
            registration.setProperties(properties());
        }
    }

    private Dictionary<String, Object> properties() {
        Topology snapshot = topology;
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put(CARD_COUNT, snapshot == null ? 0 : snapshot.cardCount());
        properties.put(KIND, snapshot == null ? "NONE" : snapshot.kind().name());
        properties.put(GENERATION, ++generation);
        return properties;
    }
}
