package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * The fast kernels against the reference ones within |fast − reference| ≤ 1e-5 · Σ|w·a| (the contract of
 * {@link Kernels}), and the reference against a float64 dot of the decoded rows.
 */
class KernelAgreementTest {
    @Test
    void vectorKernelsAreAvailableInTheseTests() {
        assertEquals("vector-256", Kernels.best().name(), "surefire runs with --add-modules jdk.incubator.vector");
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q6_K"})
    void fastAgreesWithReferenceWithinTolerance(GgmlType type) {
        SplittableRandom random = new SplittableRandom(type.id() * 31L);
        for (int trial = 0; trial < 40; trial++) {
            int cols = type.blockSize() == 1 ? 1 + random.nextInt(700) : type.blockSize() * (1 + random.nextInt(6));
            float scale = (float) Math.pow(10, random.nextInt(-3, 4));
            float[] w = randomVector(random, cols, scale);
            float[] x = randomVector(random, cols, 1);
            ByteBuffer row = le(QuantFormats.of(type).quantize(w));
            // an offset row inside a larger buffer, as in a mapped tensor
            ByteBuffer shifted = ByteBuffer.allocateDirect(row.capacity() + 7).order(ByteOrder.LITTLE_ENDIAN);
            shifted.put(7, row, 0, row.capacity());
            // and on the heap, read in place: at an offset into a larger array, and as a slice with an array offset
            ByteBuffer heap = ByteBuffer.wrap(new byte[row.capacity() + 5 + 3]).order(ByteOrder.LITTLE_ENDIAN);
            heap.put(5, row, 0, row.capacity());
            ByteBuffer slice = heap.slice(5, row.capacity()).order(ByteOrder.LITTLE_ENDIAN);
            for (DotMode mode : DotMode.values()) {
                PreparedActivation a = PreparedActivation.prepare(type, mode, x);
                float reference = Kernels.scalar().dot(row, 0, a);
                double tolerance = Tolerance.of(type, row.array(), a);
                Tolerance.assertClose(reference, Kernels.best().dot(shifted, 7, a), tolerance, type + " " + mode
                        + " cols " + cols + " direct");
                Tolerance.assertClose(reference, Kernels.best().dot(heap, 5, a), tolerance, type + " " + mode + " heap");
                Tolerance.assertClose(reference, Kernels.best().dot(slice, 0, a), tolerance, type + " " + mode
                        + " heap slice");
                double expected = 0;
                double l1 = 0;
                float[] decoded = QuantFormats.of(type).dequantize(row.array());
                float[] act = mode == DotMode.FLOAT ? x : roundTripActivation(type, x);
                for (int i = 0; i < cols; i++) {
                    expected += (double) decoded[i] * act[i];
                    l1 += Math.abs((double) decoded[i] * act[i]);
                }
                if (type == GgmlType.Q4_1 && mode == DotMode.GGML) {
                    l1 += q8_1SumRounding(row, x); // ggml adds m·s with s = Σq·d stored as fp16
                }
                assertTrue(Math.abs(reference - expected) <= 1e-5 * l1 + 1e-30, type + " " + mode + ": " + reference
                        + " vs " + expected + " l1 " + l1);
            }
        }
    }

    /**
     * Arbitrary quant bytes (every level, including int8 −128 in weights and activations, which the quantizers
     * never produce) with finite scales: the fast integer paths must not overflow where the reference does not.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q6_K"})
    void arbitraryQuantBytesAgreeWithinTolerance(GgmlType type) {
        SplittableRandom random = new SplittableRandom(type.id() * 7L + 1);
        boolean kQuant = type == GgmlType.Q4_K || type == GgmlType.Q6_K;
        GgmlType companion = kQuant ? GgmlType.Q8_K : type == GgmlType.Q4_1 ? GgmlType.Q8_1 : GgmlType.Q8_0;
        for (int trial = 0; trial < 30; trial++) {
            int cols = type.blockSize() * (1 + random.nextInt(4));
            byte[] w = new byte[(int) type.bytesFor(cols)];
            byte[] q = new byte[(int) companion.bytesFor(cols)];
            if (trial == 0) {
                java.util.Arrays.fill(w, (byte) 0x80);
                java.util.Arrays.fill(q, (byte) 0x80);
            } else {
                random.nextBytes(w);
                random.nextBytes(q);
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
            double tolerance = Tolerance.of(type, w, a);
            Tolerance.assertClose(reference, Kernels.best().dot(wb, 0, a), tolerance, type + " trial " + trial + " heap");
            ByteBuffer direct = ByteBuffer.allocateDirect(w.length).order(ByteOrder.LITTLE_ENDIAN).put(0, w);
            Tolerance.assertClose(reference, Kernels.best().dot(direct, 0, a), tolerance, type + " trial " + trial
                    + " direct");
        }
    }

    /**
     * Infinities, subnormals and NaNs in F16/BF16/F32 weights: a NaN where the reference gives a NaN (which NaN is
     * not defined), the same infinity where it gives one, and otherwise the tolerance.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16"})
    void specialValuesAgreeWithTheReference(GgmlType type) {
        SplittableRandom random = new SplittableRandom(3);
        int cols = 40;
        for (int trial = 0; trial < 50; trial++) {
            byte[] w = new byte[(int) type.bytesFor(cols)];
            random.nextBytes(w); // random bit patterns: NaNs with payloads, infinities, subnormals
            float[] x = randomVector(random, cols, 1);
            for (DotMode mode : DotMode.values()) {
                PreparedActivation a = PreparedActivation.prepare(type, mode, x);
                float reference = Kernels.scalar().dot(le(w), 0, a);
                float fast = Kernels.best().dot(le(w), 0, a);
                if (Float.isNaN(reference) || Float.isInfinite(reference)) {
                    assertEquals(Float.valueOf(reference), Float.valueOf(fast), type + " " + mode + " trial " + trial);
                } else {
                    Tolerance.assertClose(reference, fast, Tolerance.of(type, w, a), type + " " + mode + " trial " + trial);
                }
            }
        }
    }

    /**
     * Q8_0 activations without −128 take the 16-bit path; weights may still hold every byte, −128 included, and
     * the extremes (−128·−127, −128·127 twice in a lane pair) must not overflow.
     */
    @Test
    void q8_0SymmetricActivationsWithExtremeWeights() {
        SplittableRandom random = new SplittableRandom(21);
        for (int trial = 0; trial < 30; trial++) {
            int cols = 32 * (1 + random.nextInt(8));
            byte[] w = new byte[(int) GgmlType.Q8_0.bytesFor(cols)];
            byte[] q = new byte[w.length];
            random.nextBytes(w);
            for (int i = 0; i < q.length; i++) {
                q[i] = (byte) (trial % 3 == 0 ? (i % 2 == 0 ? -127 : 127) : random.nextInt(-127, 128));
                if (trial % 3 == 0) {
                    w[i] = (byte) (i % 2 == 0 ? -128 : 127);
                }
            }
            for (int b = 0; b < cols / 32; b++) {
                le(w).putShort(34 * b, smallHalf(random));
                le(q).putShort(34 * b, smallHalf(random));
            }
            PreparedActivation a = PreparedActivation.ofQuantized(GgmlType.Q8_0, q, cols);
            assertTrue(a.symmetricValues());
            Tolerance.assertClose(Kernels.scalar().dot(le(w), 0, a), Kernels.best().dot(le(w), 0, a),
                    Tolerance.of(GgmlType.Q8_0, w, a), "trial " + trial);
        }
    }

    /**
     * F16/BF16 rows, which {@code dotRows} takes four at a time: each row's result is the one-row kernel's bit for bit
     * and within tolerance of the reference, for 1 to 11 rows (fours, then a pair, then a last one), lengths that are
     * not a multiple of the vector loop's 2 × lanes nor of the lanes, heap and direct weights at an odd offset with a
     * row stride longer than a row, in both modes; on edge values (subnormals, the smallest normal, large values —
     * F16's largest finite, BF16's 2^64, since a sum near BF16's largest overflows or not by its order —, zeros of both
     * signs), activations at F16's extremes, and with an infinity or NaN in some rows (their result is then the
     * reference's).
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16"})
    void fourRowProductsEqualTheOneRowKernel(GgmlType type) {
        SplittableRandom random = new SplittableRandom(type.id() * 43L + 11);
        Kernels kernels = Kernels.portable();
        for (int trial = 0; trial < 44; trial++) {
            int rows = 1 + trial % 11;
            int cols = trial < 4 ? 32 * (1 + trial) : 1 + random.nextInt(trial % 3 == 0 ? 2000 : 200);
            int rowBytes = 2 * cols + 2 * (trial % 3);
            float scale = (float) Math.pow(10, random.nextInt(-3, 3));
            byte[] bytes = HalfRows.random(type, rows, cols, rowBytes, scale, trial % 4 == 1, trial % 5 == 3, random);
            ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 3).order(ByteOrder.LITTLE_ENDIAN).put(3, bytes);
            byte[] shifted = new byte[bytes.length + 1];
            System.arraycopy(bytes, 0, shifted, 1, bytes.length);
            float[] x = randomVector(random, cols, 1);
            if (trial % 4 == 1) {
                // the activation's extremes too: F16's largest finite and smallest subnormal (the F16 kernel scales
                // the activation by 2^112), an overflow to infinity when rounded to F16
                float[] extremes = {65504f, -65504f, 0x1p-24f, -0x1p-24f, 0f, -0f, 1e5f};
                for (int c = 0; c < cols; c++) {
                    if (random.nextInt(8) == 0) {
                        x[c] = extremes[random.nextInt(trial % 8 == 1 ? extremes.length : extremes.length - 1)];
                    }
                }
            }
            for (DotMode mode : DotMode.values()) {
                PreparedActivation a = PreparedActivation.prepare(type, mode, x);
                for (ByteBuffer weights : new ByteBuffer[] {direct, le(shifted)}) {
                    int at = weights.isDirect() ? 3 : 1;
                    float[] out = new float[rows + 2];
                    kernels.dotRows(weights, at, rowBytes, rows, a, out, 1);
                    for (int r = 0; r < rows; r++) {
                        String what = type + " " + mode + (weights.isDirect() ? " direct" : " heap") + " trial " + trial
                                + " row " + r + " of " + rows + ", " + cols + " values";
                        float one = kernels.dot(weights, at + r * rowBytes, a);
                        assertEquals(Float.floatToIntBits(one), Float.floatToIntBits(out[1 + r]), what + ": rows "
                                + out[1 + r] + ", one row " + one);
                        float reference = Kernels.scalar().dot(weights, at + r * rowBytes, a);
                        byte[] row = java.util.Arrays.copyOfRange(bytes, r * rowBytes, r * rowBytes + 2 * cols);
                        if (Float.isNaN(reference) || Float.isInfinite(reference)) {
                            assertEquals(Float.valueOf(reference), Float.valueOf(out[1 + r]), what);
                        } else {
                            Tolerance.assertClose(reference, out[1 + r], Tolerance.of(type, row, a), what);
                        }
                    }
                    assertEquals(0f, out[0], type + ": nothing written before the rows");
                    assertEquals(0f, out[rows + 1], type + ": nothing written after the rows");
                }
            }
        }
    }

    private static short smallHalf(SplittableRandom random) {
        return org.popsolutions.spanker.ggml.quant.Half.fromFloat((float) (random.nextGaussian() * 0.01));
    }

    /** The vector F16 decode against the table, for every one of the 65536 bit patterns. */
    @Test
    void vectorHalfDecodeMatchesEveryBitPattern() {
        byte[] all = new byte[2 << 16];
        for (int h = 0; h < 1 << 16; h++) {
            all[2 * h] = (byte) h;
            all[2 * h + 1] = (byte) (h >>> 8);
        }
        for (int h = 0; h < 1 << 16; h += 8) {
            float[] v = new float[8];
            VectorKernels.halves(all, 2 * h).intoArray(v, 0); // not lane(): it may canonicalize NaNs
            for (int l = 0; l < 8; l++) {
                float expected = org.popsolutions.spanker.ggml.quant.Half.toFloat((short) (h + l));
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(v[l]),
                        "half 0x" + Integer.toHexString(h + l));
            }
        }
    }

    /** The short-cut F16 decode for every bit pattern it is used for (all but exponent 31). */
    @Test
    void finiteHalfDecodeMatchesEveryFinitePattern() {
        byte[] all = new byte[2 << 16];
        for (int h = 0; h < 1 << 16; h++) {
            all[2 * h] = (byte) h;
            all[2 * h + 1] = (byte) (h >>> 8);
        }
        for (int h = 0; h < 1 << 16; h += 8) {
            float[] v = new float[8];
            VectorKernels.finiteHalves(all, 2 * h).intoArray(v, 0);
            for (int l = 0; l < 8; l++) {
                if (((h + l) & 0x7c00) != 0x7c00) {
                    float expected = org.popsolutions.spanker.ggml.quant.Half.toFloat((short) (h + l));
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(v[l]),
                            "half 0x" + Integer.toHexString(h + l));
                }
            }
        }
    }

    /** 1e5 × the largest error Q8_1's s adds (s is fp16, and made from the unrounded d): Σ_blocks |m·s|·2^-10. */
    private static double q8_1SumRounding(ByteBuffer row, float[] x) {
        byte[] q = new byte[(int) GgmlType.Q8_1.bytesFor(x.length)];
        new org.popsolutions.spanker.ggml.quant.Q8_1Format().quantizeActivations(x, 0, le(q), 0, x.length);
        ByteBuffer a = le(q);
        double bound = 0;
        for (int b = 0; b < x.length / 32; b++) {
            float m = org.popsolutions.spanker.ggml.quant.Half.toFloat(row.getShort(20 * b + 2));
            float s = org.popsolutions.spanker.ggml.quant.Half.toFloat(a.getShort(36 * b + 2));
            bound += Math.abs((double) m * s) * 0x1p-10 * 1e5;
        }
        return bound;
    }

    private static float[] roundTripActivation(GgmlType type, float[] x) {
        GgmlType companion = switch (type) {
            case Q4_0, Q8_0 -> GgmlType.Q8_0;
            case Q4_1 -> GgmlType.Q8_1;
            case Q4_K, Q6_K -> GgmlType.Q8_K;
            default -> type;
        };
        byte[] q = new byte[(int) companion.bytesFor(x.length)];
        ByteBuffer buf = le(q);
        if (companion == GgmlType.Q8_0) {
            new org.popsolutions.spanker.ggml.quant.Q8_0Format().quantizeActivations(x, 0, buf, 0, x.length);
        } else if (companion == GgmlType.Q8_1) {
            new org.popsolutions.spanker.ggml.quant.Q8_1Format().quantizeActivations(x, 0, buf, 0, x.length);
        } else {
            QuantFormats.of(companion).quantize(x, 0, buf, 0, x.length);
        }
        return QuantFormats.of(companion).dequantize(q);
    }

    /**
     * A row's result does not depend on the thread count or on matvec vs matmul (each row is one dot), and the
     * fast matvec stays within the tolerance of the reference one.
     */
    @Test
    void matvecAndMatmulAgreeAcrossThreadCounts() {
        SplittableRandom random = new SplittableRandom(5);
        int rows = 37;
        int cols = 512;
        GgmlType type = GgmlType.Q4_K;
        byte[] bytes = QuantFormats.of(type).quantize(randomVector(random, rows * cols, 1));
        ByteBuffer weights = le(bytes);
        float[][] x = {randomVector(random, cols, 1), randomVector(random, cols, 1)};
        float[] reference = new float[rows];
        float[] single = new float[rows];
        try (RowExecutor one = new RowExecutor(1)) {
            new MatVec(Kernels.scalar(), one).matvec(type, weights, rows, cols, x[1], reference, DotMode.GGML);
            new MatVec(Kernels.best(), one).matvec(type, weights, rows, cols, x[1], single, DotMode.GGML);
        }
        PreparedActivation a = PreparedActivation.prepare(type, DotMode.GGML, x[1]);
        int rowBytes = (int) type.bytesFor(cols);
        for (int r = 0; r < rows; r++) {
            byte[] row = java.util.Arrays.copyOfRange(bytes, r * rowBytes, (r + 1) * rowBytes);
            Tolerance.assertClose(reference[r], single[r], Tolerance.of(type, row, a), "row " + r);
        }
        for (int threads : new int[] {1, 2, 3, 8}) {
            try (RowExecutor executor = new RowExecutor(threads)) {
                float[] out = new float[rows];
                new MatVec(Kernels.best(), executor).matvec(type, weights, rows, cols, x[1], out, DotMode.GGML);
                assertEquals(java.util.Arrays.toString(single), java.util.Arrays.toString(out), threads + " threads");
                float[][] outs = new float[2][rows];
                new MatVec(Kernels.best(), executor).matmul(type, weights, rows, cols, x, outs, DotMode.GGML);
                assertEquals(java.util.Arrays.toString(single), java.util.Arrays.toString(outs[1]));
            }
        }
    }

    /**
     * The portable kernels' batched product (Q4_0 and Q8_0: two vectors per pass over each block) gives, per vector,
     * the row kernel's result bit for bit, hence within tolerance of the reference: every type, both modes, 1 to 7
     * vectors (pairs and a last odd one), zero and constant rows, heap and direct weights at an offset, results at an
     * offset with a stride larger than the rows.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q6_K"})
    void batchedProductEqualsTheRowKernelPerVector(GgmlType type) {
        SplittableRandom random = new SplittableRandom(type.id() * 13L + 5);
        Kernels kernels = Kernels.portable();
        for (int trial = 0; trial < 10; trial++) {
            int cols = type.blockSize() == 1 ? 1 + random.nextInt(300) : type.blockSize() * (1 + random.nextInt(6));
            int rows = 1 + random.nextInt(19);
            int vectors = 1 + trial % 7;
            float[] w = randomVector(random, rows * cols, (float) Math.pow(10, random.nextInt(-2, 3)));
            if (trial % 4 == 0) {
                java.util.Arrays.fill(w, 0, w.length / 3, 0f); // zero rows, then constant ones
                java.util.Arrays.fill(w, w.length / 3, 2 * w.length / 3, 0.5f);
            }
            float[] x = randomVector(random, vectors * cols + 3, 1);
            byte[] bytes = QuantFormats.of(type).quantize(w);
            int rowBytes = (int) type.bytesFor(cols);
            ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 5).order(ByteOrder.LITTLE_ENDIAN).put(5, bytes);
            byte[] shifted = new byte[bytes.length + 3];
            System.arraycopy(bytes, 0, shifted, 3, bytes.length);
            for (DotMode mode : DotMode.values()) {
                PreparedBatch batch = PreparedBatch.workspace(type, mode, cols, 7).refill(x, 3, vectors);
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
                            assertEquals(Float.floatToIntBits(single[r]), Float.floatToIntBits(out[1 + v * stride + r]),
                                    what + ": batched " + out[1 + v * stride + r] + ", row kernel " + single[r]);
                            byte[] row = java.util.Arrays.copyOfRange(bytes, r * rowBytes, (r + 1) * rowBytes);
                            Tolerance.assertClose(Kernels.scalar().dot(le(bytes), r * rowBytes, a),
                                    out[1 + v * stride + r], Tolerance.of(type, row, a), what);
                        }
                    }
                }
            }
        }
    }

    /**
     * The portable kernels' row products ({@code dotRows}, which takes two rows per pass where the type has a two-row
     * kernel) give each row's one-row result bit for bit, and so stay within tolerance of the reference: 1 to 6 rows
     * (pairs and a last odd one), heap and direct weights at an offset; quantized rows of arbitrary bytes (−128 in
     * weights and activations) with finite scales, float rows of arbitrary bit patterns (infinities, NaNs).
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q6_K"})
    void rowProductsEqualTheOneRowKernel(GgmlType type) {
        SplittableRandom random = new SplittableRandom(type.id() * 17L + 3);
        Kernels kernels = Kernels.portable();
        boolean quantized = type.blockSize() > 1;
        for (int trial = 0; trial < 24; trial++) {
            int cols = quantized ? type.blockSize() * (1 + random.nextInt(4)) : 8 * (1 + random.nextInt(40)) + trial % 8;
            int rows = 1 + trial % 6;
            int rowBytes = (int) type.bytesFor(cols);
            byte[] bytes;
            if (trial % 2 == 0) {
                bytes = QuantFormats.of(type).quantize(randomVector(random, rows * cols, 1));
            } else {
                bytes = new byte[rows * rowBytes];
                random.nextBytes(bytes);
                ByteBuffer view = le(bytes);
                for (int r = 0; r < rows && quantized; r++) {
                    for (int b = 0; b < cols / type.blockSize(); b++) {
                        int at = r * rowBytes + (int) type.bytesFor((long) b * type.blockSize());
                        switch (type) {
                            case Q6_K -> view.putShort(at + 208, smallHalf(random));
                            case Q4_1, Q4_K -> view.putShort(at, smallHalf(random)).putShort(at + 2, smallHalf(random));
                            default -> view.putShort(at, smallHalf(random));
                        }
                    }
                }
            }
            ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 5).order(ByteOrder.LITTLE_ENDIAN).put(5, bytes);
            byte[] shifted = new byte[bytes.length + 3];
            System.arraycopy(bytes, 0, shifted, 3, bytes.length);
            float[] x = randomVector(random, cols, 1);
            for (DotMode mode : DotMode.values()) {
                PreparedActivation a = PreparedActivation.prepare(type, mode, x);
                if (quantized && mode == DotMode.GGML && trial % 4 == 1) {
                    // arbitrary activation bytes, −128 included (the Q8_0 kernels' 32-bit path), finite scales
                    boolean kQuant = type == GgmlType.Q4_K || type == GgmlType.Q6_K;
                    GgmlType companion = kQuant ? GgmlType.Q8_K : type == GgmlType.Q4_1 ? GgmlType.Q8_1 : GgmlType.Q8_0;
                    byte[] q = new byte[(int) companion.bytesFor(cols)];
                    random.nextBytes(q);
                    ByteBuffer qb = le(q);
                    for (int b = 0; b < cols / companion.blockSize(); b++) {
                        int at = (int) companion.bytesFor((long) b * companion.blockSize());
                        if (companion == GgmlType.Q8_K) {
                            qb.putFloat(at, (float) random.nextGaussian());
                        } else {
                            qb.putShort(at, smallHalf(random)).putShort(at + 2, smallHalf(random));
                        }
                    }
                    a = PreparedActivation.ofQuantized(type, q, cols);
                }
                for (ByteBuffer weights : new ByteBuffer[] {direct, le(shifted)}) {
                    int at = weights.isDirect() ? 5 : 3;
                    float[] out = new float[rows + 1];
                    kernels.dotRows(weights, at, rowBytes, rows, a, out, 1);
                    for (int r = 0; r < rows; r++) {
                        String what = type + " " + mode + (weights.isDirect() ? " direct" : " heap") + " trial " + trial
                                + " row " + r + " of " + rows;
                        float one = kernels.dot(weights, at + r * rowBytes, a);
                        assertEquals(Float.floatToIntBits(one), Float.floatToIntBits(out[1 + r]), what + ": rows "
                                + out[1 + r] + ", one row " + one);
                        float reference = Kernels.scalar().dot(weights, at + r * rowBytes, a);
                        byte[] row = java.util.Arrays.copyOfRange(bytes, r * rowBytes, (r + 1) * rowBytes);
                        if (Float.isNaN(reference) || Float.isInfinite(reference)) {
                            assertEquals(Float.valueOf(reference), Float.valueOf(out[1 + r]), what);
                        } else {
                            Tolerance.assertClose(reference, out[1 + r], Tolerance.of(type, row, a), what);
                        }
                    }
                }
            }
        }
    }

    static float[] randomVector(SplittableRandom random, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * scale);
        }
        return v;
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
