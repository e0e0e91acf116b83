package org.popsolutions.spanker.osgi.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;
import org.popsolutions.spanker.ggml.kernel.WeightTraits;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * The native kernels' worker pool in a running framework, not behind a fake BundleContext: a two-thread product
 * through {@link Kernels#best()} runs on the library's {@code spanker-nat-N} threads with the one-thread bits;
 * stopping the bundle joins them and the portable kernels take over; starting it, or updating and refreshing it (a new
 * class loader, so a second copy of the library), brings one pool back and leaves none of the old one's threads.
 */
@ExtendWith(BundleContextExtension.class)
class NativeWorkerPoolTest {
    static final String WORKER_PREFIX = "spanker-nat-";
    static final GgmlType[] TYPES = {GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K};
    static final int ROWS = 700;
    static final int COLS = 1024;

    @InjectBundleContext
    BundleContext context;

    @BeforeEach
    void nativeKernelsOnThisCpu() throws Exception {
        String cpu = Files.readString(Path.of("/proc/cpuinfo"));
        assumeTrue(cpu.contains(" avx2") && cpu.contains(" fma") && cpu.contains(" f16c"),
                "this CPU lacks AVX2/FMA/F16C: the native provider registers nothing here");
        assertNotNull(nativeBundle(), KernelHotSwapTest.NATIVE + " is not installed");
        Eventually.until("the native kernels are the best ranked", this::nativeIsBest, () -> Kernels.best().name());
    }

    @AfterEach
    void leaveTheNativeBundleActive() throws Exception {
        KernelHotSwapTest.startIfStopped(context);
    }

    @Test
    void aTwoThreadProductRunsOnTheNativeWorkersWithTheOneThreadBits() throws Exception {
        restartForAnEmptyPool();
        assertEquals(0, workerThreads().size(), "workers before any threaded product: " + workerThreads());
        for (GgmlType type : TYPES) {
            Product p = new Product(type);
            float[] one = p.run(Kernels.best(), 1);
            if (type == TYPES[0]) {
                assertEquals(List.of(), workerThreads(), type + ": a one-thread product started native workers");
            }
            float[] two = p.run(Kernels.best(), 2);
            assertBits(one, two, type + ": two threads against one");
            // the pool grows to what a call needs: caller + one worker
            assertEquals(List.of(WORKER_PREFIX + "1"), workerThreads(), type + ": the pool's threads");
        }
    }

    @Test
    void stoppingTheBundleJoinsTheWorkersAndThePortableKernelsServe() throws Exception {
        Product p = new Product(GgmlType.Q4_K);
        p.run(Kernels.best(), 2);
        assertTrue(workerThreads().size() >= 1, "no native worker after a two-thread product");

        nativeBundle().stop();
        // SCR deactivates synchronously within stop(): the workers are joined before it returns
        assertEquals(List.of(), workerThreads(), "native workers outlived the bundle's stop");
        Eventually.until("the portable kernels are back", () -> Kernels.best().name().equals(Kernels.portable().name()),
                () -> Kernels.best().name());
        for (GgmlType type : TYPES) {
            Product q = new Product(type);
            float[] expected = q.run(Kernels.portable(), 1);
            assertBits(expected, q.run(Kernels.best(), 2), type + ": the stopped bundle's product");
            assertEquals(List.of(), workerThreads(), type + ": a product after the stop started native workers");
        }

        nativeBundle().start();
        Eventually.until("the native kernels again", this::nativeIsBest, () -> Kernels.best().name());
        for (GgmlType type : TYPES) {
            Product q = new Product(type);
            assertBits(q.run(Kernels.best(), 1), q.run(Kernels.best(), 2), type + ": after the restart");
        }
        assertEquals(List.of(WORKER_PREFIX + "1"), workerThreads(), "the restarted bundle's pool");
    }

    /**
     * Products keep running (as a card's decode would) while the bundle stops and starts: each product has the native
     * or the portable kernels' bits, whole (a product resolves {@link Kernels#best()} once, so a swap takes effect from
     * the next product and never mixes two providers' rows in one), none fails, and while the bundle is stopped no
     * native worker is started.
     */
    @Test
    void productsRunningWhileTheBundleStopsAndStartsStayCorrect() throws Exception {
        Product p = new Product(GgmlType.Q4_K);
        float[] nativeBits = p.run(Kernels.best(), 1);
        float[] portableBits = p.run(Kernels.portable(), 1);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        AtomicInteger products = new AtomicInteger();
        AtomicInteger mixed = new AtomicInteger();
        Thread caller = new Thread(() -> {
            try (RowExecutor executor = new RowExecutor(2)) {
                MatVec matVec = new MatVec(Kernels.best(), executor);
                float[] out = new float[ROWS];
                while (running.get()) {
                    matVec.matvec(p.type, p.weights, ROWS, COLS, p.x, out, DotMode.GGML);
                    int onlyNative = 0;
                    int onlyPortable = 0;
                    for (int r = 0; r < ROWS; r++) {
                        int bits = Float.floatToIntBits(out[r]);
                        boolean n = bits == Float.floatToIntBits(nativeBits[r]);
                        boolean j = bits == Float.floatToIntBits(portableBits[r]);
                        if (!n && !j) {
                            throw new AssertionError("product " + products.get() + " row " + r + ": " + out[r]
                                    + ", neither the native " + nativeBits[r] + " nor the portable " + portableBits[r]);
                        }
                        onlyNative += n && !j ? 1 : 0;
                        onlyPortable += j && !n ? 1 : 0;
                    }
                    if (onlyNative > 0 && onlyPortable > 0) {
                        mixed.incrementAndGet();
                    }
                    products.incrementAndGet();
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "pool-test-caller");
        caller.start();
        try {
            Bundle bundle = nativeBundle();
            for (int round = 0; round < 3; round++) {
                awaitProducts(products, failed, 20);
                bundle.stop();
                for (int look = 0; look < 5; look++) {
                    awaitProducts(products, failed, 5);
                    assertEquals(List.of(), workerThreads(), "round " + round + ": a worker while the bundle is stopped");
                }
                bundle.start();
                Eventually.until("the native kernels again", this::nativeIsBest, () -> Kernels.best().name());
            }
            awaitProducts(products, failed, 20);
        } finally {
            running.set(false);
            caller.join(Eventually.TIMEOUT_MILLIS);
        }
        if (failed.get() != null) {
            throw new AssertionError("the caller failed after " + products.get() + " products", failed.get());
        }
        assertFalse(caller.isAlive(), "the caller did not finish");
        assertEquals(0, mixed.get(), "products mixing native and portable rows, of " + products.get()
                + " during 3 stop/starts");
    }

    private static void awaitProducts(AtomicInteger products, AtomicReference<Throwable> failed, int more) {
        int target = products.get() + more;
        Eventually.until(more + " more products", () -> products.get() >= target || failed.get() != null,
                () -> products.get() + " products");
        if (failed.get() != null) {
            throw new AssertionError("the caller failed after " + products.get() + " products", failed.get());
        }
    }

    /**
     * An update and refresh gives the bundle a new class loader, which must load its own copy of the library (a
     * library stays bound to the loader that loaded it until that loader is collected). The old component's
     * deactivation joined the old copy's workers; the new copy starts its own on the next product.
     */
    @Test
    void updateAndRefreshLeaveOnePoolFromTheNewLibrary() throws Exception {
        Product p = new Product(GgmlType.Q8_0);
        float[] expected = p.run(Kernels.best(), 1);
        assertBits(expected, p.run(Kernels.best(), 2), "before the update");
        System.out.println("NativeWorkerPoolTest: libraries before the update " + libraries());
        updateAndRefreshTwice(p, expected);
        // the old loaders' copies go when the loaders are collected (JNI_OnUnload, then dlclose): none of them may
        // take the process down, and the new copy keeps serving
        Eventually.until("the old class loaders' libraries unloaded", () -> {
            System.gc();
            return librariesQuietly().size() == 1;
        }, NativeWorkerPoolTest::librariesQuietly);
        assertBits(expected, p.run(Kernels.best(), 2), "after the old libraries unloaded");
        assertEquals(List.of(WORKER_PREFIX + "1"), workerThreads(), "the surviving library's pool");
    }

    /** In a method of its own, so that no frame of the test keeps an old class loader reachable. */
    private void updateAndRefreshTwice(Product p, float[] expected) throws Exception {
        ClassLoader before = providerLoader();
        for (int round = 0; round < 2; round++) {
            Bundle bundle = nativeBundle();
            bundle.update();
            refresh(bundle);
            Eventually.until("the native kernels after update " + round, this::nativeIsBest,
                    () -> Kernels.best().name() + ", native bundle state " + nativeBundle().getState());
            ClassLoader after = providerLoader();
            assertNotSame(before, after, "round " + round + ": the provider still comes from the old class loader");
            before = after;
            // deactivation joined the old library's workers; the new one has none until asked
            assertEquals(List.of(), workerThreads(), "round " + round + ": workers after the refresh, libraries "
                    + libraries());
            assertBits(expected, p.run(Kernels.best(), 2), "round " + round + ": the new library's product");
            assertEquals(List.of(WORKER_PREFIX + "1"), workerThreads(), "round " + round
                    + ": one pool of one worker, libraries " + libraries());
            System.out.println("NativeWorkerPoolTest: libraries after update " + round + " " + libraries());
        }
    }

    private void restartForAnEmptyPool() throws Exception {
        Bundle bundle = nativeBundle();
        bundle.stop();
        bundle.start();
        Eventually.until("the native kernels after a restart", this::nativeIsBest, () -> Kernels.best().name());
    }

    private void refresh(Bundle bundle) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(List.of(bundle), event -> {
            if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                done.countDown();
            }
        });
        if (!done.await(Eventually.TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
            fail("the refresh did not finish in " + Eventually.TIMEOUT_MILLIS + " ms");
        }
    }

    private ClassLoader providerLoader() {
        ServiceReference<Kernels> ref = context.getServiceReference(Kernels.class);
        assertNotNull(ref, "no Kernels service");
        assertEquals(nativeBundle(), ref.getBundle(), "the best-ranked Kernels service is not the native bundle's");
        Kernels service = context.getService(ref);
        try {
            return service.getClass().getClassLoader();
        } finally {
            context.ungetService(ref);
        }
    }

    private boolean nativeIsBest() {
        return "native-avx2".equals(Kernels.best().name());
    }

    private Bundle nativeBundle() {
        return KernelHotSwapTest.nativeBundle(context);
    }

    /** The names of this process's threads named as the library names its workers, sorted. */
    static List<String> workerThreads() throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.map(t -> {
                try {
                    return Files.readString(t.resolve("comm")).strip();
                } catch (IOException gone) {
                    return ""; // a thread that ended while listed
                }
            }).filter(n -> n.startsWith(WORKER_PREFIX)).sorted().collect(Collectors.toList());
        }
    }

    /** The kernel library files this process has mapped (one per class loader that loaded it and is not yet collected). */
    static List<String> libraries() throws IOException {
        try (Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
            // the path is the sixth field and runs to the end of the line ("(deleted)" once Felix purged the revision)
            return maps.map(l -> l.split("\\s+", 6)).filter(f -> f.length == 6).map(f -> f[5])
                    .filter(f -> f.contains("spankerkernels") || f.contains("spanker-kernels-"))
                    .distinct().sorted().collect(Collectors.toList());
        }
    }

    private static List<String> librariesQuietly() {
        try {
            return libraries();
        } catch (IOException e) {
            return List.of(e.toString());
        }
    }

    private static void assertBits(float[] expected, float[] actual, String what) {
        for (int r = 0; r < expected.length; r++) {
            if (Float.floatToIntBits(expected[r]) != Float.floatToIntBits(actual[r])) {
                fail(what + ": row " + r + " is " + actual[r] + ", expected " + expected[r]);
            }
        }
    }

    /** One matrix-vector product's inputs, the same every time it runs. */
    static final class Product {
        final GgmlType type;
        final ByteBuffer weights;
        final float[] x;

        Product(GgmlType type) {
            this.type = type;
            SplittableRandom random = new SplittableRandom(type.id() * 31L + 7);
            weights = ByteBuffer.wrap(WeightTraits.of(type).codec().quantize(gaussian(random, ROWS * COLS)))
                    .order(ByteOrder.LITTLE_ENDIAN);
            x = gaussian(random, COLS);
        }

        float[] run(Kernels kernels, int threads) {
            float[] out = new float[ROWS];
            try (RowExecutor executor = new RowExecutor(threads)) {
                new MatVec(kernels, executor).matvec(type, weights, ROWS, COLS, x, out, DotMode.GGML);
            }
            return out;
        }

        private static float[] gaussian(SplittableRandom random, int n) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) random.nextGaussian();
            }
            return v;
        }
    }
}
