package org.popsolutions.spanker.kernels.avx2;

import java.util.Hashtable;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.popsolutions.spanker.ggml.kernel.Kernels;

/**
 * Registers the native kernels as a {@link Kernels} service ranked {@value #RANKING} (above the portable Java
 * kernels' 0) when the library loads and the CPU has the instructions; otherwise registers nothing, and the Java
 * kernels stay in use. Starting or stopping this bundle swaps the kernels of the next matrix-vector product; stopping it
 * also stops the library's native worker threads (a product offered to them afterwards runs on the JVM's threads).
 */
@Component(immediate = true)
public final class NativeKernelsComponent {
    public static final int RANKING = 100;

    private ServiceRegistration<Kernels> registration;

    @Activate
    void activate(BundleContext context) {
        NativeLibrary.load().ifPresent(kernels -> {
            // a bundle stopped and started again (same class loader, same library) may start native workers again
            NativeKernels.openWorkers();
            Hashtable<String, Object> properties = new Hashtable<>();
            properties.put(Constants.SERVICE_RANKING, RANKING);
            properties.put("kernels.name", kernels.name());
            registration = context.registerService(Kernels.class, kernels, properties);
        });
        NativeLibrary.unavailableReason().ifPresent(reason -> System.err.println("spanker native kernels: " + reason
                + "; the portable Java kernels stay in use"));
    }

    @Deactivate
    void deactivate() {
        if (registration != null) {
            registration.unregister();
            registration = null;
            // after the unregistration no new product comes here; one still running finishes first, then every native
            // worker is joined: none is left running the library's code when the bundle's class loader goes
            NativeKernels.stopWorkers();
        }
    }
}
