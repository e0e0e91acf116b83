package org.popsolutions.spanker.kernels.avx2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.DotTolerance;
import org.popsolutions.spanker.ggml.kernel.HalfRows;
import org.popsolutions.spanker.ggml.kernel.KernelProviders;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.PreparedActivation;
import org.popsolutions.spanker.ggml.kernel.PreparedBatch;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;
import org.popsolutions.spanker.ggml.kernel.WeightTraits;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.Half;

/** The native kernels against the scalar reference: |native − reference| ≤ 1e-5 · Σ|w·a| on every format. */
class NativeKernelsTest {
    private static NativeKernels kernels;

    @BeforeAll
    static void load() throws Exception {
        String flags = Files.readString(Path.of("/proc/cpuinfo"));
        boolean cpu = flags.contains(" avx2") && flags.contains(" fma") && flags.contains(" f16c");
        assumeTrue(cpu, "this CPU lacks AVX2/FMA/F16C: the native kernels are not used here");
        kernels = NativeLibrary.load().orElseThrow(() -> new AssertionError(NativeLibrary.unavailableReason().orElse("")));
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q6_K"})
    void randomRowsWithinToleranceOfTheReference(GgmlType type) {
        SplittableRandom random = new SplittableRandom(type.id() * 101L);
        for (int trial = 0; trial < 40; trial++) {
            int cols = type.blockSize() == 1 ? 1 + random.nextInt(900) : type.blockSize() * (1 + random.nextInt(20));
            float scale = (float) Math.pow(10, random.nextInt(-3, 4));
            float[] w = gaussian(random, cols, scale);
            if (trial % 5 == 0) {
                Arrays.fill(w, 0, cols / 2, 0f); // edge: long runs of zeros, a constant tail
                Arrays.fill(w, cols / 2, cols, scale);
            }
            float[] x = gaussian(random, cols, 1);
            byte[] row = WeightTraits.of(type).codec().quantize(w);
            for (DotMode mode : DotMode.values()) {
                PreparedActivation a = PreparedActivation.prepare(type, mode, x);
                float reference = Kernels.scalar().dot(le(row), 0, a);
                double tolerance = DotTolerance.of(row, a);
                // heap at an odd offset, and a direct buffer at an odd offset
                byte[] shifted = new byte[row.length + 5];
                System.arraycopy(row, 0, shifted, 3, row.length);
                assertClose(reference, kernels.dot(le(shifted), 3, a), tolerance, type + " " + mode + " heap");
                ByteBuffer direct = ByteBuffer.allocateDirect(row.length + 7).order(ByteOrder.LITTLE_ENDIAN);
                direct.put(7, row);
                assertClose(reference, kernels.dot(direct, 7, a), tolerance, type + " " + mode + " direct");
            }
        }
    }

    /**
     * Arbitrary quant bytes with finite scales (every level, int8 −128 in weights and activations): the integer
     * paths must neither saturate nor overflow where the reference does not.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q6_K"})
    void arbitraryQuantBytesWithinTolerance(GgmlType type) {
        SplittableRandom random = new SplittableRandom(type.id() * 13L + 5);
        GgmlType companion = WeightTraits.of(type).companion().orElseThrow();
        for (int trial = 0; trial < 40; trial++) {
            int cols = type.blockSize() * (1 + random.nextInt(6));
            byte[] w = new byte[(int) type.bytesFor(cols)];
            byte[] q = new byte[(int) companion.bytesFor(cols)];
            if (trial < 2) {
                Arrays.fill(w, (byte) (trial == 0 ? 0x80 : 0x7f)); // the extremes: −128 / 127 everywhere
                Arrays.fill(q, (byte) (trial == 0 ? 0x80 : 0x81));
            } else {
                random.nextBytes(w);
                random.nextBytes(q);
            }
            if (type == GgmlType.Q8_0 && trial % 2 == 1) {
                // no −128 in the activation: the native sign-trick path, against weights that may hold −128
                for (int i = 0; i < q.length; i++) {
                    q[i] = q[i] == Byte.MIN_VALUE ? -127 : q[i];
                }
            }
            ByteBuffer wb = le(w);
            ByteBuffer qb = le(q);
            for (int b = 0; b < cols / type.blockSize(); b++) {
                int at = (int) type.bytesFor((long) b * type.blockSize());
                switch (type) {
                    case Q6_K -> wb.putShort(at + 208, smallHalf(random));
                    case Q4_1, Q4_K -> wb.putShort(at, smallHalf(random)).putShort(at + 2, smallHalf(random));
                    default -> wb.putShort(at, smallHalf(random));
                }
            }
            for (int b = 0; b < cols / companion.blockSize(); b++) {
                int at = (int) companion.bytesFor((long) b * companion.blockSize());
                if (companion == GgmlType.Q8_K) {
                    qb.putFloat(at, (float) random.nextGaussian());
                } else {
                    qb.putShort(at, smallHalf(random));
                    if (companion == GgmlType.Q8_1) {
                        qb.putShort(at + 2, smallHalf(random));
                    }
                }
            }
            PreparedActivation a = PreparedActivation.ofQuantized(type, q, cols);
            float reference = Kernels.scalar().dot(wb, 0, a);
            assertClose(reference, kernels.dot(wb, 0, a), DotTolerance.of(w, a), type + " trial " + trial);
        }
    }

    @Test
    void matvecOverManyRowsAndThreadsMatchesRowByRow() {
        SplittableRandom random = new SplittableRandom(9);
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16}) {
            int rows = 67;
            int cols = 1024;
            byte[] weights = WeightTraits.of(type).codec().quantize(gaussian(random, rows * cols, 1));
            float[] x = gaussian(random, cols, 1);
            float[] reference = new float[rows];
            float[] fast = new float[rows];
            try (RowExecutor one = new RowExecutor(1); RowExecutor two = new RowExecutor(2)) {
                new MatVec(Kernels.scalar(), one).matvec(type, le(weights), rows, cols, x, reference, DotMode.GGML);
                new MatVec(kernels, two).matvec(type, le(weights), rows, cols, x, fast, DotMode.GGML);
            }
            PreparedActivation a = PreparedActivation.prepare(type, DotMode.GGML, x);
            int rowBytes = (int) type.bytesFor(cols);
            for (int r = 0; r < rows; r++) {
                double tolerance = DotTolerance.of(le(weights), r * rowBytes, a);
                assertClose(reference[r], fast[r], tolerance, type + " row " + r);
            }
        }
    }

    /** The batched product (a prompt's vectors in one pass over the weights) gives each vector's matvec. */
    @Test
    void matmulEqualsMatvecPerVector() {
        SplittableRandom random = new SplittableRandom(17);
        GgmlType type = GgmlType.Q4_0;
        int rows = 300;
        int cols = 2048;
        byte[] weights = WeightTraits.of(type).codec().quantize(gaussian(random, rows * cols, 1));
        float[][] x = new float[5][];
        for (int j = 0; j < x.length; j++) {
            x[j] = gaussian(random, cols, 1);
        }
        float[][] batched = new float[x.length][rows];
        try (RowExecutor two = new RowExecutor(2)) {
            MatVec matVec = new MatVec(kernels, two);
            matVec.matmul(type, le(weights), rows, cols, x, batched, DotMode.GGML);
            for (int j = 0; j < x.length; j++) {
                float[] single = new float[rows];
                matVec.matvec(type, le(weights), rows, cols, x[j], single, DotMode.GGML);
                assertEquals(Arrays.toString(single), Arrays.toString(batched[j]), "vector " + j);
            }
        }
    }

    /**
     * The matrix-matrix tiles (a weight block against several vectors) give, per vector, the row kernel's result bit
     * for bit (except where {@link #ownFloatOrder} says), and within tolerance of the reference (Q4_0: eight rows at a time for up to three vectors, 32 rows
     * against one vector in column chunks for four or more, a last group padded): every type, 1 to 9 vectors (full
     * tiles, partial tiles),
     * float rows with a tail that is not a multiple of 8, zero and constant rows, heap and direct weights at an odd
     * offset, results at an offset with a stride larger than the rows.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q6_K"})
    void batchedTilesEqualTheRowKernelPerVectorWithinToleranceOfTheReference(GgmlType type) {
        SplittableRandom random = new SplittableRandom(type.id() * 7L + 3);
        for (int trial = 0; trial < 12; trial++) {
            // every fourth trial wider than one of Q4_0's matrix-matrix column chunks (16 blocks), ending in a part one
            int blocks = 1 + random.nextInt(trial % 4 == 1 ? 40 : 12);
            int cols = type.blockSize() == 1 ? 1 + random.nextInt(700) : type.blockSize() * blocks;
            int rows = 1 + random.nextInt(trial % 3 == 0 ? 70 : 23);
            int vectors = 1 + trial % 9;
            float[] w = gaussian(random, rows * cols, (float) Math.pow(10, random.nextInt(-2, 3)));
            if (trial % 4 == 0) {
                Arrays.fill(w, 0, w.length / 3, 0f); // zero rows, then constant ones
                Arrays.fill(w, w.length / 3, 2 * w.length / 3, 0.5f);
            }
            float[] x = gaussian(random, vectors * cols + 3, 1);
            byte[] bytes = WeightTraits.of(type).codec().quantize(w);
            int rowBytes = (int) type.bytesFor(cols);
            ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 5).order(ByteOrder.LITTLE_ENDIAN);
            direct.put(5, bytes);
            byte[] shifted = new byte[bytes.length + 3];
            System.arraycopy(bytes, 0, shifted, 3, bytes.length);
            for (DotMode mode : DotMode.values()) {
                PreparedBatch batch = PreparedBatch.workspace(type, mode, cols, 9).refill(x, 3, vectors);
                int stride = rows + 2;
                for (ByteBuffer weights : new ByteBuffer[] {direct, le(shifted)}) {
                    int at = weights.isDirect() ? 5 : 3;
                    float[] out = new float[1 + vectors * stride];
                    kernels.dotRowsBatch(weights, at, rowBytes, rows, batch, out, 1, stride);
                    for (int v = 0; v < vectors; v++) {
                        PreparedActivation a = batch.vector(v);
                        float[] single = new float[rows];
                        kernels.dotRows(weights, at, rowBytes, rows, a, single, 0);
                        for (int r = 0; r < rows; r++) {
                            String what = type + " " + mode + (weights.isDirect() ? " direct" : " heap") + " trial "
                                    + trial + " vector " + v + " row " + r;
                            if (!ownFloatOrder(type, vectors)) {
                                assertEquals(Float.floatToIntBits(single[r]),
                                        Float.floatToIntBits(out[1 + v * stride + r]),
                                        what + ": batched " + out[1 + v * stride + r] + ", row kernel " + single[r]);
                            }
                            float reference = Kernels.scalar().dot(le(bytes), r * rowBytes, a);
                            assertClose(reference, out[1 + v * stride + r], DotTolerance.of(le(bytes), r * rowBytes, a),
                                    what);
                        }
                        for (int gap = rows; gap < stride && v < vectors - 1; gap++) {
                            assertEquals(0f, out[1 + v * stride + gap], what(type, v) + ": the stride's gap untouched");
                        }
                    }
                }
            }
        }
    }

    /**
     * Q8_0 and Q4_K products of four or more vectors on a CPU with AVX-512 VNNI: a matrix-matrix kernel that sums each
     * block in integers before its one FMA, so not the row kernel's float order (within tolerance of the reference).
     */
    private static boolean ownFloatOrder(GgmlType type, int vectors) {
        return (type == GgmlType.Q8_0 || type == GgmlType.Q4_K) && vectors >= 4 && vnni();
    }

    private static boolean vnni() {
        try {
            String flags = Files.readString(Path.of("/proc/cpuinfo"));
            return flags.contains(" avx512_vnni") && flags.contains(" avx512vl") && flags.contains(" avx512bw")
                    && System.getenv("SPANKER_KERNELS_NO_VNNI") == null;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /**
     * The matrix-matrix products at the quants' extremes (every weight byte 0x80, 0x7f or 0xff: Q8_0 −128 and 127,
     * Q4_0 and Q4_K level 15 with Q4_K's 6-bit scales and mins all 63; activations of equal values, which quantize to
     * ±127 or Q8_K's −128) and on random bytes: no integer sum may saturate or overflow. 41 rows (a full group of 32
     * and a padded one), columns past one column chunk, six vectors; each result within tolerance of the reference.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q4_K"})
    void matrixMatrixProductsAtTheQuantExtremesWithinToleranceOfTheReference(GgmlType type) {
        SplittableRandom random = new SplittableRandom(type.id() * 31L + 1);
        int rows = 41;
        int vectors = 6;
        int cols = type == GgmlType.Q4_K ? 3 * 256 : 17 * 32;
        int rowBytes = (int) type.bytesFor(cols);
        byte[][] fills = {{(byte) 0x80}, {(byte) 0x7f}, {(byte) 0xff}, null};
        for (byte[] fill : fills) {
            byte[] w = new byte[rows * rowBytes];
            if (fill == null) {
                random.nextBytes(w);
            } else {
                Arrays.fill(w, fill[0]);
            }
            ByteBuffer wb = le(w);
            for (int b = 0; b < rows * cols / type.blockSize(); b++) {
                int at = (int) type.bytesFor((long) b * type.blockSize());
                wb.putShort(at, smallHalf(random));
                if (type == GgmlType.Q4_K) {
                    wb.putShort(at + 2, smallHalf(random));
                }
            }
            float[] x = new float[vectors * cols];
            for (int v = 0; v < vectors; v++) {
                for (int i = 0; i < cols; i++) {
                    x[v * cols + i] = switch (v) {
                        case 0 -> 1f;
                        case 1 -> -1f;
                        case 2 -> i % 2 == 0 ? 1f : -1f;
                        default -> (float) random.nextGaussian();
                    };
                }
            }
            PreparedBatch batch = PreparedBatch.workspace(type, DotMode.GGML, cols, vectors).refill(x, 0, vectors);
            float[] out = new float[vectors * rows];
            kernels.dotRowsBatch(wb, 0, rowBytes, rows, batch, out, 0, rows);
            for (int v = 0; v < vectors; v++) {
                PreparedActivation a = batch.vector(v);
                for (int r = 0; r < rows; r++) {
                    float reference = Kernels.scalar().dot(wb, r * rowBytes, a);
                    assertClose(reference, out[v * rows + r], DotTolerance.of(wb, r * rowBytes, a), type + " fill "
                            + (fill == null ? "random" : Integer.toHexString(fill[0] & 0xff)) + " vector " + v
                            + " row " + r);
                }
            }
        }
    }

    /**
     * The matrix-matrix kernels take vectors four at a time over each packed chunk and a last one to three alone: a
     * vector's results are the same bits either way. Five vectors: the fifth runs alone; the same five rotated so that
     * it comes first: it runs with three others. Rows 41 (a full group of 32 and a padded one), columns past one
     * column chunk, on random weights.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q4_K"})
    void aVectorsResultsDoNotDependOnTheVectorsItRunsWith(GgmlType type) {
        SplittableRandom random = new SplittableRandom(type.id() * 53L + 11);
        int rows = 41;
        int vectors = 5;
        int cols = type == GgmlType.Q4_K ? 5 * 256 : 37 * 32;
        int rowBytes = (int) type.bytesFor(cols);
        byte[] bytes = WeightTraits.of(type).codec().quantize(gaussian(random, rows * cols, 0.5f));
        ByteBuffer w = le(bytes);
        float[] x = gaussian(random, vectors * cols, 1);
        float[] rotated = new float[x.length];
        System.arraycopy(x, (vectors - 1) * cols, rotated, 0, cols);
        System.arraycopy(x, 0, rotated, cols, (vectors - 1) * cols);
        float[] inOrder = new float[vectors * rows];
        float[] first = new float[vectors * rows];
        kernels.dotRowsBatch(w, 0, rowBytes, rows,
                PreparedBatch.workspace(type, DotMode.GGML, cols, vectors).refill(x, 0, vectors), inOrder, 0, rows);
        kernels.dotRowsBatch(w, 0, rowBytes, rows,
                PreparedBatch.workspace(type, DotMode.GGML, cols, vectors).refill(rotated, 0, vectors), first, 0, rows);
        for (int v = 0; v < vectors; v++) {
            int at = (v + 1) % vectors; // vector v's place among the rotated ones
            for (int r = 0; r < rows; r++) {
                assertEquals(Float.floatToIntBits(inOrder[v * rows + r]), Float.floatToIntBits(first[at * rows + r]),
                        type + " vector " + v + " row " + r + ": " + inOrder[v * rows + r] + " in order, "
                                + first[at * rows + r] + " rotated");
            }
        }
    }

    /**
     * F16 and BF16 matrix-vector rows run four at a time (512-bit registers where the CPU has AVX-512F, else 256; the
     * build's second test run sets SPANKER_KERNELS_NO_AVX512): each row's result is the one-row kernel's bit for bit
     * and within tolerance of the reference, for row counts that are not a multiple of four (1 to 11), lengths that are
     * not a multiple of 32 nor of 8, heap and direct weights at an odd offset and a row stride longer than a row; and
     * on edge values (subnormals, the smallest normal, large values — F16's largest finite, BF16's 2^64, since a sum
     * near BF16's largest overflows or not by its order —, zeros of both signs; infinities and NaN in some rows).
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16"})
    void fourRowsAtATimeEqualTheOneRowKernel(GgmlType type) {
        SplittableRandom random = new SplittableRandom(type.id() * 41L + 7);
        for (int trial = 0; trial < 60; trial++) {
            int rows = 1 + trial % 11;
            int cols = trial < 6 ? 32 * (1 + trial) : 1 + random.nextInt(trial % 3 == 0 ? 3000 : 300);
            int rowBytes = 2 * cols + 2 * (trial % 3);
            float scale = (float) Math.pow(10, random.nextInt(-3, 3));
            byte[] bytes = HalfRows.random(type, rows, cols, rowBytes, scale, trial % 4 == 1, trial % 10 == 3, random);
            float[] x = gaussian(random, cols, 1);
            PreparedActivation a = PreparedActivation.prepare(type, DotMode.GGML, x);
            ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 3).order(ByteOrder.LITTLE_ENDIAN);
            direct.put(3, bytes);
            byte[] shifted = new byte[bytes.length + 1];
            System.arraycopy(bytes, 0, shifted, 1, bytes.length);
            for (ByteBuffer weights : new ByteBuffer[] {direct, le(shifted)}) {
                int at = weights.isDirect() ? 3 : 1;
                float[] out = new float[rows + 2];
                kernels.dotRows(weights, at, rowBytes, rows, a, out, 1);
                for (int r = 0; r < rows; r++) {
                    String what = type + (weights.isDirect() ? " direct" : " heap") + " trial " + trial + " row " + r
                            + " of " + rows + ", " + cols + " values";
                    float one = kernels.dot(weights, at + r * rowBytes, a);
                    assertEquals(Float.floatToIntBits(one), Float.floatToIntBits(out[1 + r]),
                            what + ": four rows " + out[1 + r] + ", one row " + one);
                    float reference = Kernels.scalar().dot(le(bytes), r * rowBytes, a);
                    assertClose(reference, out[1 + r], DotTolerance.of(le(bytes), r * rowBytes, a), what);
                }
                assertEquals(0f, out[0], type + ": nothing written before the rows");
                assertEquals(0f, out[rows + 1], type + ": nothing written after the rows");
            }
        }
    }

    private static String what(GgmlType type, int v) {
        return type + " vector " + v;
    }

    /** Registered with a higher ranking, the native kernels become Kernels.best(); unregistered, they leave. */
    @Test
    void rankedAboveThePortableKernelsWhileRegistered() {
        String before = Kernels.best().name();
        KernelProviders.register(Kernels.portable(), 0);
        KernelProviders.register(kernels, NativeKernelsComponent.RANKING);
        try {
            assertEquals("native-avx2", Kernels.best().name());
        } finally {
            KernelProviders.unregister(kernels);
            KernelProviders.unregister(Kernels.portable());
        }
        assertEquals(before, Kernels.best().name());
        assertTrue(KernelProviders.providers().isEmpty());
    }

    private static void assertClose(float reference, float fast, double tolerance, String what) {
        double difference = Math.abs((double) reference - fast);
        assertTrue(difference <= tolerance || Float.floatToIntBits(reference) == Float.floatToIntBits(fast),
                what + ": reference " + reference + ", native " + fast + ", |difference| " + difference + " > "
                        + tolerance);
    }

    private static short smallHalf(SplittableRandom random) {
        return Half.fromFloat((float) (random.nextGaussian() * 0.01));
    }

    private static float[] gaussian(SplittableRandom random, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * scale);
        }
        return v;
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
