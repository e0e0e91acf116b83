package org.popsolutions.spanker.ggml.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.Half;
import org.popsolutions.spanker.ggml.quant.Q4_0Format;
import org.popsolutions.spanker.ggml.quant.Q4_1Format;
import org.popsolutions.spanker.ggml.quant.Q4_KFormat;
import org.popsolutions.spanker.ggml.quant.Q6_KFormat;
import org.popsolutions.spanker.ggml.quant.Q8_0Format;

/**
 * {@link ScalarKernels} on 256-bit vectors (512-bit for the packed layouts and F16/BF16 where Java 25+ has them
 * natively). Every block's integer lane partials are the reference's exact
 * integers; the float side may differ in order (FMA, two or four independent accumulators), within
 * |fast − reference| ≤ 1e-5 · Σ|w·a|.
 *
 * <p>ggml mode multiplies in 16-bit integer lanes (16 values per operation; every product of an int8 activation
 * and a weight quant fits, and so does the sum of two 4-bit products), folds to eight 32-bit lanes, and only
 * then goes to float for the block scale. The activation is widened to {@code short} once per matrix-vector
 * product ({@link PreparedActivation#values()}), not once per row.
 *
 * <p>Weights are read in place from the buffer's backing array when it has one (heap buffers, e.g.
 * {@link HeapWeights#copyOf}); a direct or mapped buffer has its row copied into a per-thread array first, because
 * {@code byte[]} loads are the only loads the Vector API offers on both Java 17 and Java 25.
 */
public final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;

    /**
     * The packed kernels' vector width: 512 bits where Java 25+ has them natively (C2 compiles the 512-bit shapes
     * well there; Java 17, which Karaf runs, keeps 256), else 256. The packed layouts follow it
     * ({@link PackedWeights#lanes()}). {@code -Dspanker.vector.packedBits=256} keeps 256 on Java 25 (to compare).
     */
    private static final boolean WIDE = Runtime.version().feature() >= 25
            && ByteVector.SPECIES_PREFERRED.vectorBitSize() >= 512
            && !"256".equals(System.getProperty("spanker.vector.packedBits"));
    private static final VectorSpecies<Byte> WB = WIDE ? ByteVector.SPECIES_512 : ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> WS = WIDE ? ShortVector.SPECIES_512 : ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> WI = WIDE ? IntVector.SPECIES_512 : IntVector.SPECIES_256;
    private static final VectorSpecies<Float> WF = WIDE ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    /** Two bytes per 32-bit lane. */
    private static final VectorSpecies<Byte> WB2 = WIDE ? ByteVector.SPECIES_256 : ByteVector.SPECIES_128;
    /** One byte per 32-bit lane. */
    private static final VectorSpecies<Byte> WB4 = WIDE ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    /*
     * The exact classes of the species above, constants to C2. A vector the Vector API loads, broadcasts, reinterprets
     * or converts is typed only ByteVector (ShortVector, ...) inside C2, so the calls on it are bound by the profiles of
     * the API's own call sites, which every caller in the JVM shares; once other widths ran through them (attention's
     * 256-bit lanes beside 512-bit code, 128- and 64-bit loops), C2 on Java 17 guards several classes, the intrinsics
     * see no constant species and every vector of the loop is boxed (KernelAllocationTest's polluted probe: Q8_0 ~66 KB
     * per product of 7 rows). Cast to its class, each vector's calls bind to it whatever ran before (as the attention
     * lanes do, see VectorAttentionLanes).
     */
    private static final Class<? extends FloatVector> FC = exact(F);
    private static final Class<? extends IntVector> IC = exact(I);
    private static final Class<? extends ShortVector> SC = exact(S);
    private static final Class<? extends ByteVector> B64C = exact(B64);
    private static final Class<? extends ByteVector> B128C = exact(B128);
    private static final Class<? extends ByteVector> B256C = exact(B256);
    private static final Class<? extends FloatVector> WFC = exact(WF);
    private static final Class<? extends IntVector> WIC = exact(WI);
    private static final Class<? extends ShortVector> WSC = exact(WS);
    private static final Class<? extends ByteVector> WBC = exact(WB);
    private static final Class<? extends ByteVector> WB2C = exact(WB2);
    private static final Class<? extends ByteVector> WB4C = exact(WB4);
    /** Shorts of a WB2 vector's bits (WB2 reinterpreted). */
    private static final Class<? extends ShortVector> WB2SC = exact(WB2.withLanes(short.class));
    /** Shorts of a B128 vector's bits. */
    private static final Class<? extends ShortVector> B128SC = exact(ShortVector.SPECIES_128);

    @SuppressWarnings("unchecked")
    private static <E, V extends jdk.incubator.vector.Vector<E>> Class<V> exact(VectorSpecies<E> species) {
        return (Class<V>) (Class<?>) species.vectorType();
    }

    /** 32-bit lanes per vector: blocks per group. */
    static final int LANES = WF.length();
    /** The lanes of a group's second super-block (Q4_K on 512 bits: a group holds two). */
    private static final VectorMask<Float> SECOND = VectorMask.fromLong(WF, 0xff00L);

    /*
     * On Java 25+ a row's Σ of its accumulator lanes is taken in double (SUM_IN_DOUBLE): each half of the float lanes
     * widened to doubles, the halves added, the doubles reduced, the result rounded to float once.
     * FloatVector.reduceLanes(ADD) leaves its order to the implementation: Java 25's C2 adds in a tree, its
     * interpreter and C1 lane after lane, so on Java 25 a row's dot product changed in its last bit with the tier that
     * ran the kernel, and a product run with others (MatVec.together) could differ from the same product run alone
     * (KernelTiersTest, MatVecProductTest). Java 17's C2 adds lane after lane like its interpreter, so Java 17 keeps
     * reduceLanes (its bits, and its compiled code in a JVM where other vector shapes ran, unchanged). In
     * double every partial sum of 8 or 16 float lanes is exact (so any order gives the same bits) unless the lanes'
     * magnitudes span more than about 2^25; Inf and NaN come out the same in any order. A helper method holding a fixed
     * order (lane after lane, or a tree of lane moves) was tried: C2 did not inline it into the multi-row kernels
     * (NodeCountInliningCutoff) and boxed the vector handed to it (KernelAllocationTest: 0.4-1.4 KB per product of 7
     * rows), while these are intrinsics written in place; a tree in float also overflowed to Infinity on
     * KernelAgreementTest's edge rows where lane order (the reference's) stays finite. The casts to the species'
     * classes keep the calls bound to them when other code in the JVM runs other widths (see LanesAllocationTest).
     */
    private static final boolean SUM_IN_DOUBLE = Runtime.version().feature() >= 25;
    /** Doubles for the halves of an {@code F} (256-bit) vector. */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;
    /** Doubles for the halves of a {@code WF} vector. */
    private static final VectorSpecies<Double> WD = WIDE ? DoubleVector.SPECIES_512 : DoubleVector.SPECIES_256;
    @SuppressWarnings("unchecked")
    private static final Class<? extends DoubleVector> D_CLASS =
            (Class<? extends DoubleVector>) (Class<?>) D.vectorType();
    @SuppressWarnings("unchecked")
    private static final Class<? extends DoubleVector> WD_CLASS =
            (Class<? extends DoubleVector>) (Class<?>) WD.vectorType();


    private static final class Staging {
        byte[] row = new byte[0];

        byte[] row(ByteBuffer w, int at, int length) {
            if (row.length < length) {
                row = new byte[length];
            }
            w.get(at, row, 0, length);
            return row;
        }

        float[] scaled = new float[0];

        /** {@code x[0, n)} times 2^112 (see {@link #f16xF32FourRows}), in this thread's array. */
        float[] scaled(float[] x, int n) {
            if (scaled.length < n) {
                scaled = new float[n];
            }
            float[] y = scaled;
            int i = 0;
            for (; i + LANES <= n; i += LANES) {
                FloatVector.fromArray(WF, x, i).mul(0x1p112f).intoArray(y, i);
            }
            for (; i < n; i++) {
                y[i] = x[i] * 0x1p112f;
            }
            return y;
        }
    }

    private static final VarHandle SHORT_LE =
            MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final ThreadLocal<Staging> staging = ThreadLocal.withInitial(Staging::new);

    /**
     * True when 256-bit vectors are native here (otherwise the API would emulate them slowly) and the platform is
     * little-endian (the fast kernels reinterpret little-endian weight bytes as lanes).
     */
    public static boolean usable() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    }

    @Override
    public String name() {
        return "vector-256";
    }

    @Override
    public float dot(ByteBuffer w, int at, PreparedActivation a) {
        int n = a.length();
        int bytes = (int) a.weightType().bytesFor(n);
        if (at < 0 || at > w.capacity() - bytes) {
            throw new IndexOutOfBoundsException("row of " + bytes + " bytes at " + at + " outside a buffer of "
                    + w.capacity());
        }
        if (w.hasArray()) {
            return dot(w.array(), w.arrayOffset() + at, a);
        }
        return dot(staging.get().row(w, at, bytes), 0, a);
    }

    /** The row starts at {@code w[at]}; the caller has checked that it fits. */
    static float dot(byte[] w, int at, PreparedActivation a) {
        return WeightTraits.of(a.weightType()).fastDot(w, at, a);
    }

    @Override
    public void dotRows(ByteBuffer w, int at, int rowBytes, int rows, PreparedActivation a, float[] out, int outAt) {
        if (rows <= 0) {
            return;
        }
        long end = (long) at + (long) (rows - 1) * rowBytes + a.weightType().bytesFor(a.length());
        if (at < 0 || end > w.capacity()) {
            throw new IndexOutOfBoundsException(rows + " rows of " + rowBytes + " bytes at " + at
                    + " outside a buffer of " + w.capacity());
        }
        WeightTraits traits = WeightTraits.of(a.weightType());
        WeightTraits.FastTwoRows two = traits.fastTwoRows(a);
        int n = a.length();
        // F16 (ggml mode: its activation rounded to F16, see f16xF32FourRows) and BF16 rows four at a time
        GgmlType type = a.weightType();
        boolean four = !a.isQuantized() && (type == GgmlType.F16 && a.mode() == DotMode.GGML || type == GgmlType.BF16);
        float[] scaled = four && rows >= 4 && type == GgmlType.F16 ? staging.get().scaled(a.floats(), n) : null;
        if (w.hasArray()) {
            byte[] array = w.array();
            int base = w.arrayOffset() + at;
            int r = 0;
            if (four) {
                for (; r + 3 < rows; r += 4) {
                    if (type == GgmlType.F16) {
                        f16xF32FourRows(array, base + r * rowBytes, rowBytes, a.floats(), scaled, n, out, outAt + r);
                    } else {
                        bf16xF32FourRows(array, base + r * rowBytes, rowBytes, a.floats(), n, out, outAt + r);
                    }
                }
            }
            if (two != null) {
                for (; r + 1 < rows; r += 2) {
                    two.dot(array, base + r * rowBytes, base + (r + 1) * rowBytes, a, n, out, outAt + r);
                }
            }
            for (; r < rows; r++) {
                out[outAt + r] = traits.fastDot(array, base + r * rowBytes, a);
            }
            return;
        }
        Staging s = staging.get();
        int bytes = (int) a.weightType().bytesFor(n);
        int r = 0;
        if (four) {
            for (; r + 3 < rows; r += 4) {
                byte[] rows4 = s.row(w, at + r * rowBytes, 3 * rowBytes + bytes);
                if (type == GgmlType.F16) {
                    f16xF32FourRows(rows4, 0, rowBytes, a.floats(), scaled, n, out, outAt + r);
                } else {
                    bf16xF32FourRows(rows4, 0, rowBytes, a.floats(), n, out, outAt + r);
                }
            }
        }
        if (two != null) {
            for (; r + 1 < rows; r += 2) {
                byte[] pair = s.row(w, at + r * rowBytes, rowBytes + bytes);
                two.dot(pair, 0, rowBytes, a, n, out, outAt + r);
            }
        }
        for (; r < rows; r++) {
            out[outAt + r] = traits.fastDot(s.row(w, at + r * rowBytes, bytes), 0, a);
        }
    }

    /**
     * Q4_0 and Q8_0 (ggml mode): each row is copied (direct weights) and its blocks loaded and unpacked once for two
     * vectors at a time, each vector's result with exactly its row kernel's operations, so a batched product equals
     * the vector-by-vector one bit for bit. Other types and float mode: the row kernel per vector over the rows.
     */
    @Override
    public void dotRowsBatch(ByteBuffer w, int at, int rowBytes, int rows, PreparedBatch batch, float[] out,
            int outAt, int outStride) {
        GgmlType type = batch.weightType();
        int count = batch.count();
        if (count < 2 || rows <= 0 || !batch.isQuantized() || (type != GgmlType.Q4_0 && type != GgmlType.Q8_0)) {
            Kernels.super.dotRowsBatch(w, at, rowBytes, rows, batch, out, outAt, outStride);
            return;
        }
        int n = batch.length();
        int bytes = (int) type.bytesFor(n);
        long end = (long) at + (long) (rows - 1) * rowBytes + bytes;
        if (at < 0 || end > w.capacity()) {
            throw new IndexOutOfBoundsException(rows + " rows of " + rowBytes + " bytes at " + at
                    + " outside a buffer of " + w.capacity());
        }
        WeightTraits traits = WeightTraits.of(type);
        Staging staging = w.hasArray() ? null : this.staging.get();
        for (int r = 0; r < rows; r++) {
            byte[] row;
            int base;
            if (staging == null) {
                row = w.array();
                base = w.arrayOffset() + at + r * rowBytes;
            } else {
                row = staging.row(w, at + r * rowBytes, bytes);
                base = 0;
            }
            int v = 0;
            for (; v + 1 < count; v += 2) {
                PreparedActivation a0 = batch.vector(v);
                PreparedActivation a1 = batch.vector(v + 1);
                int o0 = outAt + v * outStride + r;
                int o1 = o0 + outStride;
                if (type == GgmlType.Q4_0) {
                    q4_0xQ8_0Pair(row, base, a0, a1, n, out, o0, o1);
                } else if (a0.symmetricValues() && a1.symmetricValues()) {
                    q8_0xQ8_0SymmetricPair(row, base, a0, a1, n, out, o0, o1);
                } else {
                    out[o0] = traits.fastDot(row, base, a0);
                    out[o1] = traits.fastDot(row, base, a1);
                }
            }
            if (v < count) {
                out[outAt + v * outStride + r] = traits.fastDot(row, base, batch.vector(v));
            }
        }
    }

    static {
        WeightTraits.installFast(GgmlType.F32, null, VectorKernels::f32xF32);
        WeightTraits.installFast(GgmlType.F16, null, VectorKernels::f16xF32);
        WeightTraits.installFast(GgmlType.BF16, null, VectorKernels::bf16xF32);
        WeightTraits.installFast(GgmlType.Q4_0, VectorKernels::q4_0xQ8_0, VectorKernels::q4_0xF32);
        WeightTraits.installFast(GgmlType.Q4_1, VectorKernels::q4_1xQ8_1, VectorKernels::q4_1xF32);
        WeightTraits.installFast(GgmlType.Q8_0, VectorKernels::q8_0xQ8_0, VectorKernels::q8_0xF32);
        WeightTraits.installFast(GgmlType.Q4_K, VectorKernels::q4_KxQ8_K, VectorKernels::q4_KxF32);
        WeightTraits.installFast(GgmlType.Q6_K, VectorKernels::q6_KxQ8_K, VectorKernels::q6_KxF32);
        WeightTraits.installFastTwoRows(GgmlType.Q4_0, VectorKernels::q4_0xQ8_0TwoRows, null);
        WeightTraits.installFastTwoRows(GgmlType.Q4_1, VectorKernels::q4_1xQ8_1TwoRows, null);
        WeightTraits.installFastTwoRows(GgmlType.Q8_0, VectorKernels::q8_0xQ8_0TwoRows, null);
        WeightTraits.installFastTwoRows(GgmlType.F16, null, VectorKernels::f16xF32TwoRows);
        WeightTraits.installFastTwoRows(GgmlType.BF16, null, VectorKernels::bf16xF32TwoRows);
        PackedWeights.installKernel(VectorKernels::dotRowsPacked, LANES);
    }

    /** Rows [from, from + rows) of packed weights against a quantized activation (see {@link PackedWeights}). */
    static void dotRowsPacked(PackedWeights w, int from, int rows, PreparedActivation a, float[] out, int outAt) {
        byte[] bytes = w.bytes();
        float[] floats = w.floats();
        int n = a.length();
        if (from < 0 || rows < 0 || from + rows > w.rows() || n != w.cols() || !a.isQuantized()
                || a.weightType() != w.type() || w.lanes() != LANES) {
            throw new IllegalArgumentException("rows " + from + "+" + rows + " of a packed " + w.rows() + "x"
                    + w.cols() + " " + w.type() + " matrix (" + w.lanes() + " lanes) against a " + n + "-value "
                    + a.weightType() + " activation on " + LANES + "-lane kernels");
        }
        if (w.type() == GgmlType.Q8_0 && !a.symmetricValues()) {
            // an activation value of −128: two products may not add in 16 bits; the ggml bytes' kernel folds each
            int rowBytes = (int) GgmlType.Q8_0.bytesFor(n);
            KernelSelector.PORTABLE.dotRows(w.ggml(), from * rowBytes, rowBytes, rows, a, out, outAt);
            return;
        }
        short[] v = a.transposedValues(LANES);
        float[] scales = a.transposedScales(LANES);
        float[] sums = a.transposedSums(LANES);
        int[] offsets = w.type() == GgmlType.Q6_K ? a.transposedOffsets(LANES) : null;
        // panel by panel (see PackedWeights.panelGroups): the panel's activation stays in the first-level cache while
        // the rows' weights stream through
        for (int k = 0; k < w.panels(); k++) {
            int g0 = w.panelStart(k);
            int g1 = g0 + w.panelWidth(k);
            int step = w.panelWidth(k) * w.groupBytes();
            int floatStep = w.panelFloats(k);
            int at = w.panelBytes(k) + from * step;
            int fat = w.panelFloatsAt(k) + from * floatStep;
            boolean first = k == 0;
            // a loop per type: one loop calling all four kernels would inline them all into one method, past C2's
            // budget (see below)
            switch (w.type()) {
                case Q4_0 -> {
                    for (int i = outAt; i < outAt + rows; i++, at += step) {
                        float d = q4_0Packed(bytes, at, floats, fat, v, scales, sums, g0, g1);
                        out[i] = first ? d : out[i] + d;
                    }
                }
                case Q4_1 -> {
                    for (int i = outAt; i < outAt + rows; i++, at += step) {
                        float d = q4_1Packed(bytes, at, floats, fat, v, scales, sums, g0, g1);
                        out[i] = first ? d : out[i] + d;
                    }
                }
                case Q8_0 -> {
                    for (int i = outAt; i < outAt + rows; i++, at += step) {
                        float d = q8_0Packed(bytes, at, v, scales, g0, g1);
                        out[i] = first ? d : out[i] + d;
                    }
                }
                case Q4_K -> {
                    for (int i = outAt; i < outAt + rows; i++, at += step, fat += floatStep) {
                        float d = WIDE ? q4_KPackedWide(bytes, at, floats, fat, v, scales, sums, g0, g1)
                                : q4_KPacked(bytes, at, floats, fat, v, scales, sums, g0, g1);
                        out[i] = first ? d : out[i] + d;
                    }
                }
                default -> {
                    for (int i = outAt; i < outAt + rows; i++, at += step, fat += floatStep) {
                        float d = q6_KPacked(bytes, at, floats, fat, v, scales, offsets, g0, g1);
                        out[i] = first ? d : out[i] + d;
                    }
                }
            }
        }
    }

    // ---- packed (transposed) layouts: one block per 32-bit lane, see PackedWeights ----

    // The packed kernels below write every vector operation out, with no helper of their own: a helper shared by
    // several kernels is compiled on its own once hot, C2 then no longer inlines it (past the size it inlines once
    // compiled), and the vector it returns is boxed, an allocation per call (seen in KernelAllocationTest, in
    // whichever kernel ran second).

    /** Q4_0: Σ_b d_b·da_b·(Σq·a − 8·Σa), L blocks per step. */
    static float q4_0Packed(byte[] p, int at, float[] f, int fat, short[] v, float[] ds, float[] sums, int g0,
            int g1) {
        FloatVector acc = WFC.cast(FloatVector.zero(WF));
        FloatVector offsets = WFC.cast(FloatVector.zero(WF));
        for (int g = g0; g < g1; g++) {
            int wb = at + 18 * LANES * (g - g0);
            // each block's exact Σq·a in its own 32-bit lane: sixteen products per 16-bit lane (|q·a| ≤ 15·128,
            // sixteen ≤ 30720 fit 16 bits), the pairs folded once
            ShortVector acc0 = WSC.cast(ShortVector.zero(WS));
            ShortVector acc1 = WSC.cast(ShortVector.zero(WS));
            for (int t = 0; t < 4; t++) {
                ShortVector s = WSC.cast(WBC.cast(ByteVector.fromArray(WB, p, wb + 4 * LANES * t)).reinterpretAsShorts());
                int m = 32 * LANES * g + 8 * LANES * t;
                acc0 = WSC.cast(acc0.add(s.and((short) 15).mul(WSC.cast(ShortVector.fromArray(WS, v, m))))
                        .add(s.lanewise(VectorOperators.LSHR, 4).and((short) 15)
                                .mul(WSC.cast(ShortVector.fromArray(WS, v, m + 2 * LANES)))));
                acc1 = WSC.cast(acc1.add(s.lanewise(VectorOperators.LSHR, 8).and((short) 15)
                                .mul(WSC.cast(ShortVector.fromArray(WS, v, m + 4 * LANES))))
                        .add(s.lanewise(VectorOperators.LSHR, 12).mul(WSC.cast(ShortVector.fromArray(WS, v, m + 6 * LANES)))));
            }
            IntVector x = WIC.cast(acc0.add(acc1).reinterpretAsInts());
            FloatVector sums32 = WFC.cast(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(x.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0));
            // L halves decoded exactly (as Half.toFloat; see halves)
            IntVector dh = WIC.cast(WB2SC.cast(WB2C.cast(ByteVector.fromArray(WB2, p, wb + 16 * LANES)).reinterpretAsShorts())
                    .convertShape(VectorOperators.S2I, WI, 0));
            IntVector dm = WIC.cast(dh.and(0x7fff).lanewise(VectorOperators.LSHL, 13));
            FloatVector d = WFC.cast(WIC.cast(WFC.cast(dm.reinterpretAsFloats()).mul(0x1p112f).reinterpretAsInts())
                    .blend(WIC.cast(dm.or(0x70000000)), WIC.cast(dh.and(0x7c00)).compare(VectorOperators.EQ, 0x7c00))
                    .or(WIC.cast(dh.and(0x8000)).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats());
            FloatVector scale = WFC.cast(d.mul(WFC.cast(FloatVector.fromArray(WF, ds, LANES * g))));
            acc = WFC.cast(sums32.fma(scale, acc));
            offsets = WFC.cast(WFC.cast(FloatVector.fromArray(WF, sums, LANES * g)).fma(scale, offsets));
        }
        return (SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc.convertShape(VectorOperators.F2D, WD, 0))
                .add(acc.convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD))
                - 8 * (SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(offsets.convertShape(VectorOperators.F2D, WD, 0))
                .add(offsets.convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : offsets.reduceLanes(VectorOperators.ADD));
    }

    /** Q4_1: Σ_b d_b·da_b·Σq·a + m_b·s_b, L blocks per step. */
    static float q4_1Packed(byte[] p, int at, float[] f, int fat, short[] v, float[] ds, float[] sums, int g0,
            int g1) {
        FloatVector acc = WFC.cast(FloatVector.zero(WF));
        FloatVector minTerms = WFC.cast(FloatVector.zero(WF));
        for (int g = g0; g < g1; g++) {
            int wb = at + 20 * LANES * (g - g0);
            // each block's exact Σq·a in its own 32-bit lane: sixteen products per 16-bit lane (|q·a| ≤ 15·128,
            // sixteen ≤ 30720 fit 16 bits), the pairs folded once
            ShortVector acc0 = WSC.cast(ShortVector.zero(WS));
            ShortVector acc1 = WSC.cast(ShortVector.zero(WS));
            for (int t = 0; t < 4; t++) {
                ShortVector s = WSC.cast(WBC.cast(ByteVector.fromArray(WB, p, wb + 4 * LANES * t)).reinterpretAsShorts());
                int m = 32 * LANES * g + 8 * LANES * t;
                acc0 = WSC.cast(acc0.add(s.and((short) 15).mul(WSC.cast(ShortVector.fromArray(WS, v, m))))
                        .add(s.lanewise(VectorOperators.LSHR, 4).and((short) 15)
                                .mul(WSC.cast(ShortVector.fromArray(WS, v, m + 2 * LANES)))));
                acc1 = WSC.cast(acc1.add(s.lanewise(VectorOperators.LSHR, 8).and((short) 15)
                                .mul(WSC.cast(ShortVector.fromArray(WS, v, m + 4 * LANES))))
                        .add(s.lanewise(VectorOperators.LSHR, 12).mul(WSC.cast(ShortVector.fromArray(WS, v, m + 6 * LANES)))));
            }
            IntVector x = WIC.cast(acc0.add(acc1).reinterpretAsInts());
            FloatVector sums32 = WFC.cast(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(x.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0));
            // L halves decoded exactly (as Half.toFloat; see halves)
            IntVector dh = WIC.cast(WB2SC.cast(WB2C.cast(ByteVector.fromArray(WB2, p, wb + 16 * LANES)).reinterpretAsShorts())
                    .convertShape(VectorOperators.S2I, WI, 0));
            IntVector dm = WIC.cast(dh.and(0x7fff).lanewise(VectorOperators.LSHL, 13));
            FloatVector d = WFC.cast(WIC.cast(WFC.cast(dm.reinterpretAsFloats()).mul(0x1p112f).reinterpretAsInts())
                    .blend(WIC.cast(dm.or(0x70000000)), WIC.cast(dh.and(0x7c00)).compare(VectorOperators.EQ, 0x7c00))
                    .or(WIC.cast(dh.and(0x8000)).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats());
            acc = WFC.cast(sums32.fma(d.mul(WFC.cast(FloatVector.fromArray(WF, ds, LANES * g))), acc));
        }
        // the m·s terms in a loop of their own (both decodes of halves in one loop took it past C2's inlining budget)
        for (int g = g0; g < g1; g++) {
            // L halves decoded exactly (as Half.toFloat; see halves)
            IntVector mh = WIC.cast(WB2SC.cast(WB2C.cast(ByteVector.fromArray(WB2, p, at + 20 * LANES * (g - g0) + 18 * LANES))
                    .reinterpretAsShorts())
                    .convertShape(VectorOperators.S2I, WI, 0));
            IntVector mm = WIC.cast(mh.and(0x7fff).lanewise(VectorOperators.LSHL, 13));
            FloatVector m = WFC.cast(WIC.cast(WFC.cast(mm.reinterpretAsFloats()).mul(0x1p112f).reinterpretAsInts())
                    .blend(WIC.cast(mm.or(0x70000000)), WIC.cast(mh.and(0x7c00)).compare(VectorOperators.EQ, 0x7c00))
                    .or(WIC.cast(mh.and(0x8000)).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats());
            minTerms = WFC.cast(m.fma(WFC.cast(FloatVector.fromArray(WF, sums, LANES * g)), minTerms));
        }
        return (SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc.convertShape(VectorOperators.F2D, WD, 0))
                .add(acc.convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD))
                + (SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(minTerms.convertShape(VectorOperators.F2D, WD, 0))
                .add(minTerms.convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : minTerms.reduceLanes(VectorOperators.ADD));
    }

    /**
     * Q8_0 against an activation without −128: per 32-bit lane, one block's pairs of products (each pair ≤ 2·128·127
     * in magnitude, within 16 bits) folded and added in 32 bits, exact; then d·da for L blocks at once.
     */
    static float q8_0Packed(byte[] p, int at, short[] v, float[] ds, int g0, int g1) {
        FloatVector acc = WFC.cast(FloatVector.zero(WF));
        for (int g = g0; g < g1; g++) {
            int wb = at + 34 * LANES * (g - g0);
            int m = 32 * LANES * g;
            IntVector sum = WIC.cast(IntVector.zero(WI));
            for (int t = 0; t < 16; t += 2) {
                ShortVector w0 = WSC.cast(WB2C.cast(ByteVector.fromArray(WB2, p, wb + 2 * LANES * t))
                        .convertShape(VectorOperators.B2S, WS, 0));
                ShortVector w1 = WSC.cast(WB2C.cast(ByteVector.fromArray(WB2, p, wb + 2 * LANES * (t + 1)))
                        .convertShape(VectorOperators.B2S, WS, 0));
                IntVector x = WIC.cast(w0.mul(WSC.cast(ShortVector.fromArray(WS, v, m + 2 * LANES * t)))
                        .add(w1.mul(WSC.cast(ShortVector.fromArray(WS, v, m + 2 * LANES * (t + 1)))))
                        .reinterpretAsInts());
                sum = WIC.cast(sum.add(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(x.lanewise(VectorOperators.ASHR, 16)));
            }
            // L halves decoded exactly (as Half.toFloat; see halves)
            IntVector dh = WIC.cast(WB2SC.cast(WB2C.cast(ByteVector.fromArray(WB2, p, wb + 32 * LANES))
                    .reinterpretAsShorts()).convertShape(VectorOperators.S2I, WI, 0));
            IntVector dm = WIC.cast(dh.and(0x7fff).lanewise(VectorOperators.LSHL, 13));
            FloatVector d = WFC.cast(WIC.cast(WFC.cast(dm.reinterpretAsFloats()).mul(0x1p112f).reinterpretAsInts())
                    .blend(WIC.cast(dm.or(0x70000000)), WIC.cast(dh.and(0x7c00)).compare(VectorOperators.EQ, 0x7c00))
                    .or(WIC.cast(dh.and(0x8000)).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats());
            acc = WFC.cast(WFC.cast(sum.convert(VectorOperators.I2F, 0))
                    .fma(d.mul(WFC.cast(FloatVector.fromArray(WF, ds, LANES * g))), acc));
        }
        return (SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc.convertShape(VectorOperators.F2D, WD, 0))
                .add(acc.convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD));
    }

    /**
     * Q4_K: each 32-value sub-block's Σq·a in its lane times d·da·sc (a group holds one super-block on 256 bits, two
     * on 512), less dmin·m times the activation's scaled sub-block sums.
     */
    static float q4_KPacked(byte[] p, int at, float[] f, int fat, short[] v, float[] ds, float[] sums, int g0,
            int g1) {
        FloatVector acc = WFC.cast(FloatVector.zero(WF));
        FloatVector minTerms = WFC.cast(FloatVector.zero(WF));
        int perGroup = LANES / 8;
        for (int g = g0; g < g1; g++) {
            int wb = at + 18 * LANES * (g - g0);
            int sb = perGroup * g;
            int fb = fat + 2 * perGroup * (g - g0);
            FloatVector d = WFC.cast(FloatVector.broadcast(WF, f[fb] * ds[sb]));
            FloatVector dmin = WFC.cast(FloatVector.broadcast(WF, f[fb + 1]));
            if (perGroup == 2) {
                d = WFC.cast(d.blend(f[fb + 2] * ds[sb + 1], SECOND));
                dmin = WFC.cast(dmin.blend(f[fb + 3], SECOND));
            }
            FloatVector scales = WFC.cast((WFC.cast(WB4C.cast(ByteVector.fromArray(WB4, p, wb + 16 * LANES))
                    .convertShape(VectorOperators.B2F, WF, 0))).mul(d));
            // each block's exact Σq·a in its own 32-bit lane: sixteen products per 16-bit lane (|q·a| ≤ 15·128,
            // sixteen ≤ 30720 fit 16 bits), the pairs folded once
            ShortVector acc0 = WSC.cast(ShortVector.zero(WS));
            ShortVector acc1 = WSC.cast(ShortVector.zero(WS));
            for (int t = 0; t < 4; t++) {
                ShortVector s = WSC.cast(WBC.cast(ByteVector.fromArray(WB, p, wb + 4 * LANES * t)).reinterpretAsShorts());
                int m = 32 * LANES * g + 8 * LANES * t;
                acc0 = WSC.cast(acc0.add(s.and((short) 15).mul(WSC.cast(ShortVector.fromArray(WS, v, m))))
                        .add(s.lanewise(VectorOperators.LSHR, 4).and((short) 15)
                                .mul(WSC.cast(ShortVector.fromArray(WS, v, m + 2 * LANES)))));
                acc1 = WSC.cast(acc1.add(s.lanewise(VectorOperators.LSHR, 8).and((short) 15)
                                .mul(WSC.cast(ShortVector.fromArray(WS, v, m + 4 * LANES))))
                        .add(s.lanewise(VectorOperators.LSHR, 12).mul(WSC.cast(ShortVector.fromArray(WS, v, m + 6 * LANES)))));
            }
            IntVector x = WIC.cast(acc0.add(acc1).reinterpretAsInts());
            FloatVector sums32 = WFC.cast(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(x.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0));
            acc = WFC.cast(sums32.fma(scales, acc));
            minTerms = WFC.cast((WFC.cast(WB4C.cast(ByteVector.fromArray(WB4, p, wb + 17 * LANES))
                    .convertShape(VectorOperators.B2F, WF, 0))).mul(dmin)
                    .fma(WFC.cast(FloatVector.fromArray(WF, sums, LANES * g)), minTerms));
        }
        return (SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc.convertShape(VectorOperators.F2D, WD, 0))
                .add(acc.convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD))
                - (SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(minTerms.convertShape(VectorOperators.F2D, WD, 0))
                .add(minTerms.convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : minTerms.reduceLanes(VectorOperators.ADD));
    }

    /**
     * {@link #q4_KPacked} on 512 bits (Java 25+), the same sums, the minimum terms in a loop of their own: in the
     * products' loop their accumulator, d-min and the scales stayed live across the sixteen products and C2 spilled
     * three vectors to the stack every group; apart, the two loops ran 10–13 % faster (4096×14336, in cache and from
     * DRAM, one thread, CPU time, alternated in one JVM, loaded). On Java 17 (256 bits) the split ran 20–30 % slower,
     * so 17 keeps the one loop.
     */
    static float q4_KPackedWide(byte[] p, int at, float[] f, int fat, short[] v, float[] ds, float[] sums, int g0,
            int g1) {
        FloatVector acc = WFC.cast(FloatVector.zero(WF));
        int perGroup = 2; // super-blocks per group on 512 bits
        for (int g = g0; g < g1; g++) {
            int wb = at + 18 * LANES * (g - g0);
            // each block's exact Σq·a in its own 32-bit lane: sixteen products per 16-bit lane (|q·a| ≤ 15·128,
            // sixteen ≤ 30720 fit 16 bits), the pairs folded once
            ShortVector acc0 = WSC.cast(ShortVector.zero(WS));
            ShortVector acc1 = WSC.cast(ShortVector.zero(WS));
            for (int t = 0; t < 4; t++) {
                ShortVector s = WSC.cast(WBC.cast(ByteVector.fromArray(WB, p, wb + 4 * LANES * t)).reinterpretAsShorts());
                int m = 32 * LANES * g + 8 * LANES * t;
                acc0 = WSC.cast(acc0.add(s.and((short) 15).mul(WSC.cast(ShortVector.fromArray(WS, v, m))))
                        .add(s.lanewise(VectorOperators.LSHR, 4).and((short) 15)
                                .mul(WSC.cast(ShortVector.fromArray(WS, v, m + 2 * LANES)))));
                acc1 = WSC.cast(acc1.add(s.lanewise(VectorOperators.LSHR, 8).and((short) 15)
                                .mul(WSC.cast(ShortVector.fromArray(WS, v, m + 4 * LANES))))
                        .add(s.lanewise(VectorOperators.LSHR, 12).mul(WSC.cast(ShortVector.fromArray(WS, v, m + 6 * LANES)))));
            }
            IntVector x = WIC.cast(acc0.add(acc1).reinterpretAsInts());
            FloatVector sums32 = WFC.cast(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(x.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0));
            // the scales after the products: nothing but the accumulator lives across them
            int sb = perGroup * g;
            int fb = fat + 2 * perGroup * (g - g0);
            FloatVector d = WFC.cast(WFC.cast(FloatVector.broadcast(WF, f[fb] * ds[sb])).blend(f[fb + 2] * ds[sb + 1], SECOND));
            acc = WFC.cast(sums32.fma((WFC.cast(WB4C.cast(ByteVector.fromArray(WB4, p, wb + 16 * LANES))
                    .convertShape(VectorOperators.B2F, WF, 0))).mul(d), acc));
        }
        FloatVector minTerms = WFC.cast(FloatVector.zero(WF));
        for (int g = g0; g < g1; g++) {
            int fb = fat + 2 * perGroup * (g - g0);
            FloatVector dmin = WFC.cast(WFC.cast(FloatVector.broadcast(WF, f[fb + 1])).blend(f[fb + 3], SECOND));
            minTerms = WFC.cast((WFC.cast(WB4C.cast(ByteVector.fromArray(WB4, p, at + 18 * LANES * (g - g0) + 17 * LANES))
                    .convertShape(VectorOperators.B2F, WF, 0))).mul(dmin)
                    .fma(WFC.cast(FloatVector.fromArray(WF, sums, LANES * g)), minTerms));
        }
        return (SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc.convertShape(VectorOperators.F2D, WD, 0))
                .add(acc.convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD))
                - (SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(minTerms.convertShape(VectorOperators.F2D, WD, 0))
                .add(minTerms.convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : minTerms.reduceLanes(VectorOperators.ADD));
    }

    /**
     * Q6_K: each 16-value sub-block's Σ(q − 32)·a in its lane (unsigned 6-bit quants: four products per 16-bit lane,
     * ≤ 4·63·128, fit; two such sums folded; 32·Σa taken off in 32 bits), times d·da·sc.
     */
    static float q6_KPacked(byte[] p, int at, float[] f, int fat, short[] v, float[] ds, int[] offsets, int g0,
            int g1) {
        FloatVector acc = WFC.cast(FloatVector.zero(WF));
        int l2 = 2 * LANES;
        int groupsPerBlock = 16 / LANES;
        for (int g = g0; g < g1; g++) {
            int wb = at + 13 * LANES * (g - g0);
            int vi = 16 * LANES * g;
            ShortVector h = WSC.cast(WBC.cast(ByteVector.fromArray(WB, p, wb + 4 * l2)).reinterpretAsShorts());
            IntVector sum = WIC.cast(WIC.cast(IntVector.fromArray(WI, offsets, LANES * g)).neg());
            // a loop of two (low nibbles of values 0-3, then 4-7 of each lane), not written out: at twice the size
            // Java 17's C2 stopped inlining the Vector API chain and boxed the vectors
            for (int t = 0; t < 2; t++) {
                ShortVector s = WSC.cast(WBC.cast(ByteVector.fromArray(WB, p, wb + 2 * l2 * t)).reinterpretAsShorts());
                ShortVector ht = WSC.cast(h.lanewise(VectorOperators.LSHR, 8 * t));
                int m = vi + 4 * l2 * t;
                IntVector x = WIC.cast(s.and((short) 15).or(ht.lanewise(VectorOperators.LSHL, 4).and((short) 0x30))
                        .mul(WSC.cast(ShortVector.fromArray(WS, v, m)))
                        .add(s.lanewise(VectorOperators.LSHR, 4).and((short) 15)
                                .or(ht.lanewise(VectorOperators.LSHL, 2).and((short) 0x30))
                                .mul(WSC.cast(ShortVector.fromArray(WS, v, m + l2))))
                        .add(s.lanewise(VectorOperators.LSHR, 8).and((short) 15).or(ht.and((short) 0x30))
                                .mul(WSC.cast(ShortVector.fromArray(WS, v, m + 2 * l2))))
                        .add(s.lanewise(VectorOperators.LSHR, 12)
                                .or(ht.lanewise(VectorOperators.LSHR, 2).and((short) 0x30))
                                .mul(WSC.cast(ShortVector.fromArray(WS, v, m + 3 * l2))))
                        .reinterpretAsInts());
                sum = WIC.cast(sum.add(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(x.lanewise(VectorOperators.ASHR, 16)));
            }
            int sb = g / groupsPerBlock;
            FloatVector scales = WFC.cast((WFC.cast(WB4C.cast(ByteVector.fromArray(WB4, p, wb + 12 * LANES))
                    .convertShape(VectorOperators.B2F, WF, 0))).mul(f[fat + (g - g0) / groupsPerBlock] * ds[sb]));
            acc = WFC.cast((WFC.cast(sum.convert(VectorOperators.I2F, 0))).fma(scales, acc));
        }
        return (SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc.convertShape(VectorOperators.F2D, WD, 0))
                .add(acc.convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD));
    }

    /**
     * Whether {@link #shortAt} is one 16-bit load through a VarHandle or two byte loads. Measured per JDK (JMH
     * MatVecBenchmark, 4096×14336, 1 thread, quiet, the two alternated): on 25 the one load makes Q4_0 7.3 → 5.3 ms
     * (the byte loads, shift and or are a fifth of its per-block work); on 17 the VarHandle's inlined chain pushes
     * the large K-quant kernels past C2's budget and their vectors stay boxed: Q6_K 9.1 → 44.6 ms, Q4_0 6.8 → 7.4 ms.
     * JDKs between were not measured and take 17's path.
     */
    private static final boolean ONE_SHORT_LOAD = Runtime.version().feature() >= 25;

    private static short shortAt(byte[] a, int i) {
        return ONE_SHORT_LOAD ? (short) SHORT_LE.get(a, i) : (short) ((a[i] & 0xff) | (a[i + 1] << 8));
    }

    /** 6-bit scale of Q4_K sub-block j from the 12 packed bytes at {@code at} (ggml's get_scale_min_k4). */
    static int q4kScale(byte[] w, int at, int j) {
        return j < 4 ? w[at + j] & 63 : (w[at + j + 4] & 0xf) | (((w[at + j - 4] & 0xff) >>> 6) << 4);
    }

    /** 6-bit min of Q4_K sub-block j. */
    static int q4kMin(byte[] w, int at, int j) {
        return j < 4 ? w[at + j + 4] & 63 : ((w[at + j + 4] & 0xff) >>> 4) | (((w[at + j] & 0xff) >>> 6) << 4);
    }

    // ---- ggml mode: 16-bit integer products, exact per-lane integer block sums ----

    /** 16 bytes at {@code at}, sign-extended to 16 lanes. */
    private static ShortVector shorts(byte[] w, int at) {
        return SC.cast(B128C.cast(ByteVector.fromArray(B128, w, at)).convertShape(VectorOperators.B2S, S, 0));
    }

    private static ShortVector values(short[] v, int at) {
        return SC.cast(ShortVector.fromArray(S, v, at));
    }

    /**
     * Adjacent lanes 2k and 2k+1 of 16 products added in 32 bits (AVX2's {@code vpmaddwd} step, which the Vector API
     * does not offer): each int lane is split into its two shorts by shifts inside the lane. Taking the upper half
     * of a 256-bit vector ({@code convertShape(..., 1)}, {@code reinterpretShape(..., 1)}) compiles on C2 to a
     * permute, two shuffles and two blends, about twice this.
     */
    private static IntVector fold(ShortVector p) {
        IntVector x = IC.cast(p.reinterpretAsInts());
        return IC.cast(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(x.lanewise(VectorOperators.ASHR, 16)));
    }

    /**
     * {@link #fold} for products whose pair sums stay within 16 bits (4-bit weights: |q·a| ≤ 15·128, four per
     * pair; 6-bit: |q·a| ≤ 32·128, two per pair): the low short added onto the high one, whose lane is then
     * shifted down with its sign.
     */
    private static IntVector foldSmall(ShortVector p) {
        IntVector x = IC.cast(p.reinterpretAsInts());
        return IC.cast(x.add(x.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16));
    }

    private static FloatVector toFloat(IntVector v) {
        return FC.cast(v.convert(VectorOperators.I2F, 0));
    }

    /**
     * Σ(q − 8)·a = Σq·a − 8·Σa: the quants stay unsigned (no subtraction per value) and the activation block's
     * sum, prepared once per matrix-vector product, is taken off once per block. Two blocks per step, each into
     * its own accumulator.
     */
    static float q4_0xQ8_0(byte[] w, int at, PreparedActivation a, int n) {
        short[] v = a.values();
        float[] ds = a.blockScales();
        int[] sums = a.blockValueSums();
        FloatVector acc = FC.cast(FloatVector.zero(F));
        float offsets = 0;
        for (int b = 0; b < n / Q4_0Format.BLOCK; b++) {
            int wb = at + Q4_0Format.BYTES * b;
            float scale = Half.toFloat(shortAt(w, wb + Q4_0Format.D)) * ds[b];
            ShortVector q = SC.cast(shorts(w, wb + Q4_0Format.QS));
            ShortVector p = SC.cast(q.and((short) 15).mul(values(v, 32 * b))
                    .add(q.lanewise(VectorOperators.ASHR, 4).and((short) 15).mul(values(v, 32 * b + 16))));
            acc = FC.cast(toFloat(foldSmall(p)).fma(FC.cast(FloatVector.broadcast(F, scale)), acc));
            offsets = Math.fma(scale, sums[b], offsets);
        }
        return (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc.convertShape(VectorOperators.F2D, D, 0))
                .add(acc.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD)) - 8 * offsets;
    }

    /**
     * {@link #q4_0xQ8_0} for two rows, each block's activation loaded once for both: each row's result is the one-row
     * kernel's, bit for bit (the same operations in the same order).
     */
    static void q4_0xQ8_0TwoRows(byte[] w, int at0, int at1, PreparedActivation a, int n, float[] out, int o) {
        short[] v = a.values();
        float[] ds = a.blockScales();
        int[] sums = a.blockValueSums();
        FloatVector acc0 = FC.cast(FloatVector.zero(F));
        FloatVector acc1 = FC.cast(FloatVector.zero(F));
        float offsets0 = 0;
        float offsets1 = 0;
        for (int b = 0; b < n / Q4_0Format.BLOCK; b++) {
            int w0 = at0 + Q4_0Format.BYTES * b;
            int w1 = at1 + Q4_0Format.BYTES * b;
            float da = ds[b];
            int sum = sums[b];
            float scale0 = Half.toFloat(shortAt(w, w0 + Q4_0Format.D)) * da;
            float scale1 = Half.toFloat(shortAt(w, w1 + Q4_0Format.D)) * da;
            ShortVector va = SC.cast(ShortVector.fromArray(S, v, 32 * b));
            ShortVector vb = SC.cast(ShortVector.fromArray(S, v, 32 * b + 16));
            // the helpers written out (see q4_0xQ8_0Pair)
            ShortVector q0 = SC.cast(B128C.cast(ByteVector.fromArray(B128, w, w0 + Q4_0Format.QS))
                    .convertShape(VectorOperators.B2S, S, 0));
            ShortVector q1 = SC.cast(B128C.cast(ByteVector.fromArray(B128, w, w1 + Q4_0Format.QS))
                    .convertShape(VectorOperators.B2S, S, 0));
            IntVector x0 = IC.cast(q0.and((short) 15).mul(va)
                    .add(q0.lanewise(VectorOperators.ASHR, 4).and((short) 15).mul(vb)).reinterpretAsInts());
            IntVector x1 = IC.cast(q1.and((short) 15).mul(va)
                    .add(q1.lanewise(VectorOperators.ASHR, 4).and((short) 15).mul(vb)).reinterpretAsInts());
            acc0 = FC.cast((FC.cast(x0.add(x0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0))).fma(FC.cast(FloatVector.broadcast(F, scale0)), acc0));
            acc1 = FC.cast((FC.cast(IC.cast(x1.add(x1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0))).fma(FC.cast(FloatVector.broadcast(F, scale1)), acc1));
            offsets0 = Math.fma(scale0, sum, offsets0);
            offsets1 = Math.fma(scale1, sum, offsets1);
        }
        out[o] = (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc0.convertShape(VectorOperators.F2D, D, 0))
                .add(acc0.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc0.reduceLanes(VectorOperators.ADD)) - 8 * offsets0;
        out[o + 1] = (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc1.convertShape(VectorOperators.F2D, D, 0))
                .add(acc1.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc1.reduceLanes(VectorOperators.ADD)) - 8 * offsets1;
    }

    /** {@link #q4_0xQ8_0} for two vectors, each block's quants loaded and unpacked once: the same results. */
    static void q4_0xQ8_0Pair(byte[] w, int at, PreparedActivation a0, PreparedActivation a1, int n, float[] out,
            int o0, int o1) {
        short[] v0 = a0.values();
        short[] v1 = a1.values();
        float[] ds0 = a0.blockScales();
        float[] ds1 = a1.blockScales();
        int[] sums0 = a0.blockValueSums();
        int[] sums1 = a1.blockValueSums();
        FloatVector acc0 = FC.cast(FloatVector.zero(F));
        FloatVector acc1 = FC.cast(FloatVector.zero(F));
        float offsets0 = 0;
        float offsets1 = 0;
        for (int b = 0; b < n / Q4_0Format.BLOCK; b++) {
            int wb = at + Q4_0Format.BYTES * b;
            float d = Half.toFloat(shortAt(w, wb + Q4_0Format.D));
            float scale0 = d * ds0[b];
            float scale1 = d * ds1[b];
            // the helpers (shorts, values, foldSmall, toFloat) written out: this method is past C2's node-count
            // cutoff for inlining calls of our own, and a vector handed to a call that is not inlined is boxed
            ShortVector q = SC.cast(B128C.cast(ByteVector.fromArray(B128, w, wb + Q4_0Format.QS))
                    .convertShape(VectorOperators.B2S, S, 0));
            ShortVector lo = SC.cast(q.and((short) 15));
            ShortVector hi = SC.cast(q.lanewise(VectorOperators.ASHR, 4).and((short) 15));
            ShortVector p0 = SC.cast(lo.mul(SC.cast(ShortVector.fromArray(S, v0, 32 * b)))
                    .add(hi.mul(SC.cast(ShortVector.fromArray(S, v0, 32 * b + 16)))));
            ShortVector p1 = SC.cast(lo.mul(SC.cast(ShortVector.fromArray(S, v1, 32 * b)))
                    .add(hi.mul(SC.cast(ShortVector.fromArray(S, v1, 32 * b + 16)))));
            IntVector x0 = IC.cast(p0.reinterpretAsInts());
            IntVector x1 = IC.cast(p1.reinterpretAsInts());
            IntVector h0 = IC.cast(x0.add(x0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16));
            IntVector h1 = IC.cast(x1.add(x1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16));
            acc0 = FC.cast((FC.cast(h0.convert(VectorOperators.I2F, 0))).fma(FC.cast(FloatVector.broadcast(F, scale0)), acc0));
            acc1 = FC.cast((FC.cast(h1.convert(VectorOperators.I2F, 0))).fma(FC.cast(FloatVector.broadcast(F, scale1)), acc1));
            offsets0 = Math.fma(scale0, sums0[b], offsets0);
            offsets1 = Math.fma(scale1, sums1[b], offsets1);
        }
        out[o0] = (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc0.convertShape(VectorOperators.F2D, D, 0))
                .add(acc0.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc0.reduceLanes(VectorOperators.ADD)) - 8 * offsets0;
        out[o1] = (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc1.convertShape(VectorOperators.F2D, D, 0))
                .add(acc1.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc1.reduceLanes(VectorOperators.ADD)) - 8 * offsets1;
    }

    static float q4_1xQ8_1(byte[] w, int at, PreparedActivation a, int n) {
        short[] v = a.values();
        float[] ds = a.blockScales();
        float[] sums = a.blockSums();
        // one accumulator (two alternated by the block's parity measured no faster, with a branch per block)
        FloatVector acc = FC.cast(FloatVector.zero(F));
        float minTerms = 0;
        for (int b = 0; b < n / Q4_1Format.BLOCK; b++) {
            int wb = at + Q4_1Format.BYTES * b;
            float scale = Half.toFloat(shortAt(w, wb + Q4_1Format.D)) * ds[b];
            minTerms = Math.fma(Half.toFloat(shortAt(w, wb + Q4_1Format.M)), sums[b], minTerms);
            ShortVector q = SC.cast(shorts(w, wb + Q4_1Format.QS));
            ShortVector lo = SC.cast(q.and((short) 15));
            ShortVector hi = SC.cast(q.lanewise(VectorOperators.ASHR, 4).and((short) 15));
            ShortVector p = SC.cast(lo.mul(values(v, 32 * b)).add(hi.mul(values(v, 32 * b + 16))));
            acc = FC.cast(toFloat(foldSmall(p)).fma(FC.cast(FloatVector.broadcast(F, scale)), acc));
        }
        return (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc.convertShape(VectorOperators.F2D, D, 0))
                .add(acc.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD)) + minTerms;
    }

    /** {@link #q4_1xQ8_1} for two rows, the activation loaded once: each row's result bit for bit the one-row one. */
    static void q4_1xQ8_1TwoRows(byte[] w, int at0, int at1, PreparedActivation a, int n, float[] out, int o) {
        short[] v = a.values();
        float[] ds = a.blockScales();
        float[] sums = a.blockSums();
        FloatVector acc0 = FC.cast(FloatVector.zero(F));
        FloatVector acc1 = FC.cast(FloatVector.zero(F));
        float minTerms0 = 0;
        float minTerms1 = 0;
        for (int b = 0; b < n / Q4_1Format.BLOCK; b++) {
            int w0 = at0 + Q4_1Format.BYTES * b;
            int w1 = at1 + Q4_1Format.BYTES * b;
            float da = ds[b];
            float sum = sums[b];
            float scale0 = Half.toFloat(shortAt(w, w0 + Q4_1Format.D)) * da;
            float scale1 = Half.toFloat(shortAt(w, w1 + Q4_1Format.D)) * da;
            minTerms0 = Math.fma(Half.toFloat(shortAt(w, w0 + Q4_1Format.M)), sum, minTerms0);
            minTerms1 = Math.fma(Half.toFloat(shortAt(w, w1 + Q4_1Format.M)), sum, minTerms1);
            ShortVector va = SC.cast(ShortVector.fromArray(S, v, 32 * b));
            ShortVector vb = SC.cast(ShortVector.fromArray(S, v, 32 * b + 16));
            // the helpers written out (see q4_0xQ8_0Pair)
            ShortVector q0 = SC.cast(B128C.cast(ByteVector.fromArray(B128, w, w0 + Q4_1Format.QS))
                    .convertShape(VectorOperators.B2S, S, 0));
            ShortVector q1 = SC.cast(B128C.cast(ByteVector.fromArray(B128, w, w1 + Q4_1Format.QS))
                    .convertShape(VectorOperators.B2S, S, 0));
            IntVector x0 = IC.cast(q0.and((short) 15).mul(va)
                    .add(q0.lanewise(VectorOperators.ASHR, 4).and((short) 15).mul(vb)).reinterpretAsInts());
            IntVector x1 = IC.cast(q1.and((short) 15).mul(va)
                    .add(q1.lanewise(VectorOperators.ASHR, 4).and((short) 15).mul(vb)).reinterpretAsInts());
            acc0 = FC.cast((FC.cast(x0.add(x0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0))).fma(FC.cast(FloatVector.broadcast(F, scale0)), acc0));
            acc1 = FC.cast((FC.cast(IC.cast(x1.add(x1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0))).fma(FC.cast(FloatVector.broadcast(F, scale1)), acc1));
        }
        out[o] = (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc0.convertShape(VectorOperators.F2D, D, 0))
                .add(acc0.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc0.reduceLanes(VectorOperators.ADD)) + minTerms0;
        out[o + 1] = (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc1.convertShape(VectorOperators.F2D, D, 0))
                .add(acc1.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc1.reduceLanes(VectorOperators.ADD)) + minTerms1;
    }

    static float q8_0xQ8_0(byte[] w, int at, PreparedActivation a, int n) {
        if (a.symmetricValues()) {
            return q8_0xQ8_0Symmetric(w, at, a, n);
        }
        short[] v = a.values();
        float[] ds = a.blockScales();
        FloatVector acc = FC.cast(FloatVector.zero(F));
        for (int b = 0; b < n / Q8_0Format.BLOCK; b++) {
            int wb = at + Q8_0Format.BYTES * b;
            float scale = Half.toFloat(shortAt(w, wb + Q8_0Format.D)) * ds[b];
            // int8 × int8 fits 16 bits (|−128·−128| = 2^14); two of them may not, so fold each product vector
            IntVector s = IC.cast(fold(shorts(w, wb + Q8_0Format.QS).mul(values(v, 32 * b)))
                    .add(fold(shorts(w, wb + Q8_0Format.QS + 16).mul(values(v, 32 * b + 16)))));
            acc = FC.cast(toFloat(s).fma(FC.cast(FloatVector.broadcast(F, scale)), acc));
        }
        return (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc.convertShape(VectorOperators.F2D, D, 0))
                .add(acc.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD));
    }

    /**
     * Q8_0 when no activation value is −128: any weight byte times such a value is at most 128·127 in magnitude,
     * so the two halves' products add in 16 bits and only their sum is widened. Two blocks per step.
     */
    static float q8_0xQ8_0Symmetric(byte[] w, int at, PreparedActivation a, int n) {
        // One block per step: two per step made C2 box the vectors (46.9 ms against 10.6 ms per 4096x14336 product).
        short[] v = a.values();
        float[] ds = a.blockScales();
        FloatVector acc = FC.cast(FloatVector.zero(F));
        for (int b = 0; b < n / Q8_0Format.BLOCK; b++) {
            int wb = at + Q8_0Format.BYTES * b;
            float scale = Half.toFloat(shortAt(w, wb + Q8_0Format.D)) * ds[b];
            ShortVector p = SC.cast(shorts(w, wb + Q8_0Format.QS).mul(values(v, 32 * b))
                    .add(shorts(w, wb + Q8_0Format.QS + 16).mul(values(v, 32 * b + 16))));
            acc = FC.cast(toFloat(fold(p)).fma(FC.cast(FloatVector.broadcast(F, scale)), acc));
        }
        return (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc.convertShape(VectorOperators.F2D, D, 0))
                .add(acc.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD));
    }

    /**
     * {@link #q8_0xQ8_0} for two rows, the activation loaded once: each row's result bit for bit the one-row one (an
     * activation with a −128 goes row by row).
     */
    static void q8_0xQ8_0TwoRows(byte[] w, int at0, int at1, PreparedActivation a, int n, float[] out, int o) {
        if (!a.symmetricValues()) {
            out[o] = q8_0xQ8_0(w, at0, a, n);
            out[o + 1] = q8_0xQ8_0(w, at1, a, n);
            return;
        }
        short[] v = a.values();
        float[] ds = a.blockScales();
        FloatVector acc0 = FC.cast(FloatVector.zero(F));
        FloatVector acc1 = FC.cast(FloatVector.zero(F));
        for (int b = 0; b < n / Q8_0Format.BLOCK; b++) {
            int w0 = at0 + Q8_0Format.BYTES * b;
            int w1 = at1 + Q8_0Format.BYTES * b;
            float da = ds[b];
            float scale0 = Half.toFloat(shortAt(w, w0 + Q8_0Format.D)) * da;
            float scale1 = Half.toFloat(shortAt(w, w1 + Q8_0Format.D)) * da;
            ShortVector va = SC.cast(ShortVector.fromArray(S, v, 32 * b));
            ShortVector vb = SC.cast(ShortVector.fromArray(S, v, 32 * b + 16));
            // the helpers written out (see q4_0xQ8_0Pair)
            IntVector x0 = IC.cast((SC.cast(B128C.cast(ByteVector.fromArray(B128, w, w0 + Q8_0Format.QS))
                    .convertShape(VectorOperators.B2S, S, 0))).mul(va)
                    .add((SC.cast(B128C.cast(ByteVector.fromArray(B128, w, w0 + Q8_0Format.QS + 16))
                            .convertShape(VectorOperators.B2S, S, 0))).mul(vb)).reinterpretAsInts());
            IntVector x1 = IC.cast((SC.cast(B128C.cast(ByteVector.fromArray(B128, w, w1 + Q8_0Format.QS))
                    .convertShape(VectorOperators.B2S, S, 0))).mul(va)
                    .add((SC.cast(B128C.cast(ByteVector.fromArray(B128, w, w1 + Q8_0Format.QS + 16))
                            .convertShape(VectorOperators.B2S, S, 0))).mul(vb)).reinterpretAsInts());
            acc0 = FC.cast((FC.cast(x0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(x0.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0)))
                    .fma(FC.cast(FloatVector.broadcast(F, scale0)), acc0));
            acc1 = FC.cast((FC.cast(x1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(x1.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0)))
                    .fma(FC.cast(FloatVector.broadcast(F, scale1)), acc1));
        }
        out[o] = (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc0.convertShape(VectorOperators.F2D, D, 0))
                .add(acc0.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc0.reduceLanes(VectorOperators.ADD));
        out[o + 1] = (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc1.convertShape(VectorOperators.F2D, D, 0))
                .add(acc1.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc1.reduceLanes(VectorOperators.ADD));
    }

    /** {@link #q8_0xQ8_0Symmetric} for two vectors, each block's quants loaded and widened once: the same results. */
    static void q8_0xQ8_0SymmetricPair(byte[] w, int at, PreparedActivation a0, PreparedActivation a1, int n,
            float[] out, int o0, int o1) {
        short[] v0 = a0.values();
        short[] v1 = a1.values();
        float[] ds0 = a0.blockScales();
        float[] ds1 = a1.blockScales();
        FloatVector acc0 = FC.cast(FloatVector.zero(F));
        FloatVector acc1 = FC.cast(FloatVector.zero(F));
        for (int b = 0; b < n / Q8_0Format.BLOCK; b++) {
            int wb = at + Q8_0Format.BYTES * b;
            float d = Half.toFloat(shortAt(w, wb + Q8_0Format.D));
            // the helpers written out (see q4_0xQ8_0Pair)
            ShortVector x = SC.cast(B128C.cast(ByteVector.fromArray(B128, w, wb + Q8_0Format.QS))
                    .convertShape(VectorOperators.B2S, S, 0));
            ShortVector y = SC.cast(B128C.cast(ByteVector.fromArray(B128, w, wb + Q8_0Format.QS + 16))
                    .convertShape(VectorOperators.B2S, S, 0));
            ShortVector p0 = SC.cast(x.mul(SC.cast(ShortVector.fromArray(S, v0, 32 * b)))
                    .add(y.mul(SC.cast(ShortVector.fromArray(S, v0, 32 * b + 16)))));
            ShortVector p1 = SC.cast(x.mul(SC.cast(ShortVector.fromArray(S, v1, 32 * b)))
                    .add(y.mul(SC.cast(ShortVector.fromArray(S, v1, 32 * b + 16)))));
            IntVector x0 = IC.cast(p0.reinterpretAsInts());
            IntVector x1 = IC.cast(p1.reinterpretAsInts());
            IntVector f0 = IC.cast(x0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(x0.lanewise(VectorOperators.ASHR, 16)));
            IntVector f1 = IC.cast(x1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(x1.lanewise(VectorOperators.ASHR, 16)));
            acc0 = FC.cast((FC.cast(f0.convert(VectorOperators.I2F, 0)))
                    .fma(FC.cast(FloatVector.broadcast(F, d * ds0[b])), acc0));
            acc1 = FC.cast((FC.cast(f1.convert(VectorOperators.I2F, 0)))
                    .fma(FC.cast(FloatVector.broadcast(F, d * ds1[b])), acc1));
        }
        out[o0] = (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc0.convertShape(VectorOperators.F2D, D, 0))
                .add(acc0.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc0.reduceLanes(VectorOperators.ADD));
        out[o1] = (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc1.convertShape(VectorOperators.F2D, D, 0))
                .add(acc1.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc1.reduceLanes(VectorOperators.ADD));
    }

    // The k-quant kernels keep every vector operation in the method itself: C2 refuses to inline a large helper
    // (or one deep in the Vector API's own call chain), and a vector crossing a call that is not inlined is boxed.

    /**
     * Each sub-block's exact integer lane sums go to float at once, times their own scale d·sc (two accumulators, one
     * for the low-nibble and one for the high-nibble sub-blocks): an int accumulator carried across the quarters was
     * boxed by C2 (an IntVector allocated per quarter).
     */
    static float q4_KxQ8_K(byte[] w, int at, PreparedActivation a, int n) {
        short[] v = a.values();
        float[] ds = a.blockScales();
        int[] sub = a.subBlockSums();
        FloatVector acc0 = FC.cast(FloatVector.zero(F));
        FloatVector acc1 = FC.cast(FloatVector.zero(F));
        float minTerms = 0;
        for (int b = 0; b < n / 256; b++) {
            int wb = at + Q4_KFormat.BYTES * b;
            float da = ds[b];
            float d = Half.toFloat(shortAt(w, wb + Q4_KFormat.D)) * da;
            float dmin = Half.toFloat(shortAt(w, wb + Q4_KFormat.DMIN)) * da;
            // the twelve packed bytes to eight 6-bit scales and eight 6-bit mins, one per byte of two longs
            int u0 = (int) INT_LE.get(w, wb + Q4_KFormat.SCALES);
            int u1 = (int) INT_LE.get(w, wb + Q4_KFormat.SCALES + 4);
            int u2 = (int) INT_LE.get(w, wb + Q4_KFormat.SCALES + 8);
            long scales = (u0 & 0x3f3f3f3fL)
                    | (long) ((u2 & 0x0f0f0f0f) | (((u0 >>> 6) & 0x03030303) << 4)) << 32;
            long minima = (u1 & 0x3f3f3f3fL)
                    | (long) (((u2 >>> 4) & 0x0f0f0f0f) | (((u1 >>> 6) & 0x03030303) << 4)) << 32;
            int mins = 0;
            for (int j = 0; j < 8; j++) {
                mins += ((int) (minima >>> (8 * j)) & 0xff) * sub[8 * b + j];
            }
            for (int quarter = 0; quarter < 4; quarter++) {
                // 32 bytes of nibbles: 64 values, low nibbles one sub-block, high nibbles the next
                int qs = wb + Q4_KFormat.QS + 32 * quarter;
                int vi = 256 * b + 64 * quarter;
                // (ZERO_EXTEND_B2S would save the masks of the high nibbles, but Java 17 rejects it at run time)
                ShortVector q0 = SC.cast(B128C.cast(ByteVector.fromArray(B128, w, qs)).convertShape(VectorOperators.B2S, S, 0));
                ShortVector q1 = SC.cast(B128C.cast(ByteVector.fromArray(B128, w, qs + 16))
                        .convertShape(VectorOperators.B2S, S, 0));
                // 4-bit × int8 ≤ 1920: four products per lane pair still fit 16 bits (foldSmall, written out)
                IntVector lo = IC.cast(q0.and((short) 15).mul(SC.cast(ShortVector.fromArray(S, v, vi)))
                        .add(q1.and((short) 15).mul(SC.cast(ShortVector.fromArray(S, v, vi + 16)))).reinterpretAsInts());
                IntVector hi = IC.cast(q0.lanewise(VectorOperators.ASHR, 4).and((short) 15)
                        .mul(SC.cast(ShortVector.fromArray(S, v, vi + 32)))
                        .add(q1.lanewise(VectorOperators.ASHR, 4).and((short) 15)
                                .mul(SC.cast(ShortVector.fromArray(S, v, vi + 48)))).reinterpretAsInts());
                int pair = (int) (scales >>> (16 * quarter));
                acc0 = FC.cast((FC.cast(lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0))).fma(FC.cast(FloatVector.broadcast(F, d * (pair & 0xff))), acc0));
                acc1 = FC.cast((FC.cast(hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0))).fma(FC.cast(FloatVector.broadcast(F, d * ((pair >>> 8) & 0xff))), acc1));
            }
            minTerms = Math.fma(dmin, mins, minTerms);
        }
        return (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc0.add(acc1).convertShape(VectorOperators.F2D, D, 0))
                .add(acc0.add(acc1).convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc0.add(acc1).reduceLanes(VectorOperators.ADD)) - minTerms;
    }

    static float q6_KxQ8_K(byte[] w, int at, PreparedActivation a, int n) {
        short[] v = a.values();
        float[] ds = a.blockScales();
        FloatVector acc = FC.cast(FloatVector.zero(F));
        for (int b = 0; b < n / 256; b++) {
            int wb = at + Q6_KFormat.BYTES * b;
            float d = Half.toFloat(shortAt(w, wb + Q6_KFormat.D)) * ds[b];
            IntVector block = IC.cast(IntVector.zero(I));
            for (int group = 0; group < 4; group++) {
                // 16 positions l of one half: values l, l+32, l+64, l+96 (low bits from ql[l] and ql[l+32], two
                // high bits each from qh[l]); each group of 16 has its own int8 scale (at is, is+2, is+4, is+6)
                int half = group >> 1;
                int g = 16 * (group & 1);
                int ql = wb + Q6_KFormat.QL + 64 * half + g;
                int is = wb + Q6_KFormat.SCALES + 8 * half + (group & 1);
                int vi = 256 * b + 128 * half + g;
                ShortVector lo = SC.cast(B128C.cast(ByteVector.fromArray(B128, w, ql)).convertShape(VectorOperators.B2S, S, 0));
                ShortVector hi = SC.cast(B128C.cast(ByteVector.fromArray(B128, w, ql + 32))
                        .convertShape(VectorOperators.B2S, S, 0));
                ShortVector h = SC.cast(B128C.cast(ByteVector.fromArray(B128, w, wb + Q6_KFormat.QH + 32 * half + g))
                        .convertShape(VectorOperators.B2S, S, 0));
                // 6-bit × int8 ≤ 4096 fits 16 bits; the int8 scale does not, so it multiplies 32-bit lanes (widened in
                // place: a helper here is past C2's inlining depth, and its vectors would be boxed)
                ShortVector p1 = SC.cast(lo.and((short) 15).or(h.lanewise(VectorOperators.LSHL, 4).and((short) 48))
                        .sub((short) 32).mul(SC.cast(ShortVector.fromArray(S, v, vi))));
                ShortVector p2 = SC.cast(hi.and((short) 15).or(h.lanewise(VectorOperators.LSHL, 2).and((short) 48))
                        .sub((short) 32).mul(SC.cast(ShortVector.fromArray(S, v, vi + 32))));
                ShortVector p3 = SC.cast(lo.lanewise(VectorOperators.ASHR, 4).and((short) 15).or(h.and((short) 48))
                        .sub((short) 32).mul(SC.cast(ShortVector.fromArray(S, v, vi + 64))));
                ShortVector p4 = SC.cast(hi.lanewise(VectorOperators.ASHR, 4).and((short) 15)
                        .or(h.lanewise(VectorOperators.ASHR, 2).and((short) 48)).sub((short) 32)
                        .mul(SC.cast(ShortVector.fromArray(S, v, vi + 96))));
                // adjacent lanes paired inside each int lane (see foldSmall: two products ≤ 32·128 fit 16 bits)
                IntVector x1 = IC.cast(p1.reinterpretAsInts());
                IntVector x2 = IC.cast(p2.reinterpretAsInts());
                IntVector x3 = IC.cast(p3.reinterpretAsInts());
                IntVector x4 = IC.cast(p4.reinterpretAsInts());
                block = IC.cast(block
                        .add(IC.cast(x1.add(x1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)).mul(w[is]))
                        .add(IC.cast(x2.add(x2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16))
                                .mul(w[is + 2]))
                        .add(IC.cast(x3.add(x3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16))
                                .mul(w[is + 4]))
                        .add(IC.cast(x4.add(x4.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16))
                                .mul(w[is + 6])));
            }
            acc = FC.cast((FC.cast(block.convert(VectorOperators.I2F, 0))).fma(FC.cast(FloatVector.broadcast(F, d)), acc));
        }
        return (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc.convertShape(VectorOperators.F2D, D, 0))
                .add(acc.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD));
    }


    // ---- float weights (and F16/BF16 in ggml mode, whose activation is already rounded) ----

    /**
     * {@code sum} (the accumulator's lanes, reduced by the caller) plus the tail elements [from, n) of the row. It takes
     * a float, not the vector: where C2 does not inline this method (the two-row kernels are past its budget) a vector
     * argument would be boxed, an allocation per call.
     */
    private static float finish(float sum, byte[] w, int at, float[] x, int from, int n, GgmlType type) {
        float s = sum;
        for (int i = from; i < n; i++) {
            float wi = switch (type) {
                case F32 -> Float.intBitsToFloat((w[at + 4 * i] & 0xff) | (w[at + 4 * i + 1] & 0xff) << 8
                        | (w[at + 4 * i + 2] & 0xff) << 16 | w[at + 4 * i + 3] << 24);
                case F16 -> Half.toFloat(shortAt(w, at + 2 * i));
                default -> org.popsolutions.spanker.ggml.quant.BFloat16.toFloat(shortAt(w, at + 2 * i));
            };
            s = Math.fma(wi, x[i], s);
        }
        return s;
    }

    /** Four independent accumulators of eight lanes: one FMA's latency no longer bounds the loop. */
    static float f32xF32(byte[] w, int at, float[] x, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 32 <= n; i += 32) {
            acc0 = ByteVector.fromArray(B256, w, at + 4 * i).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, i), acc0);
            acc1 = ByteVector.fromArray(B256, w, at + 4 * i + 32).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, i + 8), acc1);
            acc2 = ByteVector.fromArray(B256, w, at + 4 * i + 64).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, i + 16), acc2);
            acc3 = ByteVector.fromArray(B256, w, at + 4 * i + 96).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, i + 24), acc3);
        }
        for (; i + 8 <= n; i += 8) {
            acc0 = ByteVector.fromArray(B256, w, at + 4 * i).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, i), acc0);
        }
        return finish((SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc0.add(acc1).add(acc2.add(acc3)).convertShape(VectorOperators.F2D, D, 0))
                .add(acc0.add(acc1).add(acc2.add(acc3)).convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD)), w, at, x, i, n,
                GgmlType.F32);
    }

    /** Eight IEEE binary16 values at {@code w[at]} decoded exactly (as {@link Half#toFloat}). */
    static FloatVector halves(byte[] w, int at) {
        IntVector h = (IntVector) ByteVector.fromArray(B128, w, at).reinterpretAsShorts()
                .convertShape(VectorOperators.S2I, I, 0);
        IntVector magnitude = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
        // exponent rebias by an exact multiplication: right for normal and subnormal halves alike
        IntVector finite = magnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = h.and(0x7c00).compare(VectorOperators.EQ, 0x7c00);
        IntVector bits = finite.blend(magnitude.or(0x70000000), special);
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /**
     * Eight binary16 values decoded as if none were an infinity or NaN (exponent 31), in fewer operations than
     * {@link #halves}: the sign lands in place by an arithmetic shift of the half moved to the top.
     */
    static FloatVector finiteHalves(byte[] w, int at) {
        IntVector top = ((IntVector) ByteVector.fromArray(B128, w, at).reinterpretAsShorts()
                .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                .lanewise(VectorOperators.ASHR, 3);
        return top.and(0x8fffe000).reinterpretAsFloats().mul(0x1p112f);
    }

    /**
     * The common case decodes with {@link #finiteHalves} and watches for exponent 31; a row that has an infinity
     * or NaN is done again with the exact decode (ggml F16 weights practically never have one). Two accumulators.
     */
    static float f16xF32(byte[] w, int at, float[] x, int n) {
        FloatVector acc0 = FloatVector.zero(WF);
        FloatVector acc1 = FloatVector.zero(WF);
        IntVector exponents = IntVector.zero(WI);
        int i = 0;
        for (; i + 2 * LANES <= n; i += 2 * LANES) {
            IntVector top0 = ((IntVector) ByteVector.fromArray(WB2, w, at + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3);
            IntVector top1 = ((IntVector) ByteVector.fromArray(WB2, w, at + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3);
            exponents = exponents.max(top0.and(0x0f800000)).max(top1.and(0x0f800000));
            acc0 = top0.and(0x8fffe000).reinterpretAsFloats().mul(0x1p112f).fma(FloatVector.fromArray(WF, x, i), acc0);
            acc1 = top1.and(0x8fffe000).reinterpretAsFloats().mul(0x1p112f)
                    .fma(FloatVector.fromArray(WF, x, i + LANES), acc1);
        }
        for (; i + LANES <= n; i += LANES) {
            IntVector top = ((IntVector) ByteVector.fromArray(WB2, w, at + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3);
            exponents = exponents.max(top.and(0x0f800000));
            acc0 = top.and(0x8fffe000).reinterpretAsFloats().mul(0x1p112f).fma(FloatVector.fromArray(WF, x, i), acc0);
        }
        if (exponents.reduceLanes(VectorOperators.MAX) == 0x0f800000) {
            return f16xF32Exact(w, at, x, n);
        }
        return finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc0.add(acc1).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc0.add(acc1).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc0.add(acc1).reduceLanes(VectorOperators.ADD)), w, at, x, i, n, GgmlType.F16);
    }

    /**
     * {@link #f16xF32} for two rows, each activation load serving both: each row's result bit for bit the one-row
     * one (a row with an infinity or NaN is done again alone, exactly).
     */
    static void f16xF32TwoRows(byte[] w, int at0, int at1, PreparedActivation a, int n, float[] out, int o) {
        float[] x = a.floats();
        FloatVector acc00 = FloatVector.zero(WF);
        FloatVector acc01 = FloatVector.zero(WF);
        FloatVector acc10 = FloatVector.zero(WF);
        FloatVector acc11 = FloatVector.zero(WF);
        IntVector exponents0 = IntVector.zero(WI);
        IntVector exponents1 = IntVector.zero(WI);
        int i = 0;
        for (; i + 2 * LANES <= n; i += 2 * LANES) {
            FloatVector xa = FloatVector.fromArray(WF, x, i);
            FloatVector xb = FloatVector.fromArray(WF, x, i + LANES);
            IntVector top00 = ((IntVector) ByteVector.fromArray(WB2, w, at0 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3);
            IntVector top01 = ((IntVector) ByteVector.fromArray(WB2, w, at0 + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3);
            IntVector top10 = ((IntVector) ByteVector.fromArray(WB2, w, at1 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3);
            IntVector top11 = ((IntVector) ByteVector.fromArray(WB2, w, at1 + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3);
            exponents0 = exponents0.max(top00.and(0x0f800000)).max(top01.and(0x0f800000));
            exponents1 = exponents1.max(top10.and(0x0f800000)).max(top11.and(0x0f800000));
            acc00 = top00.and(0x8fffe000).reinterpretAsFloats().mul(0x1p112f).fma(xa, acc00);
            acc01 = top01.and(0x8fffe000).reinterpretAsFloats().mul(0x1p112f).fma(xb, acc01);
            acc10 = top10.and(0x8fffe000).reinterpretAsFloats().mul(0x1p112f).fma(xa, acc10);
            acc11 = top11.and(0x8fffe000).reinterpretAsFloats().mul(0x1p112f).fma(xb, acc11);
        }
        for (; i + LANES <= n; i += LANES) {
            FloatVector xa = FloatVector.fromArray(WF, x, i);
            IntVector top0 = ((IntVector) ByteVector.fromArray(WB2, w, at0 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3);
            IntVector top1 = ((IntVector) ByteVector.fromArray(WB2, w, at1 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3);
            exponents0 = exponents0.max(top0.and(0x0f800000));
            exponents1 = exponents1.max(top1.and(0x0f800000));
            acc00 = top0.and(0x8fffe000).reinterpretAsFloats().mul(0x1p112f).fma(xa, acc00);
            acc10 = top1.and(0x8fffe000).reinterpretAsFloats().mul(0x1p112f).fma(xa, acc10);
        }
        out[o] = exponents0.reduceLanes(VectorOperators.MAX) == 0x0f800000 ? f16xF32Exact(w, at0, x, n)
                : finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc00.add(acc01).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc00.add(acc01).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc00.add(acc01).reduceLanes(VectorOperators.ADD)), w, at0, x, i, n, GgmlType.F16);
        out[o + 1] = exponents1.reduceLanes(VectorOperators.MAX) == 0x0f800000 ? f16xF32Exact(w, at1, x, n)
                : finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc10.add(acc11).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc10.add(acc11).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc10.add(acc11).reduceLanes(VectorOperators.ADD)), w, at1, x, i, n, GgmlType.F16);
    }

    /**
     * {@link #f16xF32} for four rows {@code rowBytes} apart, each activation load serving the four: each row's result
     * bit for bit the one-row one (a row with an infinity or NaN is done again alone, exactly). A product of F16
     * weights waits on their bytes from DRAM; four rows' streams side by side arrive faster than two (Java 25, one
     * thread, 117 MB: 5.5 against 7.4 ms). Fewer operations per weight than {@link #finiteHalves}: one shift of the
     * sign-extended half puts sign, exponent and mantissa in place (the mask clears the sign's other copies), and the
     * exponent's rebias (× 2^112) is in {@code scaled}, the activation times 2^112, computed once per call. Exact: an
     * F16-rounded activation times 2^112 stays finite (|x| ≤ 65504 < 2^16) and exact, every half decodes exactly to
     * its value times 2^-112 (subnormal halves to subnormal floats), and the FMA's product is exact, so each FMA
     * rounds the same sum as the one-row kernel's. Only for ggml mode's rounded activation: a float-mode activation
     * may overflow when scaled.
     */
    static void f16xF32FourRows(byte[] w, int at0, int rowBytes, float[] x, float[] scaled, int n, float[] out,
            int o) {
        int at1 = at0 + rowBytes;
        int at2 = at1 + rowBytes;
        int at3 = at2 + rowBytes;
        FloatVector acc00 = FloatVector.zero(WF);
        FloatVector acc01 = FloatVector.zero(WF);
        FloatVector acc10 = FloatVector.zero(WF);
        FloatVector acc11 = FloatVector.zero(WF);
        FloatVector acc20 = FloatVector.zero(WF);
        FloatVector acc21 = FloatVector.zero(WF);
        FloatVector acc30 = FloatVector.zero(WF);
        FloatVector acc31 = FloatVector.zero(WF);
        IntVector exponents0 = IntVector.zero(WI);
        IntVector exponents1 = IntVector.zero(WI);
        IntVector exponents2 = IntVector.zero(WI);
        IntVector exponents3 = IntVector.zero(WI);
        int i = 0;
        for (; i + 2 * LANES <= n; i += 2 * LANES) {
            FloatVector xa = FloatVector.fromArray(WF, scaled, i);
            FloatVector xb = FloatVector.fromArray(WF, scaled, i + LANES);
            IntVector top00 = ((IntVector) ByteVector.fromArray(WB2, w, at0 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 13);
            IntVector top01 = ((IntVector) ByteVector.fromArray(WB2, w, at0 + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 13);
            IntVector top10 = ((IntVector) ByteVector.fromArray(WB2, w, at1 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 13);
            IntVector top11 = ((IntVector) ByteVector.fromArray(WB2, w, at1 + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 13);
            IntVector top20 = ((IntVector) ByteVector.fromArray(WB2, w, at2 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 13);
            IntVector top21 = ((IntVector) ByteVector.fromArray(WB2, w, at2 + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 13);
            IntVector top30 = ((IntVector) ByteVector.fromArray(WB2, w, at3 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 13);
            IntVector top31 = ((IntVector) ByteVector.fromArray(WB2, w, at3 + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 13);
            exponents0 = exponents0.max(top00.and(0x0f800000)).max(top01.and(0x0f800000));
            exponents1 = exponents1.max(top10.and(0x0f800000)).max(top11.and(0x0f800000));
            exponents2 = exponents2.max(top20.and(0x0f800000)).max(top21.and(0x0f800000));
            exponents3 = exponents3.max(top30.and(0x0f800000)).max(top31.and(0x0f800000));
            acc00 = top00.and(0x8fffe000).reinterpretAsFloats().fma(xa, acc00);
            acc01 = top01.and(0x8fffe000).reinterpretAsFloats().fma(xb, acc01);
            acc10 = top10.and(0x8fffe000).reinterpretAsFloats().fma(xa, acc10);
            acc11 = top11.and(0x8fffe000).reinterpretAsFloats().fma(xb, acc11);
            acc20 = top20.and(0x8fffe000).reinterpretAsFloats().fma(xa, acc20);
            acc21 = top21.and(0x8fffe000).reinterpretAsFloats().fma(xb, acc21);
            acc30 = top30.and(0x8fffe000).reinterpretAsFloats().fma(xa, acc30);
            acc31 = top31.and(0x8fffe000).reinterpretAsFloats().fma(xb, acc31);
        }
        for (; i + LANES <= n; i += LANES) {
            FloatVector xa = FloatVector.fromArray(WF, scaled, i);
            IntVector top0 = ((IntVector) ByteVector.fromArray(WB2, w, at0 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 13);
            IntVector top1 = ((IntVector) ByteVector.fromArray(WB2, w, at1 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 13);
            IntVector top2 = ((IntVector) ByteVector.fromArray(WB2, w, at2 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 13);
            IntVector top3 = ((IntVector) ByteVector.fromArray(WB2, w, at3 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 13);
            exponents0 = exponents0.max(top0.and(0x0f800000));
            exponents1 = exponents1.max(top1.and(0x0f800000));
            exponents2 = exponents2.max(top2.and(0x0f800000));
            exponents3 = exponents3.max(top3.and(0x0f800000));
            acc00 = top0.and(0x8fffe000).reinterpretAsFloats().fma(xa, acc00);
            acc10 = top1.and(0x8fffe000).reinterpretAsFloats().fma(xa, acc10);
            acc20 = top2.and(0x8fffe000).reinterpretAsFloats().fma(xa, acc20);
            acc30 = top3.and(0x8fffe000).reinterpretAsFloats().fma(xa, acc30);
        }
        out[o] = exponents0.reduceLanes(VectorOperators.MAX) == 0x0f800000 ? f16xF32Exact(w, at0, x, n)
                : finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc00.add(acc01).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc00.add(acc01).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc00.add(acc01).reduceLanes(VectorOperators.ADD)), w, at0, x, i, n, GgmlType.F16);
        out[o + 1] = exponents1.reduceLanes(VectorOperators.MAX) == 0x0f800000 ? f16xF32Exact(w, at1, x, n)
                : finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc10.add(acc11).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc10.add(acc11).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc10.add(acc11).reduceLanes(VectorOperators.ADD)), w, at1, x, i, n, GgmlType.F16);
        out[o + 2] = exponents2.reduceLanes(VectorOperators.MAX) == 0x0f800000 ? f16xF32Exact(w, at2, x, n)
                : finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc20.add(acc21).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc20.add(acc21).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc20.add(acc21).reduceLanes(VectorOperators.ADD)), w, at2, x, i, n, GgmlType.F16);
        out[o + 3] = exponents3.reduceLanes(VectorOperators.MAX) == 0x0f800000 ? f16xF32Exact(w, at3, x, n)
                : finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc30.add(acc31).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc30.add(acc31).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc30.add(acc31).reduceLanes(VectorOperators.ADD)), w, at3, x, i, n, GgmlType.F16);
    }

    static float f16xF32Exact(byte[] w, int at, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        int end = n & ~7;
        for (int i = 0; i < end; i += 8) {
            acc = halves(w, at + 2 * i).fma(FloatVector.fromArray(F, x, i), acc);
        }
        return finish((SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc.convertShape(VectorOperators.F2D, D, 0))
                .add(acc.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD)), w, at, x, end, n, GgmlType.F16);
    }

    static float bf16xF32(byte[] w, int at, float[] x, int n) {
        FloatVector acc0 = FloatVector.zero(WF);
        FloatVector acc1 = FloatVector.zero(WF);
        int i = 0;
        for (; i + 2 * LANES <= n; i += 2 * LANES) {
            FloatVector w0 = ((IntVector) ByteVector.fromArray(WB2, w, at + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = ((IntVector) ByteVector.fromArray(WB2, w, at + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc0 = w0.fma(FloatVector.fromArray(WF, x, i), acc0);
            acc1 = w1.fma(FloatVector.fromArray(WF, x, i + LANES), acc1);
        }
        for (; i + LANES <= n; i += LANES) {
            FloatVector wv = ((IntVector) ByteVector.fromArray(WB2, w, at + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc0 = wv.fma(FloatVector.fromArray(WF, x, i), acc0);
        }
        return finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc0.add(acc1).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc0.add(acc1).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc0.add(acc1).reduceLanes(VectorOperators.ADD)), w, at, x, i, n, GgmlType.BF16);
    }

    /** {@link #bf16xF32} for two rows, each activation load serving both: bit for bit the one-row results. */
    static void bf16xF32TwoRows(byte[] w, int at0, int at1, PreparedActivation a, int n, float[] out, int o) {
        float[] x = a.floats();
        FloatVector acc00 = FloatVector.zero(WF);
        FloatVector acc01 = FloatVector.zero(WF);
        FloatVector acc10 = FloatVector.zero(WF);
        FloatVector acc11 = FloatVector.zero(WF);
        int i = 0;
        for (; i + 2 * LANES <= n; i += 2 * LANES) {
            FloatVector xa = FloatVector.fromArray(WF, x, i);
            FloatVector xb = FloatVector.fromArray(WF, x, i + LANES);
            acc00 = ((IntVector) ByteVector.fromArray(WB2, w, at0 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xa, acc00);
            acc01 = ((IntVector) ByteVector.fromArray(WB2, w, at0 + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xb, acc01);
            acc10 = ((IntVector) ByteVector.fromArray(WB2, w, at1 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xa, acc10);
            acc11 = ((IntVector) ByteVector.fromArray(WB2, w, at1 + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xb, acc11);
        }
        for (; i + LANES <= n; i += LANES) {
            FloatVector xa = FloatVector.fromArray(WF, x, i);
            acc00 = ((IntVector) ByteVector.fromArray(WB2, w, at0 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xa, acc00);
            acc10 = ((IntVector) ByteVector.fromArray(WB2, w, at1 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xa, acc10);
        }
        out[o] = finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc00.add(acc01).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc00.add(acc01).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc00.add(acc01).reduceLanes(VectorOperators.ADD)), w, at0, x, i, n, GgmlType.BF16);
        out[o + 1] = finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc10.add(acc11).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc10.add(acc11).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc10.add(acc11).reduceLanes(VectorOperators.ADD)), w, at1, x, i, n, GgmlType.BF16);
    }

    /**
     * {@link #bf16xF32} for four rows {@code rowBytes} apart, each activation load serving the four: bit for bit the
     * one-row results (four rows' weight streams side by side arrive faster from DRAM than two: Java 25, one thread,
     * 117 MB, 4.7 against 7.2 ms).
     */
    static void bf16xF32FourRows(byte[] w, int at0, int rowBytes, float[] x, int n, float[] out, int o) {
        int at1 = at0 + rowBytes;
        int at2 = at1 + rowBytes;
        int at3 = at2 + rowBytes;
        FloatVector acc00 = FloatVector.zero(WF);
        FloatVector acc01 = FloatVector.zero(WF);
        FloatVector acc10 = FloatVector.zero(WF);
        FloatVector acc11 = FloatVector.zero(WF);
        FloatVector acc20 = FloatVector.zero(WF);
        FloatVector acc21 = FloatVector.zero(WF);
        FloatVector acc30 = FloatVector.zero(WF);
        FloatVector acc31 = FloatVector.zero(WF);
        int i = 0;
        for (; i + 2 * LANES <= n; i += 2 * LANES) {
            FloatVector xa = FloatVector.fromArray(WF, x, i);
            FloatVector xb = FloatVector.fromArray(WF, x, i + LANES);
            acc00 = ((IntVector) ByteVector.fromArray(WB2, w, at0 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xa, acc00);
            acc01 = ((IntVector) ByteVector.fromArray(WB2, w, at0 + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xb, acc01);
            acc10 = ((IntVector) ByteVector.fromArray(WB2, w, at1 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xa, acc10);
            acc11 = ((IntVector) ByteVector.fromArray(WB2, w, at1 + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xb, acc11);
            acc20 = ((IntVector) ByteVector.fromArray(WB2, w, at2 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xa, acc20);
            acc21 = ((IntVector) ByteVector.fromArray(WB2, w, at2 + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xb, acc21);
            acc30 = ((IntVector) ByteVector.fromArray(WB2, w, at3 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xa, acc30);
            acc31 = ((IntVector) ByteVector.fromArray(WB2, w, at3 + 2 * i + 2 * LANES).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xb, acc31);
        }
        for (; i + LANES <= n; i += LANES) {
            FloatVector xa = FloatVector.fromArray(WF, x, i);
            acc00 = ((IntVector) ByteVector.fromArray(WB2, w, at0 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xa, acc00);
            acc10 = ((IntVector) ByteVector.fromArray(WB2, w, at1 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xa, acc10);
            acc20 = ((IntVector) ByteVector.fromArray(WB2, w, at2 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xa, acc20);
            acc30 = ((IntVector) ByteVector.fromArray(WB2, w, at3 + 2 * i).reinterpretAsShorts()
                    .convertShape(VectorOperators.S2I, WI, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xa, acc30);
        }
        out[o] = finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc00.add(acc01).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc00.add(acc01).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc00.add(acc01).reduceLanes(VectorOperators.ADD)), w, at0, x, i, n, GgmlType.BF16);
        out[o + 1] = finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc10.add(acc11).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc10.add(acc11).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc10.add(acc11).reduceLanes(VectorOperators.ADD)), w, at1, x, i, n, GgmlType.BF16);
        out[o + 2] = finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc20.add(acc21).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc20.add(acc21).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc20.add(acc21).reduceLanes(VectorOperators.ADD)), w, at2, x, i, n, GgmlType.BF16);
        out[o + 3] = finish((SUM_IN_DOUBLE ? (float) WD_CLASS.cast(WD_CLASS.cast(acc30.add(acc31).convertShape(VectorOperators.F2D, WD, 0))
                .add(acc30.add(acc31).convertShape(VectorOperators.F2D, WD, 1))).reduceLanes(VectorOperators.ADD)
                : acc30.add(acc31).reduceLanes(VectorOperators.ADD)), w, at3, x, i, n, GgmlType.BF16);
    }

    // ---- float mode: dequantized weight times the float32 activation ----

    private static FloatVector widen(ByteVector v) {
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0);
    }

    private static FloatVector widen(byte[] a, int i) {
        return widen(ByteVector.fromArray(B64, a, i));
    }

    private static ByteVector low(ByteVector v) {
        return v.and((byte) 0x0f);
    }

    private static ByteVector high(ByteVector v) {
        return v.lanewise(VectorOperators.LSHR, 4);
    }

    static float q4_0xF32(byte[] w, int at, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            int wb = at + Q4_0Format.BYTES * b;
            float d = Half.toFloat(shortAt(w, wb));
            ByteVector q0 = ByteVector.fromArray(B64, w, wb + Q4_0Format.QS);
            ByteVector q1 = ByteVector.fromArray(B64, w, wb + Q4_0Format.QS + 8);
            int xb = 32 * b;
            acc = widen(low(q0).sub((byte) 8)).mul(d).fma(FloatVector.fromArray(F, x, xb), acc);
            acc = widen(low(q1).sub((byte) 8)).mul(d).fma(FloatVector.fromArray(F, x, xb + 8), acc);
            acc = widen(high(q0).sub((byte) 8)).mul(d).fma(FloatVector.fromArray(F, x, xb + 16), acc);
            acc = widen(high(q1).sub((byte) 8)).mul(d).fma(FloatVector.fromArray(F, x, xb + 24), acc);
        }
        return (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc.convertShape(VectorOperators.F2D, D, 0))
                .add(acc.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD));
    }

    static float q4_1xF32(byte[] w, int at, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            int wb = at + Q4_1Format.BYTES * b;
            float d = Half.toFloat(shortAt(w, wb));
            float m = Half.toFloat(shortAt(w, wb + Q4_1Format.M));
            ByteVector q0 = ByteVector.fromArray(B64, w, wb + Q4_1Format.QS);
            ByteVector q1 = ByteVector.fromArray(B64, w, wb + Q4_1Format.QS + 8);
            int xb = 32 * b;
            acc = widen(low(q0)).mul(d).add(m).fma(FloatVector.fromArray(F, x, xb), acc);
            acc = widen(low(q1)).mul(d).add(m).fma(FloatVector.fromArray(F, x, xb + 8), acc);
            acc = widen(high(q0)).mul(d).add(m).fma(FloatVector.fromArray(F, x, xb + 16), acc);
            acc = widen(high(q1)).mul(d).add(m).fma(FloatVector.fromArray(F, x, xb + 24), acc);
        }
        return (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc.convertShape(VectorOperators.F2D, D, 0))
                .add(acc.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD));
    }

    static float q8_0xF32(byte[] w, int at, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            int wb = at + Q8_0Format.BYTES * b;
            float d = Half.toFloat(shortAt(w, wb));
            int xb = 32 * b;
            for (int g = 0; g < 32; g += 8) {
                acc = widen(w, wb + Q8_0Format.QS + g).mul(d).fma(FloatVector.fromArray(F, x, xb + g), acc);
            }
        }
        return (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc.convertShape(VectorOperators.F2D, D, 0))
                .add(acc.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD));
    }

    static float q4_KxF32(byte[] w, int at, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            int wb = at + Q4_KFormat.BYTES * b;
            float d = Half.toFloat(shortAt(w, wb));
            float dmin = Half.toFloat(shortAt(w, wb + Q4_KFormat.DMIN));
            for (int quarter = 0; quarter < 4; quarter++) {
                float d1 = d * q4kScale(w, wb + Q4_KFormat.SCALES, 2 * quarter);
                float m1 = dmin * q4kMin(w, wb + Q4_KFormat.SCALES, 2 * quarter);
                float d2 = d * q4kScale(w, wb + Q4_KFormat.SCALES, 2 * quarter + 1);
                float m2 = dmin * q4kMin(w, wb + Q4_KFormat.SCALES, 2 * quarter + 1);
                int qs = wb + Q4_KFormat.QS + 32 * quarter;
                int xq = 256 * b + 64 * quarter;
                for (int g = 0; g < 32; g += 8) {
                    acc = widen(low(ByteVector.fromArray(B64, w, qs + g))).mul(d1).sub(m1).fma(FloatVector.fromArray(F, x, xq + g), acc);
                }
                for (int g = 0; g < 32; g += 8) {
                    acc = widen(high(ByteVector.fromArray(B64, w, qs + g))).mul(d2).sub(m2).fma(FloatVector.fromArray(F, x, xq + 32 + g), acc);
                }
            }
        }
        return (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc.convertShape(VectorOperators.F2D, D, 0))
                .add(acc.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD));
    }

    static float q6_KxF32(byte[] w, int at, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            int wb = at + Q6_KFormat.BYTES * b;
            float d = Half.toFloat(shortAt(w, wb + Q6_KFormat.D));
            for (int half = 0; half < 2; half++) {
                int ql = wb + Q6_KFormat.QL + 64 * half;
                int qh = wb + Q6_KFormat.QH + 32 * half;
                int sc = wb + Q6_KFormat.SCALES + 8 * half;
                int xq = 256 * b + 128 * half;
                for (int k = 0; k < 4; k++) {
                    for (int g = 0; g < 32; g += 8) {
                        ByteVector qlBytes = ByteVector.fromArray(B64, w, ql + g + ((k & 1) << 5));
                        ByteVector lowBits = k < 2 ? low(qlBytes) : high(qlBytes);
                        ByteVector highBits = ByteVector.fromArray(B64, w, qh + g).lanewise(VectorOperators.LSHR, 2 * k)
                                .and((byte) 3).lanewise(VectorOperators.LSHL, 4);
                        float dsc = d * w[sc + g / 16 + 2 * k];
                        acc = widen(lowBits.or(highBits).sub((byte) 32)).mul(dsc).fma(FloatVector.fromArray(F, x, xq + 32 * k + g), acc);
                    }
                }
            }
        }
        return (SUM_IN_DOUBLE ? (float) D_CLASS.cast(D_CLASS.cast(acc.convertShape(VectorOperators.F2D, D, 0))
                .add(acc.convertShape(VectorOperators.F2D, D, 1))).reduceLanes(VectorOperators.ADD)
                : acc.reduceLanes(VectorOperators.ADD));
    }
}
