package org.popsolutions.spanker.cluster.shipped;

import java.nio.ByteBuffer;
import java.util.Hashtable;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.popsolutions.spanker.api.cluster.ClusterTask;

/**
 * A kernel no node has until it is shipped: the test packs this class alone into a bundle, and the bundle registers
 * {@code shipped.square} (SCALAR x: returns x² as 8 bytes) in the node's framework.
 */
public final class SquareActivator implements BundleActivator {
    @Override
    public void start(BundleContext context) {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(ClusterTask.NAME, "shipped.square");
        ClusterTask square = task -> {
            long x = task.params().get(0).scalar();
            return ByteBuffer.allocate(8).putLong(x * x).array();
        };
        context.registerService(ClusterTask.class, square, properties);
    }

    @Override
    public void stop(BundleContext context) {
        // The registration goes with the bundle.
    }
}
