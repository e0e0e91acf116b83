package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormat;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * The traits table: one row per weight type with a dot product, holding its block size and bytes, its codec,
 * the companion format its activation is quantized to in ggml mode, the reference dot products (which define
 * the result) and the fast pure-Java ones (filled in by the Vector API kernels when they load). The kernels
 * dispatch through this table; nothing else switches on the weight type.
 */
public final class WeightTraits {
    @FunctionalInterface
    interface ReferenceQuantized {
        float dot(ByteBuffer w, int at, byte[] activation, int n);
    }

    @FunctionalInterface
    interface ReferenceFloat {
        float dot(ByteBuffer w, int at, float[] x, int n);
    }

    @FunctionalInterface
    interface FastQuantized {
        float dot(byte[] w, int at, PreparedActivation a, int n);
    }

    @FunctionalInterface
    interface FastFloat {
        float dot(byte[] w, int at, float[] x, int n);
    }

    /**
     * Two rows (at {@code at0} and {@code at1}) against one activation: {@code out[o]} and {@code out[o + 1]}, each
     * with exactly the one-row kernel's operations (the same bits), the activation loaded once for both.
     */
    @FunctionalInterface
    interface FastTwoRows {
        void dot(byte[] w, int at0, int at1, PreparedActivation a, int n, float[] out, int o);
    }

    private static final Map<GgmlType, WeightTraits> TABLE = new EnumMap<>(GgmlType.class);

    static {
        add(GgmlType.F32, null, null, ScalarKernels::f32xF32);
        add(GgmlType.F16, null, null, ScalarKernels::f16xF32);
        add(GgmlType.BF16, null, null, ScalarKernels::bf16xF32);
        add(GgmlType.Q4_0, GgmlType.Q8_0, ScalarKernels::q4_0xQ8_0, ScalarKernels::q4_0xF32);
        add(GgmlType.Q4_1, GgmlType.Q8_1, ScalarKernels::q4_1xQ8_1, ScalarKernels::q4_1xF32);
        add(GgmlType.Q8_0, GgmlType.Q8_0, ScalarKernels::q8_0xQ8_0, ScalarKernels::q8_0xF32);
        add(GgmlType.Q4_K, GgmlType.Q8_K, ScalarKernels::q4_KxQ8_K, ScalarKernels::q4_KxF32);
        add(GgmlType.Q6_K, GgmlType.Q8_K, ScalarKernels::q6_KxQ8_K, ScalarKernels::q6_KxF32);
    }

    private final GgmlType type;
    private final GgmlType companion;
    private final QuantFormat codec;
    private final ReferenceQuantized referenceQuantized;
    private final ReferenceFloat referenceFloat;
    private volatile FastQuantized fastQuantized;
    private volatile FastFloat fastFloat;
    private volatile FastTwoRows fastTwoRowsQuantized;
    private volatile FastTwoRows fastTwoRowsFloat;

    private WeightTraits(GgmlType type, GgmlType companion, ReferenceQuantized referenceQuantized,
            ReferenceFloat referenceFloat) {
        this.type = type;
        this.companion = companion;
        this.codec = QuantFormats.of(type);
        this.referenceQuantized = referenceQuantized;
        this.referenceFloat = referenceFloat;
    }

    private static void add(GgmlType type, GgmlType companion, ReferenceQuantized quantized, ReferenceFloat floats) {
        TABLE.put(type, new WeightTraits(type, companion, quantized, floats));
    }

    public static Optional<WeightTraits> find(GgmlType type) {
        return Optional.ofNullable(TABLE.get(type));
    }

    /** @throws IllegalArgumentException when the type has no dot product */
    public static WeightTraits of(GgmlType type) {
        WeightTraits t = TABLE.get(type);
        if (t == null) {
            throw new IllegalArgumentException("no dot product for weight type " + type);
        }
        return t;
    }

    public GgmlType type() {
        return type;
    }

    /** Values per block. */
    public int blockSize() {
        return type.blockSize();
    }

    /** Bytes per block. */
    public int blockBytes() {
        return type.typeSize();
    }

    /** The type's bit-exact encoder and decoder. */
    public QuantFormat codec() {
        return codec;
    }

    /**
     * The format ggml's CPU backend quantizes the activation to for this weight type (Q8_0, Q8_1 or Q8_K); empty
     * for float weights, whose activation stays float (rounded to the weight's precision).
     */
    /** The companion format, or null for a float type: for the per-product path, which must not allocate. */
    GgmlType companionOrNull() {
        return companion;
    }

    public Optional<GgmlType> companion() {
        return Optional.ofNullable(companion);
    }

    /** The reference dot product: the definition of the result. */
    public float referenceDot(ByteBuffer w, int at, PreparedActivation a) {
        if (a.isQuantized()) {
            return referenceQuantized.dot(w, at, a.quantized(), a.length());
        }
        return referenceFloat.dot(w, at, a.floats(), a.length());
    }

    /** The fast pure-Java dot product of a row starting at {@code w[at]} (checked by the caller). */
    float fastDot(byte[] w, int at, PreparedActivation a) {
        if (a.isQuantized()) {
            return fastQuantized.dot(w, at, a, a.length());
        }
        return fastFloat.dot(w, at, a.floats(), a.length());
    }

    /**
     * The two-row kernel for this activation's kind (quantized or float), or null when the type has none: then
     * {@link #fastDot} row by row.
     */
    FastTwoRows fastTwoRows(PreparedActivation a) {
        return a.isQuantized() ? fastTwoRowsQuantized : fastTwoRowsFloat;
    }

    /** Called once by the Vector API kernels' class initializer, for the types that have two-row kernels. */
    static void installFastTwoRows(GgmlType type, FastTwoRows quantized, FastTwoRows floats) {
        WeightTraits t = of(type);
        t.fastTwoRowsQuantized = quantized;
        t.fastTwoRowsFloat = floats;
    }

    /** Called once by the Vector API kernels' class initializer. */
    static void installFast(GgmlType type, FastQuantized quantized, FastFloat floats) {
        WeightTraits t = of(type);
        t.fastQuantized = quantized;
        t.fastFloat = floats;
    }

    /** Whether the fast column is filled for every row (it is once the Vector API kernels have loaded). */
    static boolean fastInstalled() {
        return TABLE.values().stream().allMatch(t -> t.fastFloat != null
                && (t.companion == null || t.fastQuantized != null));
    }
}
