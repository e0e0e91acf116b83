package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.Half;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * Weights repacked at load for the portable kernels: every row's product within the kernels' tolerance of the
 * reference on the ggml bytes, whatever the bytes (quantizer output, arbitrary quants with −128 activations), read
 * through {@link MatVec#matvec(PackedWeights, float[], float[], DotMode)} and {@link MatVec.Product}; the float mode
 * and other types read the ggml bytes unchanged.
 */
class PackedWeightsTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q6_K", "Q4_1", "Q4_0", "Q8_0"})
    void packedProductsAgreeWithTheReference(GgmlType type) {
        SplittableRandom random = new SplittableRandom(12 + type.id());
        try (RowExecutor executor = new RowExecutor(2)) {
            MatVec matVec = new MatVec(Kernels.best(), executor);
            for (int trial = 0; trial < 12; trial++) {
                int rows = 1 + random.nextInt(9);
                // any number of blocks: a row's last group of blocks is padded
                int cols = type.blockSize() == 32 ? 32 * (1 + random.nextInt(40)) : 256 * (1 + random.nextInt(5));
                float scale = (float) Math.pow(10, random.nextInt(-3, 4));
                byte[] ggml = quantizedRows(type, rows, cols, random, scale);
                if (trial == 0) {
                    Arrays.fill(ggml, (byte) 0); // zero rows: every scale 0
                }
                // at an offset in a direct buffer, as a mapped tensor; the packed copy is the kernels' own
                ByteBuffer direct = ByteBuffer.allocateDirect(ggml.length + 3).order(ByteOrder.LITTLE_ENDIAN)
                        .put(3, ggml).slice(3, ggml.length).order(ByteOrder.LITTLE_ENDIAN);
                PackedWeights packed = PackedWeights.pack(type, direct, rows, cols).orElseThrow();
                int padded = PackedWeights.paddedBlocks(type, cols, VectorKernels.LANES);
                assertEquals((long) rows * switch (type) {
                    case Q4_K -> 18 * padded + 4 * (padded / 4);
                    case Q6_K -> 13 * padded + 4 * (padded / 16);
                    case Q4_1 -> 20 * padded;
                    case Q8_0 -> 34 * padded;
                    default -> 18 * padded;
                }, packed.packedBytes());
                float[] x = KernelAgreementTest.randomVector(random, cols, 1);
                assertAgree(matVec, packed, ggml, x, "trial " + trial + " " + rows + "x" + cols);
            }
        }
    }

    /**
     * Column panels of any width (one group, a super-block, a width that leaves a narrower last panel), over rows split
     * among threads: each row's product still within the tolerance of the reference, quantizer output and arbitrary
     * bytes alike.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q6_K", "Q4_1", "Q4_0", "Q8_0"})
    void panelsOfAnyWidthAgreeWithTheReference(GgmlType type) {
        SplittableRandom random = new SplittableRandom(16 + type.id());
        int lanes = VectorKernels.LANES;
        try (RowExecutor executor = new RowExecutor(2)) {
            for (int panelValues : new int[] {1, 300, 1000, 1500}) {
                for (int trial = 0; trial < 6; trial++) {
                    int rows = 1 + random.nextInt(23);
                    int cols = 256 * (1 + random.nextInt(9));
                    byte[] ggml = trial % 2 == 0 ? quantizedRows(type, rows, cols, random, 1)
                            : arbitraryRows(type, rows, cols, random);
                    if (trial == 5) {
                        Arrays.fill(ggml, (byte) 0x80); // every quant −128 (Q8_0), halves −2^-17 (finite)
                    }
                    ByteBuffer weights = KernelAgreementTest.le(ggml);
                    PackedWeights packed = PackedWeights.pack(type, weights, rows, cols, panelValues).orElseThrow();
                    int groups = PackedWeights.paddedBlocks(type, cols, lanes) / lanes;
                    assertEquals(groups, packed.groups());
                    assertEquals((groups + packed.panelGroups() - 1) / packed.panelGroups(), packed.panels());
                    assertTrue(packed.panelGroups() * lanes * (type == GgmlType.Q6_K ? 16 : 32)
                            <= Math.max(panelValues, type == GgmlType.Q6_K ? 256 : 32 * lanes), "panel width");
                    byte[] q = new byte[(int) PreparedActivation.quantizedBytes(type, DotMode.GGML, cols)];
                    random.nextBytes(q); // −128 included
                    if (trial % 2 == 1) {
                        // none: Q8_0 then reads its packed rows (with −128 it reads the ggml bytes), the largest pair
                        // of products 2·128·127 in trial 5
                        for (int i = 0; i < q.length; i++) {
                            q[i] = q[i] == Byte.MIN_VALUE || trial == 5 ? (byte) -127 : q[i];
                        }
                    }
                    ByteBuffer qb = KernelAgreementTest.le(q);
                    GgmlType companion = WeightTraits.of(type).companionOrNull();
                    for (int b = 0; b < cols / companion.blockSize(); b++) {
                        if (companion == GgmlType.Q8_K) {
                            qb.putFloat(companion.typeSize() * b, (float) random.nextGaussian());
                        } else {
                            qb.putShort(companion.typeSize() * b, smallHalf(random))
                                    .putShort(companion.typeSize() * b + 2, smallHalf(random));
                        }
                    }
                    PreparedActivation a = PreparedActivation.ofQuantized(type, q, cols);
                    float[] out = new float[rows];
                    executor.forRows(rows, (from, to) -> VectorKernels.dotRowsPacked(packed, from, to - from, a, out,
                            from));
                    int rowBytes = (int) type.bytesFor(cols);
                    for (int r = 0; r < rows; r++) {
                        byte[] row = Arrays.copyOfRange(ggml, r * rowBytes, (r + 1) * rowBytes);
                        Tolerance.assertClose(Kernels.scalar().dot(weights, r * rowBytes, a), out[r],
                                Tolerance.of(type, row, a), type + " panels of " + panelValues + " values, trial "
                                        + trial + ", " + rows + "x" + cols + ", row " + r);
                    }
                }
            }
        }
        // 4096×14336 at 16 lanes: four even panels of 3584 values, not 4096 + 4096 + 4096 + 2048
        assertEquals(7, PackedWeights.panelGroups(GgmlType.Q4_0, 28, 16, PackedWeights.PANEL_VALUES));
        // a Q6_K super-block is two groups of 8 lanes: panels hold whole super-blocks
        assertEquals(2, PackedWeights.panelGroups(GgmlType.Q6_K, 6, 8, 1));
    }

    /** Random quants with small finite halves where ggml keeps its scales. */
    private static byte[] arbitraryRows(GgmlType type, int rows, int cols, SplittableRandom random) {
        byte[] w = new byte[(int) type.bytesFor((long) rows * cols)];
        random.nextBytes(w);
        return withSmallHalves(type, w, random);
    }

    /** {@code w} with small finite halves where ggml keeps each block's scales (Q6_K: its d; others: d and m/s). */
    private static byte[] withSmallHalves(GgmlType type, byte[] w, SplittableRandom random) {
        ByteBuffer wb = KernelAgreementTest.le(w);
        for (int b = 0; b < w.length / type.typeSize(); b++) {
            switch (type) {
                case Q6_K -> wb.putShort(210 * b + 208, smallHalf(random));
                default -> wb.putShort(type.typeSize() * b, smallHalf(random)).putShort(type.typeSize() * b + 2,
                        smallHalf(random));
            }
        }
        return w;
    }

    /** Every 6-bit scale and minimum, nibbles and activations of any value (int8 −128 included), finite halves. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q6_K", "Q4_1", "Q4_0", "Q8_0"})
    void arbitraryBytesAgreeWithTheReference(GgmlType type) {
        SplittableRandom random = new SplittableRandom(13 + type.id());
        for (int trial = 0; trial < 20; trial++) {
            int rows = 1 + random.nextInt(4);
            int cols = 256 * (1 + random.nextInt(4));
            GgmlType companion = switch (type) {
                case Q4_1 -> GgmlType.Q8_1;
                case Q4_0, Q8_0 -> GgmlType.Q8_0;
                default -> GgmlType.Q8_K;
            };
            byte[] w = new byte[(int) type.bytesFor((long) rows * cols)];
            byte[] q = new byte[(int) companion.bytesFor(cols)];
            if (trial == 0) {
                Arrays.fill(w, (byte) 0x80);
                Arrays.fill(q, (byte) 0x80);
            } else {
                random.nextBytes(w);
                random.nextBytes(q);
            }
            ByteBuffer wb = KernelAgreementTest.le(withSmallHalves(type, w, random));
            ByteBuffer qb = KernelAgreementTest.le(q);
            for (int b = 0; b < cols / companion.blockSize(); b++) {
                if (companion == GgmlType.Q8_K) {
                    qb.putFloat(companion.typeSize() * b, (float) random.nextGaussian());
                } else {
                    qb.putShort(companion.typeSize() * b, smallHalf(random)).putShort(companion.typeSize() * b + 2,
                            smallHalf(random));
                }
            }
            PreparedActivation a = PreparedActivation.ofQuantized(type, q, cols);
            PackedWeights packed = PackedWeights.pack(type, wb, rows, cols).orElseThrow();
            float[] out = new float[rows];
            VectorKernels.dotRowsPacked(packed, 0, rows, a, out, 0);
            int rowBytes = (int) type.bytesFor(cols);
            for (int r = 0; r < rows; r++) {
                byte[] row = Arrays.copyOfRange(w, r * rowBytes, (r + 1) * rowBytes);
                Tolerance.assertClose(Kernels.scalar().dot(wb, r * rowBytes, a), out[r],
                        Tolerance.of(type, row, a), type + " trial " + trial + " row " + r);
            }
        }
    }

    /** The product's packed path (one vector) equals the matrix-vector one; several vectors read the ggml bytes. */
    @Test
    void productReadsThePackedRows() {
        SplittableRandom random = new SplittableRandom(14);
        int rows = 37;
        int cols = 512;
        byte[] ggml = quantizedRows(GgmlType.Q6_K, rows, cols, random, 1);
        ByteBuffer weights = KernelAgreementTest.le(ggml);
        PackedWeights packed = PackedWeights.pack(GgmlType.Q6_K, weights, rows, cols).orElseThrow();
        float[] x = KernelAgreementTest.randomVector(random, 3 * cols, 1);
        try (RowExecutor executor = new RowExecutor(2)) {
            MatVec matVec = new MatVec(Kernels.best(), executor);
            float[] expected = new float[rows];
            matVec.matvec(packed, x, expected, DotMode.GGML);
            MatVec.Product product = matVec.product(GgmlType.Q6_K, rows, cols, 3, DotMode.GGML);
            float[] out = new float[rows];
            product.run(packed, x, 0, 1, out, 0);
            assertArrayEquals(expected, out);
            MatVec.Product shared = matVec.product(GgmlType.Q6_K, rows, cols, 3, DotMode.GGML);
            float[] sharedOut = new float[rows];
            shared.runOnActivationOf(product, packed, sharedOut, 0);
            assertArrayEquals(expected, sharedOut);
            // three vectors: the batch kernels on the ggml bytes, as an unpacked product
            float[] batched = new float[3 * rows];
            product.run(packed, x, 0, 3, batched, 0);
            float[] unpacked = new float[3 * rows];
            matVec.product(GgmlType.Q6_K, rows, cols, 3, DotMode.GGML).run(weights, x, 0, 3, unpacked, 0);
            assertArrayEquals(unpacked, batched);
            assertThrows(IllegalArgumentException.class,
                    () -> matVec.product(GgmlType.Q6_K, rows + 1, cols, 1, DotMode.GGML).run(packed, x, 0, 1,
                            new float[rows + 1], 0));
        }
    }

    @Test
    void floatModeAndOtherTypesReadTheGgmlBytes() {
        SplittableRandom random = new SplittableRandom(15);
        int rows = 5;
        int cols = 768;
        byte[] ggml = quantizedRows(GgmlType.Q4_K, rows, cols, random, 1);
        ByteBuffer weights = KernelAgreementTest.le(ggml);
        PackedWeights packed = PackedWeights.pack(GgmlType.Q4_K, weights, rows, cols).orElseThrow();
        float[] x = KernelAgreementTest.randomVector(random, cols, 1);
        try (RowExecutor executor = new RowExecutor(1)) {
            MatVec matVec = new MatVec(Kernels.best(), executor);
            float[] expected = new float[rows];
            matVec.matvec(GgmlType.Q4_K, weights, rows, cols, x, expected, DotMode.FLOAT);
            float[] out = new float[rows];
            matVec.matvec(packed, x, out, DotMode.FLOAT);
            assertArrayEquals(expected, out);
            // the scalar provider reads the ggml bytes: its results exactly
            MatVec scalar = new MatVec(Kernels.scalar(), executor);
            scalar.matvec(GgmlType.Q4_K, weights, rows, cols, x, expected, DotMode.GGML);
            scalar.matvec(packed, x, out, DotMode.GGML);
            assertArrayEquals(expected, out);
        }
        assertTrue(PackedWeights.pack(GgmlType.F16, KernelAgreementTest.le(new byte[2 * 256]), 1, 256).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> PackedWeights.pack(GgmlType.Q4_K, weights, rows + 1, cols));
    }

    /**
     * The activation's transposed views are made when the packed kernel is chosen, on the calling thread, before any
     * row is handed to a helper (which would otherwise wait on the activation's lock); not for a provider that reads the
     * ggml bytes, nor in float mode.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q6_K", "Q4_1", "Q4_0", "Q8_0"})
    void choosingThePackedKernelTransposesTheActivation(GgmlType type) {
        float[] x = KernelAgreementTest.randomVector(new SplittableRandom(17 + type.id()), 512, 1);
        PreparedActivation a = PreparedActivation.prepare(type, DotMode.GGML, x);
        assertTrue(!a.isTransposedFor(VectorKernels.LANES), "not before");
        assertTrue(PackedWeights.kernelFor(Kernels.scalar(), a) == null, "the scalar provider reads the ggml bytes");
        assertTrue(!a.isTransposedFor(VectorKernels.LANES), "not for the scalar provider");
        assertTrue(PackedWeights.kernelFor(KernelSelector.PORTABLE, PreparedActivation.prepare(type, DotMode.FLOAT, x))
                == null, "float mode reads the ggml bytes");
        assertTrue(PackedWeights.kernelFor(KernelSelector.PORTABLE, a) != null, "the portable kernels read packed rows");
        assertTrue(a.isTransposedFor(VectorKernels.LANES), "transposed once the packed kernel is chosen");
    }

    private static void assertAgree(MatVec matVec, PackedWeights packed, byte[] ggml, float[] x, String what) {
        int rows = packed.rows();
        int cols = packed.cols();
        float[] out = new float[rows];
        matVec.matvec(packed, x, out, DotMode.GGML);
        PreparedActivation a = PreparedActivation.prepare(packed.type(), DotMode.GGML, x);
        int rowBytes = (int) packed.type().bytesFor(cols);
        for (int r = 0; r < rows; r++) {
            byte[] row = Arrays.copyOfRange(ggml, r * rowBytes, (r + 1) * rowBytes);
            float reference = Kernels.scalar().dot(KernelAgreementTest.le(row), 0, a);
            Tolerance.assertClose(reference, out[r], Tolerance.of(packed.type(), row, a), what + " row " + r);
        }
    }

    private static byte[] quantizedRows(GgmlType type, int rows, int cols, SplittableRandom random, float scale) {
        int rowBytes = (int) type.bytesFor(cols);
        byte[] all = new byte[rows * rowBytes];
        for (int r = 0; r < rows; r++) {
            byte[] row = QuantFormats.of(type).quantize(KernelAgreementTest.randomVector(random, cols, scale));
            System.arraycopy(row, 0, all, r * rowBytes, rowBytes);
        }
        return all;
    }

    private static short smallHalf(SplittableRandom random) {
        return Half.fromFloat((float) (random.nextGaussian() * 0.01));
    }
}
