package org.popsolutions.spanker.kernels.avx2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.PreparedActivation;
import org.popsolutions.spanker.ggml.kernel.WeightTraits;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/** The bundle's start and stop as the component sees them: stopping it leaves no native worker thread behind. */
class NativeKernelsComponentTest {
    @Test
    void deactivationJoinsTheNativeWorkersAndActivationAllowsThemAgain() throws IOException {
        String flags = Files.readString(Path.of("/proc/cpuinfo"));
        assumeTrue(flags.contains(" avx2") && flags.contains(" fma") && flags.contains(" f16c"));
        NativeKernels kernels = NativeLibrary.load().orElseThrow();
        List<String> calls = new ArrayList<>();
        ServiceRegistration<?> registration = (ServiceRegistration<?>) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {ServiceRegistration.class}, (p, m, args) -> {
                    calls.add(m.getName());
                    return null;
                });
        BundleContext context = (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {BundleContext.class}, (p, m, args) -> {
                    calls.add(m.getName());
                    return m.getName().equals("registerService") ? registration : null;
                });
        NativeKernelsComponent component = new NativeKernelsComponent();
        for (int round = 0; round < 2; round++) {
            component.activate(context);
            assertTrue(calls.contains("registerService"));
            assertTrue(threadedProduct(kernels), "round " + round + ": the active bundle's workers took the product");
            assertTrue(NativeWorkersTest.namedWorkerThreads() >= 1);

            component.deactivate();
            assertTrue(calls.contains("unregister"));
            assertEquals(0, NativeKernels.workers());
            assertEquals(0, NativeWorkersTest.namedWorkerThreads(),
                    "round " + round + ": a native worker outlived the bundle's stop");
            assertFalse(threadedProduct(kernels), "a stopped bundle's kernels declined the threaded product");
            calls.clear();
        }
        NativeKernels.openWorkers();
    }

    private static boolean threadedProduct(Kernels kernels) {
        GgmlType type = GgmlType.Q4_K;
        int rows = 200;
        int cols = 256;
        SplittableRandom random = new SplittableRandom(1);
        float[] w = new float[rows * cols];
        float[] x = new float[cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < cols; i++) {
            x[i] = (float) random.nextGaussian();
        }
        ByteBuffer weights = ByteBuffer.wrap(WeightTraits.of(type).codec().quantize(w)).order(ByteOrder.LITTLE_ENDIAN);
        PreparedActivation a = PreparedActivation.prepare(type, DotMode.GGML, x);
        return kernels.dotRowsOnThreads(weights, 0, (int) type.bytesFor(cols), rows, a, new float[rows], 0, 2);
    }
}
