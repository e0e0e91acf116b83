package org.popsolutions.spanker.ggml.kernel;

import java.util.Map;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Mirrors every {@link Kernels} service, with its {@code service.ranking}, into {@link KernelProviders}: a
 * provider bundle started later (the native AVX2 kernels) takes over the next matrix-vector product, and its
 * removal hands them back.
 */
@Component(immediate = true)
public final class KernelServiceTracker {
    @Reference(service = Kernels.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addKernels(Kernels kernels, Map<String, Object> properties) {
        KernelProviders.register(kernels, ranking(properties));
    }

    void updatedKernels(Kernels kernels, Map<String, Object> properties) {
        KernelProviders.register(kernels, ranking(properties));
    }

    void removeKernels(Kernels kernels) {
        KernelProviders.unregister(kernels);
    }

    private static int ranking(Map<String, Object> properties) {
        return properties.get(Constants.SERVICE_RANKING) instanceof Integer i ? i : 0;
    }
}
