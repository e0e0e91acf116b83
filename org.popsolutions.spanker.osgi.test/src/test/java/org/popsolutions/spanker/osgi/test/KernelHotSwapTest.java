package org.popsolutions.spanker.osgi.test;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.popsolutions.spanker.ggml.kernel.Kernels;

/**
 * The kernels hot-swap like the strategies: the native bundle's provider (service.ranking 100) is what
 * {@link Kernels#best()} uses while the bundle is active; stopping the bundle hands the next call back to the
 * portable Java kernels, starting it again brings the native ones back.
 */
@ExtendWith(BundleContextExtension.class)
class KernelHotSwapTest {
    static final String NATIVE = "org.popsolutions.spanker.kernels.native";

    @InjectBundleContext
    BundleContext context;

    @AfterEach
    void leaveTheNativeBundleActive() throws Exception {
        startIfStopped(context);
    }

    /** Starts the native bundle again when a test left it stopped, so the next test finds the native kernels. */
    static void startIfStopped(BundleContext context) throws Exception {
        Bundle b = nativeBundle(context);
        if (b != null && b.getState() != Bundle.ACTIVE) {
            b.start();
        }
    }

    @Test
    void stoppingAndStartingTheNativeBundleSwapsTheKernels() throws Exception {
        String cpu = Files.readString(Path.of("/proc/cpuinfo"));
        assumeTrue(cpu.contains(" avx2") && cpu.contains(" fma") && cpu.contains(" f16c"),
                "this CPU lacks AVX2/FMA/F16C: the native provider registers nothing here");
        Bundle bundle = nativeBundle(context);
        assertNotNull(bundle, NATIVE + " is not installed");
        Eventually.until("the native kernels are the best ranked", () -> "native-avx2".equals(Kernels.best().name()),
                () -> Kernels.best().name());

        bundle.stop();
        Eventually.until("the portable kernels are back", () -> Kernels.best().name().equals(Kernels.portable().name()),
                () -> Kernels.best().name());

        bundle.start();
        Eventually.until("the native kernels again", () -> "native-avx2".equals(Kernels.best().name()),
                () -> Kernels.best().name());
    }

    /** The native kernels' bundle, or null when it is not installed. */
    static Bundle nativeBundle(BundleContext context) {
        for (Bundle b : context.getBundles()) {
            if (NATIVE.equals(b.getSymbolicName())) {
                return b;
            }
        }
        return null;
    }
}
