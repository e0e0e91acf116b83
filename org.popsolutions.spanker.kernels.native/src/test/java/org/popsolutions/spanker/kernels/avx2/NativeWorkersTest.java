package org.popsolutions.spanker.kernels.avx2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.PreparedActivation;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;
import org.popsolutions.spanker.ggml.kernel.WeightTraits;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/** The native worker pool: a product split among its threads gives the one-thread bits, uses the threads asked for, and stops. */
class NativeWorkersTest {
    private static NativeKernels kernels;

    @BeforeAll
    static void load() throws Exception {
        String flags = Files.readString(Path.of("/proc/cpuinfo"));
        assumeTrue(flags.contains(" avx2") && flags.contains(" fma") && flags.contains(" f16c"),
                "this CPU lacks AVX2/FMA/F16C: the native kernels are not used here");
        kernels = NativeLibrary.load().orElseThrow(() -> new AssertionError(NativeLibrary.unavailableReason().orElse("")));
    }

    @AfterEach
    void reopen() {
        NativeKernels.openWorkers();
    }

    /** Every type, heap and direct weights at an odd offset, 2, 3 and 5 threads: the one-call rows bit for bit. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q6_K"})
    void threadedProductEqualsTheOneThreadRowsBitForBit(GgmlType type) {
        SplittableRandom random = new SplittableRandom(type.id() * 7L + 1);
        int rows = 1003;
        int cols = 512;
        byte[] weights = WeightTraits.of(type).codec().quantize(gaussian(random, rows * cols));
        int rowBytes = (int) type.bytesFor(cols);
        PreparedActivation a = PreparedActivation.prepare(type, DotMode.GGML, gaussian(random, cols));
        byte[] shifted = new byte[weights.length + 3];
        System.arraycopy(weights, 0, shifted, 3, weights.length);
        ByteBuffer direct = ByteBuffer.allocateDirect(weights.length + 5).order(ByteOrder.LITTLE_ENDIAN).put(5, weights);
        float[] one = new float[rows];
        kernels.dotRows(le(shifted), 3, rowBytes, rows, a, one, 0);
        for (int threads : new int[] {2, 3, 5}) {
            float[] heap = new float[rows + 2];
            float[] off = new float[rows];
            assertTrue(kernels.dotRowsOnThreads(le(shifted), 3, rowBytes, rows, a, heap, 2, threads), type + " heap");
            assertTrue(kernels.dotRowsOnThreads(direct, 5, rowBytes, rows, a, off, 0, threads), type + " direct");
            for (int r = 0; r < rows; r++) {
                assertEquals(Float.floatToIntBits(one[r]), Float.floatToIntBits(heap[r + 2]), type + " heap row " + r);
                assertEquals(Float.floatToIntBits(one[r]), Float.floatToIntBits(off[r]), type + " direct row " + r);
            }
        }
    }

    /** Through MatVec: a two-thread executor's product goes to the native threads and equals the one-thread one. */
    @Test
    void matvecOnTwoThreadsEqualsOneThread() {
        SplittableRandom random = new SplittableRandom(3);
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            int rows = 700;
            int cols = 1024;
            byte[] weights = WeightTraits.of(type).codec().quantize(gaussian(random, rows * cols));
            float[] x = gaussian(random, cols);
            float[] one = new float[rows];
            float[] two = new float[rows];
            try (RowExecutor e1 = new RowExecutor(1); RowExecutor e2 = new RowExecutor(2)) {
                new MatVec(kernels, e1).matvec(type, le(weights), rows, cols, x, one, DotMode.GGML);
                new MatVec(kernels, e2).matvec(type, le(weights), rows, cols, x, two, DotMode.GGML);
            }
            assertArrayEquals(one, two, type.toString());
            assertTrue(NativeKernels.lastCallThreads() >= 1 && NativeKernels.lastCallThreads() <= 2,
                    type + ": " + NativeKernels.lastCallThreads() + " threads ran the last native product");
        }
    }

    /**
     * Decode's products through MatVec on a two-thread executor (q, k and v run together on one activation, then one
     * alone at an output offset): each product is offered whole to the native threads, and every row equals the
     * one-thread executor's bit for bit.
     */
    @Test
    void productsRunTogetherOnTwoThreadsEqualOneThread() {
        SplittableRandom random = new SplittableRandom(29);
        int cols = 512;
        int[] rows = {300, 64, 64};
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            ByteBuffer[] w = new ByteBuffer[rows.length];
            for (int i = 0; i < rows.length; i++) {
                w[i] = le(WeightTraits.of(type).codec().quantize(gaussian(random, rows[i] * cols)));
            }
            float[] x = gaussian(random, cols);
            float[][] results = new float[2][];
            for (int threads = 1; threads <= 2; threads++) {
                try (RowExecutor executor = new RowExecutor(threads)) {
                    MatVec matVec = new MatVec(kernels, executor);
                    MatVec.Product[] p = new MatVec.Product[rows.length];
                    for (int i = 0; i < rows.length; i++) {
                        p[i] = matVec.product(type, rows[i], cols, 1, DotMode.GGML);
                    }
                    float[] out = new float[1 + 2 * (300 + 64 + 64)];
                    p[0].prepare(w[0], x, 0, out, 1);
                    p[1].prepareOnActivationOf(p[0], w[1], out, 301);
                    p[2].prepareOnActivationOf(p[1], w[2], out, 365);
                    matVec.together(p).run();
                    p[0].run(w[0], x, 0, 1, out, 429);
                    results[threads - 1] = out;
                }
            }
            assertArrayEquals(results[0], results[1], type.toString());
            assertTrue(NativeKernels.lastCallThreads() >= 1 && NativeKernels.lastCallThreads() <= 2,
                    type + ": " + NativeKernels.lastCallThreads() + " threads ran the last native product");
        }
    }

    /**
     * The pool grows to the workers a call needs, and a call of fewer threads than the pool has takes no more than it
     * asked for (many chunks each time, so a worker not asked for would have had every chance to take one).
     */
    @Test
    void aCallUsesAtMostTheThreadsAskedFor() throws IOException {
        NativeKernels.stopWorkers();
        NativeKernels.openWorkers();
        GgmlType type = GgmlType.Q8_0;
        int rows = 4000;
        int cols = 4096; // about a millisecond a product: time for a worker not asked for to take a chunk
        SplittableRandom random = new SplittableRandom(11);
        byte[] weights = WeightTraits.of(type).codec().quantize(gaussian(random, rows * cols));
        PreparedActivation a = PreparedActivation.prepare(type, DotMode.GGML, gaussian(random, cols));
        float[] out = new float[rows];
        int rowBytes = (int) type.bytesFor(cols);
        assertTrue(kernels.dotRowsOnThreads(le(weights), 0, rowBytes, rows, a, out, 0, 2));
        assertEquals(1, NativeKernels.workers());
        assertTrue(kernels.dotRowsOnThreads(le(weights), 0, rowBytes, rows, a, out, 0, 4));
        assertEquals(3, NativeKernels.workers());
        assertEquals(3, namedWorkerThreads());
        for (int i = 0; i < 30; i++) {
            assertTrue(kernels.dotRowsOnThreads(le(weights), 0, rowBytes, rows, a, out, 0, 2));
            int ran = NativeKernels.lastCallThreads();
            assertTrue(ran >= 1 && ran <= 2, ran + " threads ran a two-thread product");
        }
        assertEquals(3, NativeKernels.workers(), "a smaller call neither starts nor stops workers");
    }

    /** Stopped (the bundle's deactivation), no worker thread is left; calls are declined until opened, then work. */
    @Test
    void stopJoinsEveryWorkerAndDeclinesUntilOpened() throws IOException {
        GgmlType type = GgmlType.Q6_K;
        int rows = 300;
        int cols = 256;
        SplittableRandom random = new SplittableRandom(5);
        byte[] weights = WeightTraits.of(type).codec().quantize(gaussian(random, rows * cols));
        float[] x = gaussian(random, cols);
        PreparedActivation a = PreparedActivation.prepare(type, DotMode.GGML, x);
        int rowBytes = (int) type.bytesFor(cols);
        float[] out = new float[rows];
        float[] expected = new float[rows];
        kernels.dotRows(le(weights), 0, rowBytes, rows, a, expected, 0);
        assertTrue(kernels.dotRowsOnThreads(le(weights), 0, rowBytes, rows, a, out, 0, 3));
        assertTrue(namedWorkerThreads() >= 2);

        NativeKernels.stopWorkers();
        assertEquals(0, NativeKernels.workers());
        assertEquals(0, namedWorkerThreads(), "a native worker thread outlived the stop");
        float[] declined = new float[rows];
        assertFalse(kernels.dotRowsOnThreads(le(weights), 0, rowBytes, rows, a, declined, 0, 3));
        assertEquals(0, namedWorkerThreads(), "a declined call started a worker");
        assertArrayEquals(new float[rows], declined, "a declined call wrote results");
        // the JVM's threads take the product instead, with the same bits
        try (RowExecutor two = new RowExecutor(2)) {
            float[] viaJava = new float[rows];
            new MatVec(kernels, two).matvec(type, le(weights), rows, cols, x, viaJava, DotMode.GGML);
            assertArrayEquals(expected, viaJava);
        }
        assertEquals(0, namedWorkerThreads());
        NativeKernels.stopWorkers(); // twice: nothing to do, no failure

        NativeKernels.openWorkers();
        assertTrue(kernels.dotRowsOnThreads(le(weights), 0, rowBytes, rows, a, out, 0, 3));
        assertArrayEquals(expected, out);
        assertEquals(2, NativeKernels.workers());
    }

    /** Threads of this process named as the library names its workers. */
    static int namedWorkerThreads() throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return (int) tasks.filter(t -> {
                try {
                    return Files.readString(t.resolve("comm")).startsWith("spanker-nat-");
                } catch (IOException gone) {
                    return false; // a thread that ended while listed
                }
            }).count();
        }
    }

    private static float[] gaussian(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
