package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * A product of several vectors as a card runs it: the activation prepared on the executor's threads, and a second
 * product of the same activation run on the first one's preparation — each bit for bit the vector-by-vector product.
 */
class MatVecProductTest {
    private static float[] gaussian(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    @Test
    void aProductOnAnotherProductsPreparedActivationIsItsOwnVectorByVector() {
        Random random = new Random(5);
        int cols = 320;
        int vectors = 7;
        float[] x = gaussian(random, vectors * cols);
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.F16}) {
            for (int threads : new int[] {1, 2, 3}) {
                try (RowExecutor executor = new RowExecutor(threads)) {
                    MatVec matVec = new MatVec(Kernels.best(), executor);
                    int[] rows = {70, 33, 40};
                    MatVec.Product first = matVec.product(type, rows[0], cols, vectors, DotMode.GGML);
                    MatVec.Product second = matVec.product(type, rows[1], cols, vectors, DotMode.GGML);
                    MatVec.Product third = matVec.product(type, rows[2], cols, vectors, DotMode.GGML);
                    ByteBuffer w0 = weights(type, random, rows[0] * cols);
                    ByteBuffer w1 = weights(type, random, rows[1] * cols);
                    ByteBuffer w2 = weights(type, random, rows[2] * cols);
                    float[] out0 = new float[vectors * rows[0]];
                    float[] out1 = new float[vectors * rows[1]];
                    float[] out2 = new float[vectors * rows[2]];
                    first.run(w0, x, 0, vectors, out0, 0);
                    second.runOnActivationOf(first, w1, out1, 0);
                    // q, k, v: the third shares what the second shared
                    third.runOnActivationOf(second, w2, out2, 0);
                    String what = type + ", " + threads + " threads";
                    assertArrayEquals(byVector(matVec, type, w0, rows[0], cols, x, vectors), out0, what + ": first");
                    assertArrayEquals(byVector(matVec, type, w1, rows[1], cols, x, vectors), out1, what + ": second");
                    assertArrayEquals(byVector(matVec, type, w2, rows[2], cols, x, vectors), out2, what + ": third");
                }
            }
        }
    }

    /**
     * q, k and v (and gate and up) as one call on the threads: each product's rows bit for bit its own run, whatever
     * the split (row counts that do not divide, one product smaller than a chunk), on the ggml bytes and packed rows.
     */
    @Test
    void productsRunTogetherGiveEachProductsOwnRows() {
        Random random = new Random(11);
        int cols = 512;
        int[] rows = {70, 9, 33};
        float[] x = gaussian(random, cols);
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            for (int threads : new int[] {1, 2, 3}) {
                try (RowExecutor executor = new RowExecutor(threads)) {
                    MatVec matVec = new MatVec(Kernels.best(), executor);
                    MatVec.Product[] products = new MatVec.Product[rows.length];
                    ByteBuffer[] w = new ByteBuffer[rows.length];
                    float[][] alone = new float[rows.length][];
                    for (int i = 0; i < rows.length; i++) {
                        products[i] = matVec.product(type, rows[i], cols, 1, DotMode.GGML);
                        w[i] = weights(type, random, rows[i] * cols);
                        alone[i] = new float[rows[i]];
                        matVec.matvec(type, w[i], rows[i], cols, x, alone[i], DotMode.GGML);
                    }
                    MatVec.Together together = matVec.together(products);
                    // the outputs at an offset in one array, as a card's buffers are
                    float[] out = new float[4 + 70 + 9 + 33];
                    for (int round = 0; round < 3; round++) {
                        java.util.Arrays.fill(out, Float.NaN);
                        products[0].prepare(w[0], x, 0, out, 4);
                        products[1].prepareOnActivationOf(products[0], w[1], out, 4 + 70);
                        products[2].prepareOnActivationOf(products[1], w[2], out, 4 + 70 + 9);
                        together.run();
                        String what = type + ", " + threads + " threads, round " + round;
                        assertArrayEquals(alone[0], java.util.Arrays.copyOfRange(out, 4, 74), what + ": first");
                        assertArrayEquals(alone[1], java.util.Arrays.copyOfRange(out, 74, 83), what + ": second");
                        assertArrayEquals(alone[2], java.util.Arrays.copyOfRange(out, 83, 116), what + ": third");
                    }
                    if (PackedWeights.packs(type)) {
                        PackedWeights packed = PackedWeights.pack(type, w[2], rows[2], cols).orElseThrow();
                        float[] packedOut = new float[rows[0] + rows[2]];
                        MatVec.Product[] two = {products[0], products[2]};
                        products[0].prepare(w[0], x, 0, packedOut, 0);
                        products[2].prepareOnActivationOf(products[0], packed, packedOut, rows[0]);
                        matVec.together(two).run();
                        float[] expected = new float[rows[2]];
                        matVec.matvec(packed, x, expected, DotMode.GGML);
                        assertArrayEquals(expected, java.util.Arrays.copyOfRange(packedOut, rows[0], rows[0] + rows[2]),
                                type + ", " + threads + " threads: packed");
                    }
                }
            }
        }
    }

    /**
     * Decode's products, alone and run together, stay on the executor's threads even where the kernels have threads of
     * their own (the native pool takes {@link MatVec#matvec}'s whole; for decode's products that was measured slower),
     * and every row is the one-thread result bit for bit at its output offset.
     */
    @Test
    void decodesProductsStayOnTheExecutorsThreads() {
        Random random = new Random(23);
        int cols = 256;
        int[] rows = {40, 7, 19};
        float[] x = gaussian(random, cols);
        GgmlType type = GgmlType.Q4_K;
        ByteBuffer[] w = new ByteBuffer[rows.length];
        float[][] alone = new float[rows.length][];
        try (RowExecutor one = new RowExecutor(1)) {
            for (int i = 0; i < rows.length; i++) {
                w[i] = weights(type, random, rows[i] * cols);
                alone[i] = new float[rows[i]];
                new MatVec(Kernels.scalar(), one).matvec(type, w[i], rows[i], cols, x, alone[i], DotMode.GGML);
            }
        }
        OwnThreads kernels = new OwnThreads();
        try (RowExecutor executor = new RowExecutor(2)) {
            MatVec matVec = new MatVec(kernels, executor);
            MatVec.Product[] products = new MatVec.Product[rows.length];
            for (int i = 0; i < rows.length; i++) {
                products[i] = matVec.product(type, rows[i], cols, 1, DotMode.GGML);
            }
            float[] out = new float[3 + 40 + 7 + 19];
            java.util.Arrays.fill(out, Float.NaN);
            products[0].prepare(w[0], x, 0, out, 3);
            products[1].prepareOnActivationOf(products[0], w[1], out, 3 + 40);
            products[2].prepareOnActivationOf(products[1], w[2], out, 3 + 40 + 7);
            matVec.together(products).run();
            assertEquals(0, kernels.taken, "products taken whole");
            assertArrayEquals(alone[0], java.util.Arrays.copyOfRange(out, 3, 43), "first");
            assertArrayEquals(alone[1], java.util.Arrays.copyOfRange(out, 43, 50), "second");
            assertArrayEquals(alone[2], java.util.Arrays.copyOfRange(out, 50, 69), "third");
            float[] single = new float[1 + rows[2]];
            products[2].run(w[2], x, 0, 1, single, 1);
            assertArrayEquals(alone[2], java.util.Arrays.copyOfRange(single, 1, 1 + rows[2]), "alone");
            assertEquals(0, kernels.taken, "the product alone taken");
        }
    }

    /** The scalar kernels, taking every whole product offered on "their own threads" (the caller), counted. */
    private static final class OwnThreads implements Kernels {
        int taken;

        @Override
        public String name() {
            return "own threads";
        }

        @Override
        public float dot(ByteBuffer weights, int weightsOffset, PreparedActivation activation) {
            return Kernels.scalar().dot(weights, weightsOffset, activation);
        }

        @Override
        public boolean dotRowsOnThreads(ByteBuffer weights, int weightsOffset, int rowBytes, int rows,
                PreparedActivation activation, float[] out, int outOffset, int threads) {
            taken++;
            dotRows(weights, weightsOffset, rowBytes, rows, activation, out, outOffset);
            return true;
        }
    }

    /**
     * A provider that arrives in the middle of a product on the ranked kernels ({@link Kernels#best()}) serves from the
     * next product: every row of the running one, however many chunks its threads still take, comes from the provider
     * it started on (a swap mid-product used to mix two providers' rows, found by the Felix test of the native bundle
     * stopping under load). Matrix-vector, one- and several-vector products, products run together, matrix-matrix.
     */
    @Test
    void aProductStartedBeforeAProviderArrivesEndsOnTheKernelsItStartedWith() {
        int rows = 512;
        int cols = 64;
        GgmlType type = GgmlType.Q4_0;
        ByteBuffer w = weights(type, new Random(5), rows * cols);
        float[] x = gaussian(new Random(6), cols);
        Marking first = new Marking(1f);
        try (RowExecutor executor = new RowExecutor(2)) {
            MatVec matVec = new MatVec(Kernels.best(), executor);
            MatVec.Product one = matVec.product(type, rows, cols, 1, DotMode.GGML);
            MatVec.Product two = matVec.product(type, rows, cols, 2, DotMode.GGML);
            MatVec.Product other = matVec.product(type, rows, cols, 1, DotMode.GGML);
            MatVec.Together together = matVec.together(one, other);
            java.util.List<java.util.function.Consumer<float[]>> products = java.util.List.of(
                    out -> matVec.matvec(type, w, rows, cols, x, out, DotMode.GGML),
                    out -> one.run(w, x, 0, 1, out, 0),
                    out -> two.run(w, new float[2 * cols], 0, 2, out, 0),
                    out -> {
                        one.prepare(w, x, 0, out, 0);
                        other.prepareOnActivationOf(one, w, out, rows);
                        together.run();
                    },
                    out -> matVec.matmul(type, w, rows, cols, new float[][] {x, x}, new float[][] {out,
                            new float[rows]}, DotMode.GGML));
            for (int p = 0; p < products.size(); p++) {
                Marking second = new Marking(2f);
                try {
                    KernelProviders.register(first, 1000);
                    first.next = second;
                    float[] out = new float[2 * rows];
                    products.get(p).accept(out);
                    for (int r = 0; r < (p == 0 || p == 1 || p == 4 ? rows : 2 * rows); r++) {
                        assertEquals(1f, out[r], "product " + p + ", row " + r + ": not from the provider it started on");
                    }
                    float[] next = new float[2 * rows];
                    products.get(p).accept(next);
                    assertEquals(2f, next[0], "product " + p + ": the next product is the new provider's");
                } finally {
                    KernelProviders.unregister(second);
                    KernelProviders.unregister(first);
                }
            }
        }
    }

    /** Every dot is {@code value}; its first row call registers {@link #next} above itself, as a bundle starting. */
    private static final class Marking implements Kernels {
        private final float value;
        volatile Marking next;

        Marking(float value) {
            this.value = value;
        }

        @Override
        public String name() {
            return "marking " + value;
        }

        @Override
        public float dot(ByteBuffer weights, int weightsOffset, PreparedActivation activation) {
            return value;
        }

        @Override
        public void dotRows(ByteBuffer weights, int weightsOffset, int rowBytes, int rows,
                PreparedActivation activation, float[] out, int outOffset) {
            Marking arriving = next;
            if (arriving != null) {
                next = null;
                KernelProviders.register(arriving, 2000);
            }
            java.util.Arrays.fill(out, outOffset, outOffset + rows, value);
        }
    }

    /** A product not prepared (or run since) is refused, and a product of another MatVec cannot join. */
    @Test
    void productsRunTogetherMustBePrepared() {
        try (RowExecutor executor = new RowExecutor(2); RowExecutor other = new RowExecutor(1)) {
            MatVec matVec = new MatVec(Kernels.best(), executor);
            MatVec.Product a = matVec.product(GgmlType.Q4_0, 4, 64, 1, DotMode.GGML);
            MatVec.Product b = matVec.product(GgmlType.Q4_0, 4, 64, 1, DotMode.GGML);
            MatVec.Together together = matVec.together(a, b);
            ByteBuffer w = ByteBuffer.allocate(4 * 36);
            a.prepare(w, new float[64], 0, new float[8], 0);
            assertThrows(IllegalStateException.class, together::run, "b not prepared");
            // the refused run let go of a: both must be prepared again
            b.prepareOnActivationOf(a, w, new float[8], 4);
            assertThrows(IllegalStateException.class, together::run, "a let go");
            MatVec.Product foreign = new MatVec(Kernels.best(), other).product(GgmlType.Q4_0, 4, 64, 1, DotMode.GGML);
            assertThrows(IllegalArgumentException.class, () -> matVec.together(a, foreign));
        }
    }

    @Test
    void anActivationPreparedForOtherColumnsOrNotYetIsRefused() {
        try (RowExecutor executor = new RowExecutor(1)) {
            MatVec matVec = new MatVec(Kernels.best(), executor);
            MatVec.Product a = matVec.product(GgmlType.Q4_0, 4, 64, 2, DotMode.GGML);
            MatVec.Product b = matVec.product(GgmlType.Q4_0, 4, 96, 2, DotMode.GGML);
            assertThrows(IllegalStateException.class,
                    () -> b.runOnActivationOf(a, ByteBuffer.allocate(4 * 54), new float[8], 0));
            a.run(ByteBuffer.allocate(4 * 36), new float[128], 0, 2, new float[8], 0);
            assertThrows(IllegalArgumentException.class,
                    () -> b.runOnActivationOf(a, ByteBuffer.allocate(4 * 54), new float[8], 0));
        }
    }

    private static ByteBuffer weights(GgmlType type, Random random, int values) {
        return ByteBuffer.wrap(QuantFormats.of(type).quantize(gaussian(random, values))).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static float[] byVector(MatVec matVec, GgmlType type, ByteBuffer w, int rows, int cols, float[] x,
            int vectors) {
        float[] out = new float[vectors * rows];
        float[] one = new float[rows];
        for (int v = 0; v < vectors; v++) {
            matVec.matvec(type, w, rows, cols, java.util.Arrays.copyOfRange(x, v * cols, (v + 1) * cols), one,
                    DotMode.GGML);
            System.arraycopy(one, 0, out, v * rows, rows);
        }
        return out;
    }
}
