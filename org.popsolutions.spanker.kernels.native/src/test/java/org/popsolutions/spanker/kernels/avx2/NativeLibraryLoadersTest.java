package org.popsolutions.spanker.kernels.avx2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.PreparedActivation;
import org.popsolutions.spanker.ggml.kernel.WeightTraits;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * A refreshed bundle is a new class loader, and the JVM binds a library file to the first loader that loads it: a
 * framework that hands the same extracted file to the new loader (Felix extracts a fresh copy per loader, so it does
 * not; a framework reusing one per bundle generation would) makes {@code System.loadLibrary} throw "already loaded in
 * another classloader". {@link NativeLibrary} then loads a copy of its own; each copy has its own worker pool.
 */
class NativeLibraryLoadersTest {
    @Test
    void aSecondLoaderGivenTheSameLibraryFileLoadsACopyWithItsOwnPool(@TempDir Path dir) throws Exception {
        Path shared = libraryFileIn(dir);
        // this class loader's own pool (other tests') must not be counted as the copies'
        NativeLibrary.load().orElseThrow();
        NativeKernels.stopWorkers();
        try (Bundleish first = new Bundleish(shared, true); Bundleish second = new Bundleish(shared, true)) {
            Kernels a = first.kernels();
            // the JVM's refusal, as the second loader's System.loadLibrary meets it
            Method loads = second.loader.loadClass(Loads.class.getName()).getMethod("run");
            Throwable refused = assertThrows(InvocationTargetException.class, () -> loads.invoke(null)).getCause();
            assertTrue(refused instanceof UnsatisfiedLinkError
                    && refused.getMessage().contains("already loaded in another classloader"), refused.toString());

            Kernels b = second.kernels();
            assertNotSame(a.getClass(), b.getClass());
            float[] expected = product(Kernels.portable(), 1);
            // quantized rows: the native and portable kernels agree within tolerance, not bit for bit
            float[] viaA = product(a, 2);
            float[] viaB = product(b, 2);
            assertArrayEquals(viaA, viaB, "two copies of one library, different bits");
            assertArrayEquals(expected, viaA, 1e-2f * maxAbs(expected));
            assertEquals(1, first.workers());
            assertEquals(1, second.workers());
            assertEquals(2, NativeWorkersTest.namedWorkerThreads(), "one worker per copy");

            second.stopWorkers();
            assertEquals(1, NativeWorkersTest.namedWorkerThreads(), "stopping one copy's pool left the other's");
            assertFalse(b.dotRowsOnThreads(weights(), 0, rowBytes(), ROWS, activation(), new float[ROWS], 0, 2));
            assertArrayEquals(viaA, product(a, 2), "the other copy still serves its threads");
            first.stopWorkers();
            assertEquals(0, NativeWorkersTest.namedWorkerThreads());
        } finally {
            NativeKernels.openWorkers();
        }
    }

    /**
     * A loader collected while its copy's workers still wait for work (no deactivation stopped them): the JVM unloads
     * the copy, and {@code JNI_OnUnload} must join the workers first, or they would run unmapped code.
     */
    @Test
    void collectingALoaderWithLiveWorkersJoinsThemInJniOnUnload(@TempDir Path dir) throws Exception {
        Path copy = libraryFileIn(dir);
        NativeLibrary.load().orElseThrow();
        NativeKernels.stopWorkers();
        try {
            startAWorkerAndDropTheLoader(copy);
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (NativeWorkersTest.namedWorkerThreads() != 0 || mapped(copy)) {
                if (System.nanoTime() - deadline > 0) {
                    fail("after 30 s of collections: " + NativeWorkersTest.namedWorkerThreads()
                            + " workers, library mapped " + mapped(copy));
                }
                System.gc();
                Thread.sleep(20);
            }
        } finally {
            NativeKernels.openWorkers();
        }
    }

    /** In a method of its own, so that no frame keeps the loader reachable. */
    private static void startAWorkerAndDropTheLoader(Path library) throws Exception {
        Bundleish bundle = new Bundleish(library, true);
        Kernels kernels = bundle.kernels();
        assertTrue(kernels.dotRowsOnThreads(weights(), 0, rowBytes(), ROWS, activation(), new float[ROWS], 0, 2));
        assertEquals(1, bundle.workers());
        assertEquals(1, NativeWorkersTest.namedWorkerThreads());
        assertTrue(mapped(library));
        bundle.loader.close(); // closes the jar files only; the classes and the library stay until collected
    }

    private static boolean mapped(Path library) throws IOException {
        try (Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
            return maps.anyMatch(l -> l.contains(library.toString()));
        }
    }

    /**
     * When the copy cannot be made either (here: the library is not among the loader's resources), the provider is
     * unavailable with one line that names both refusals, and nothing is thrown: the component registers nothing.
     */
    @Test
    void aLoaderThatCanNeitherLoadNorCopyTheLibrarySaysWhyInOneLine(@TempDir Path dir) throws Exception {
        Path shared = libraryFileIn(dir);
        try (Bundleish first = new Bundleish(shared, true); Bundleish second = new Bundleish(shared, false)) {
            first.kernels();
            Class<?> nativeLibrary = second.loader.loadClass(NativeLibrary.class.getName());
            assertEquals(Optional.empty(), nativeLibrary.getMethod("load").invoke(null));
            String reason = (String) ((Optional<?>) nativeLibrary.getMethod("unavailableReason").invoke(null)).orElseThrow();
            assertFalse(reason.contains("\n"), reason);
            assertTrue(reason.contains("is not in the class path")
                    && reason.contains("already loaded in another classloader"), reason);
        }
    }

    /** What a loader's {@code System.loadLibrary} does when the file is already bound to another loader. */
    public static final class Loads {
        public static void run() {
            System.loadLibrary(NativeLibrary.NAME);
        }
    }

    static final int ROWS = 300;
    static final int COLS = 512;
    static final GgmlType TYPE = GgmlType.Q4_K;

    private static float[] product(Kernels kernels, int threads) {
        float[] out = new float[ROWS];
        if (threads == 1 || !kernels.dotRowsOnThreads(weights(), 0, rowBytes(), ROWS, activation(), out, 0, threads)) {
            assertEquals(1, threads, kernels.name() + " declined a threaded product");
            kernels.dotRows(weights(), 0, rowBytes(), ROWS, activation(), out, 0);
        }
        return out;
    }

    private static int rowBytes() {
        return (int) TYPE.bytesFor(COLS);
    }

    private static ByteBuffer weights() {
        return ByteBuffer.wrap(WeightTraits.of(TYPE).codec().quantize(gaussian(new SplittableRandom(1), ROWS * COLS)))
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The kernels' library as a framework extracts it, a file of its own in {@code dir}; the test is skipped where the
     * CPU lacks what the library needs.
     */
    private static Path libraryFileIn(Path dir) throws IOException {
        String flags = Files.readString(Path.of("/proc/cpuinfo"));
        assumeTrue(flags.contains(" avx2") && flags.contains(" fma") && flags.contains(" f16c"));
        Path file = dir.resolve("libspankerkernels.so");
        try (InputStream in = NativeLibrary.class.getResourceAsStream(NativeLibrary.RESOURCE)) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    private static PreparedActivation activation() {
        return PreparedActivation.prepare(TYPE, DotMode.GGML, gaussian(new SplittableRandom(2), COLS));
    }

    private static float maxAbs(float[] v) {
        float m = 0;
        for (float f : v) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }

    private static float[] gaussian(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    /**
     * A bundle's class loader as a framework makes it: this package's classes of its own (parent last), the ggml API
     * from the parent, every {@code System.loadLibrary} answered with the one given file, and (unless told) the library
     * among its resources.
     */
    private static final class Bundleish implements AutoCloseable {
        final URLClassLoader loader;
        private boolean loaded;

        Bundleish(Path library, boolean withTheResource) throws Exception {
            URL classes = NativeLibrary.class.getProtectionDomain().getCodeSource().getLocation();
            URL tests = NativeLibraryLoadersTest.class.getProtectionDomain().getCodeSource().getLocation();
            String pkg = NativeLibrary.class.getPackageName() + ".";
            loader = new URLClassLoader(new URL[] {classes, tests}, NativeLibraryLoadersTest.class.getClassLoader()) {
                @Override
                protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                    if (!name.startsWith(pkg)) {
                        return super.loadClass(name, resolve);
                    }
                    synchronized (getClassLoadingLock(name)) {
                        Class<?> c = findLoadedClass(name);
                        return c != null ? c : findClass(name);
                    }
                }

                @Override
                public URL getResource(String name) {
                    return withTheResource || !("/" + name).equals(NativeLibrary.RESOURCE) ? super.getResource(name)
                            : null;
                }

                @Override
                protected String findLibrary(String name) {
                    return NativeLibrary.NAME.equals(name) ? library.toString() : null;
                }
            };
        }

        Kernels kernels() throws Exception {
            Class<?> nativeLibrary = loader.loadClass(NativeLibrary.class.getName());
            Optional<?> kernels = (Optional<?>) nativeLibrary.getMethod("load").invoke(null);
            Optional<?> reason = (Optional<?>) nativeLibrary.getMethod("unavailableReason").invoke(null);
            assertTrue(kernels.isPresent(), "a second loader's kernels unavailable: " + reason);
            loaded = true;
            return (Kernels) kernels.get();
        }

        int workers() throws Exception {
            return (Integer) nativeKernels("workers").invoke(null);
        }

        void stopWorkers() throws Exception {
            nativeKernels("stopWorkers").invoke(null);
        }

        private Method nativeKernels(String name) throws Exception {
            Method m = loader.loadClass(NativeKernels.class.getName()).getDeclaredMethod(name);
            m.setAccessible(true);
            return m;
        }

        @Override
        public void close() throws Exception {
            try {
                if (loaded) {
                    stopWorkers();
                }
            } finally {
                loader.close();
            }
        }
    }
}
