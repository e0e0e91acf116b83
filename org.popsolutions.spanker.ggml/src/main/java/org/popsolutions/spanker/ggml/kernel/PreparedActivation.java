package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.popsolutions.spanker.ggml.quant.BFloat16;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.Half;
import org.popsolutions.spanker.ggml.quant.Q8_0Format;
import org.popsolutions.spanker.ggml.quant.Q8_1Format;
import org.popsolutions.spanker.ggml.quant.Q8_KFormat;

/**
 * One activation vector made ready for rows of one weight type: either quantized bytes (ggml mode with a
 * block-quantized weight) or float32 values (float mode, or ggml mode with F32/F16/BF16 weights, where the
 * values are first rounded to the weight's precision as ggml does).
 */
public final class PreparedActivation {
    private final GgmlType weightType;
    private final DotMode mode;
    private final int length;
    private final float[] floats;
    private final byte[] quantized;
    /** The quantized values widened to 16 bits, element order (what the fast kernels multiply with). */
    private short[] values;
    /** Per activation block: its scale d as a float (fp16 for Q8_0/Q8_1, f32 for Q8_K). */
    private float[] blockScales;
    /** Q8_1 only: per block, the fp16 s = d·Σq as a float. */
    private float[] blockSums;
    /** Q8_K only: per block, eight sums of two consecutive bsums (one per 32-value sub-block). */
    private int[] subBlockSums;
    /**
     * Q8_K only: {@link #subBlockSums} times their block's scale d, as floats (what a repacked k-quant row's minimums
     * multiply: the rounding of d·sum is within the dot products' tolerance).
     */
    private float[] scaledSubBlockSums;
    /** Q8_0 companion only: per block of 32, the sum of its values (Q4_0's −8 offset, applied once per block). */
    private int[] blockValueSums;
    /**
     * No value is −128 (ggml's quantizers never produce it): then |weight · value| ≤ 128·127 and two fit 16 bits.
     * 0 = not looked at since the bytes changed (found on first use: only Q8_0 kernels ask), 1 = none, 2 = some.
     */
    private volatile int symmetricValues;
    /**
     * Whether {@link #values} and the per-block arrays describe the current bytes: they are made when a kernel first
     * asks for them (the pure-Java kernels do, native ones read the bytes), so a native product does not pay for them.
     */
    private volatile boolean indexed;
    /**
     * The 32-bit lanes per vector the transposed views below were made for ({@link PackedWeights}'s layouts), or 0
     * when they do not describe the current bytes.
     */
    private volatile int transposedLanes;
    /**
     * The values rearranged for {@link PackedWeights}' transposed groups: per group of L blocks (Q6_K: sub-blocks of
     * 16), product vector m holds in 16-bit lane s value (B/2)·(s &amp; 1) + m of block s / 2 (B values per block);
     * zeros after the last block.
     */
    private short[] transposedValues;
    /**
     * Per block of 32 (Q4_0, Q4_1, Q8_0) or per super-block (Q4_K, Q6_K): the activation's scale; zeros after the
     * last.
     */
    private float[] transposedScales;
    /**
     * Q4_0: per block, the sum of its values; Q4_1: per block, s; Q4_K: per 32-value sub-block, its sum times the
     * scale; Q8_0, Q6_K: unused. Zeros after the last.
     */
    private float[] transposedSums;
    /** Q6_K: per 16-value sub-block, 32 × the sum of its values (the −32 of every quant, taken off once). */
    private int[] transposedOffsets;
    /** Block-quantized bytes, which the kernels' views ({@link #values} and the per-block arrays) describe. */
    private final boolean indexable;
    /** The quantized bytes as a little-endian buffer, for the quantizers (null for float activations). */
    private final ByteBuffer quantizedBuffer;

    private PreparedActivation(GgmlType weightType, DotMode mode, int length, float[] floats, byte[] quantized) {
        this.weightType = weightType;
        this.mode = mode;
        this.length = length;
        this.floats = floats;
        this.quantized = quantized;
        this.quantizedBuffer = quantized == null ? null : le(quantized);
        boolean blockQuantized = WeightTraits.of(weightType).companion().isPresent();
        this.indexable = quantized != null && blockQuantized;
        if (!indexable) {
            symmetricValues = 2;
            return;
        }
        int blocks = length / block(weightType);
        if ((long) blocks * companionBytes(weightType) > quantized.length) {
            throw new IllegalArgumentException(blocks + " activation blocks need "
                    + (long) blocks * companionBytes(weightType) + " bytes, got " + quantized.length);
        }
    }

    /**
     * The kernels' views of the bytes, allocated on their first use: only the pure-Java kernels read them, and a
     * prompt pass's workspaces (64 vectors per product) would otherwise hold four times the bytes the native kernels
     * read.
     */
    private void allocateIndex() {
        boolean kQuant = kQuant(weightType);
        int blocks = length / block(weightType);
        blockScales = new float[blocks];
        blockSums = weightType == GgmlType.Q4_1 ? new float[blocks] : null;
        subBlockSums = kQuant ? new int[8 * blocks] : null;
        scaledSubBlockSums = kQuant ? new float[8 * blocks] : null;
        blockValueSums = kQuant || weightType == GgmlType.Q4_1 ? null : new int[blocks];
        values = new short[length];
    }

    private static boolean kQuant(GgmlType t) {
        return t == GgmlType.Q4_K || t == GgmlType.Q6_K;
    }

    private static int block(GgmlType t) {
        return kQuant(t) ? Q8_KFormat.BLOCK : 32;
    }

    /** Bytes of one companion-format block of the activation. */
    private static int companionBytes(GgmlType t) {
        return kQuant(t) ? Q8_KFormat.BYTES : t == GgmlType.Q4_1 ? Q8_1Format.BYTES : Q8_0Format.BYTES;
    }

    /** Bytes of a whole quantized activation of {@code length} values for {@code weightType}; 0 for float ones. */
    static int quantizedBytes(GgmlType weightType, DotMode mode, int length) {
        if (mode == DotMode.FLOAT || WeightTraits.of(weightType).companion().isEmpty()) {
            return 0;
        }
        return length / block(weightType) * companionBytes(weightType);
    }

    /** Whether no quantized value is −128 (scans the values of every block). */
    private boolean noMinimum() {
        int block = block(weightType);
        int blockBytes = companionBytes(weightType);
        int valuesAt = kQuant(weightType) ? Q8_KFormat.QS : weightType == GgmlType.Q4_1 ? 4 : 2;
        for (int b = 0; b < length / block; b++) {
            int at = b * blockBytes + valuesAt;
            for (int j = 0; j < block; j++) {
                if (quantized[at + j] == Byte.MIN_VALUE) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Makes the kernels' views of {@link #quantized} (widened values, scales, sums) if they are not current. */
    private void ensureIndexed() {
        if (!indexable || indexed) {
            return;
        }
        synchronized (this) {
            if (!indexed) {
                if (values == null) {
                    allocateIndex();
                }
                index();
                indexed = true;
            }
        }
    }

    private void index() {
        boolean kQuant = kQuant(weightType);
        int block = block(weightType);
        int blockBytes = companionBytes(weightType);
        int valuesAt = kQuant ? Q8_KFormat.QS : weightType == GgmlType.Q4_1 ? 4 : 2;
        int blocks = length / block;
        for (int b = 0; b < blocks; b++) {
            int at = b * blockBytes;
            int sum = 0;
            for (int j = 0; j < block; j++) {
                byte q = quantized[at + valuesAt + j];
                values[b * block + j] = q;
                sum += q;
            }
            if (blockValueSums != null) {
                blockValueSums[b] = sum;
            }
            if (kQuant) {
                blockScales[b] = ScalarKernels.floatAt(quantized, at);
                for (int j = 0; j < 8; j++) {
                    subBlockSums[8 * b + j] = ScalarKernels.shortAt(quantized, at + Q8_KFormat.BSUMS + 4 * j)
                            + ScalarKernels.shortAt(quantized, at + Q8_KFormat.BSUMS + 4 * j + 2);
                    scaledSubBlockSums[8 * b + j] = blockScales[b] * subBlockSums[8 * b + j];
                }
            } else {
                blockScales[b] = Half.toFloat(ScalarKernels.shortAt(quantized, at));
                if (blockSums != null) {
                    blockSums[b] = Half.toFloat(ScalarKernels.shortAt(quantized, at + 2));
                }
            }
        }
    }

    public static PreparedActivation prepare(GgmlType weightType, DotMode mode, float[] x, int offset, int length) {
        return workspace(weightType, mode, length).refill(x, offset);
    }

    /**
     * An activation of {@code length} values for rows of {@code weightType}, its arrays allocated once: fill it with
     * {@link #refill} for every new vector (a decode step allocates nothing). Until the first refill it holds zeros.
     */
    public static PreparedActivation workspace(GgmlType weightType, DotMode mode, int length) {
        Kernels.checkRow(weightType, length);
        int bytes = quantizedBytes(weightType, mode, length);
        return bytes == 0 ? new PreparedActivation(weightType, mode, length, new float[length], null)
                : new PreparedActivation(weightType, mode, length, null, new byte[bytes]);
    }

    /**
     * Prepares {@code x[offset .. offset + length)} in place of what this activation held, exactly as
     * {@link #prepare} would (same quantizer, same bytes), and returns it. Not for an activation kernels are
     * reading at the same time.
     */
    public PreparedActivation refill(float[] x, int offset) {
        if (offset < 0 || offset > x.length - length) {
            throw new IllegalArgumentException(length + " activation values at " + offset + " outside an array of "
                    + x.length);
        }
        if (quantized == null) {
            if (mode == DotMode.FLOAT || weightType == GgmlType.F32) {
                System.arraycopy(x, offset, floats, 0, length);
            } else if (weightType == GgmlType.F16) {
                for (int i = 0; i < length; i++) {
                    floats[i] = Half.toFloat(Half.fromFloat(x[offset + i]));
                }
            } else if (weightType == GgmlType.BF16) {
                for (int i = 0; i < length; i++) {
                    floats[i] = BFloat16.toFloat(BFloat16.fromFloat(x[offset + i]));
                }
            } else {
                throw new IllegalArgumentException("no dot product for weight type " + weightType);
            }
            return this;
        }
        // the weight type's companion format (its traits) says how the activation is quantized
        GgmlType companion = WeightTraits.of(weightType).companionOrNull();
        if (companion == null) {
            throw new IllegalArgumentException("no dot product for weight type " + weightType);
        }
        switch (companion) {
            case Q8_0 -> Q8_0.quantizeActivations(x, offset, quantizedBuffer, 0, length);
            case Q8_1 -> Q8_1.quantizeActivations(x, offset, quantizedBuffer, 0, length);
            case Q8_K -> Q8KLanes.BEST.quantize(x, offset, quantizedBuffer, length);
            default -> throw new IllegalArgumentException("no activation quantizer for " + companion);
        }
        indexed = false;
        transposedLanes = 0;
        symmetricValues = indexable ? 0 : 2;
        return this;
    }

    private static final Q8_0Format Q8_0 = new Q8_0Format();
    private static final Q8_1Format Q8_1 = new Q8_1Format();

    public static PreparedActivation prepare(GgmlType weightType, DotMode mode, float[] x) {
        return prepare(weightType, mode, x, 0, x.length);
    }

    /** Wraps activation bytes already in the companion format (e.g. a golden Q8_0 or Q8_K file). */
    public static PreparedActivation ofQuantized(GgmlType weightType, byte[] quantized, int length) {
        Kernels.checkRow(weightType, length);
        return new PreparedActivation(weightType, DotMode.GGML, length, null, quantized.clone());
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    public GgmlType weightType() {
        return weightType;
    }

    public DotMode mode() {
        return mode;
    }

    public int length() {
        return length;
    }

    /** Whether the kernels read {@link #quantized()} (else {@link #floats()}). */
    public boolean isQuantized() {
        return quantized != null;
    }

    /**
     * The float activation (float mode, or F32/F16/BF16 weights in ggml mode, already rounded to the weight's
     * precision), or null. The array itself, not a copy: kernel providers read it and must not change it.
     */
    public float[] floats() {
        return floats;
    }

    /**
     * The activation in its companion format's bytes (Q8_0, Q8_1 or Q8_K blocks, as ggml lays them out), or null.
     * The array itself, not a copy: kernel providers read it and must not change it.
     */
    public byte[] quantized() {
        return quantized;
    }

    /** Makes the transposed views for groups of {@code lanes} blocks if they are not current. */
    private void ensureTransposed(int lanes) {
        if (transposedLanes == lanes) {
            return;
        }
        ensureIndexed();
        synchronized (this) {
            if (transposedLanes != lanes) {
                transpose(lanes);
                transposedLanes = lanes;
            }
        }
    }

    private void transpose(int lanes) {
        boolean q6 = weightType == GgmlType.Q6_K;
        int block = q6 ? 16 : 32;
        int blocks = length / block;
        int padded = PackedWeights.paddedBlocks(weightType, length, lanes);
        int scales = kQuant(weightType) ? padded * block / 256 : padded;
        if (transposedValues == null || transposedValues.length != padded * block
                || transposedScales.length != scales) {
            transposedValues = new short[padded * block];
            transposedScales = new float[scales];
            transposedSums = q6 ? null : new float[padded];
            transposedOffsets = q6 ? new int[padded] : null;
        }
        int half = block / 2;
        for (int b = 0; b < blocks; b++) {
            int group = b / lanes * block * lanes;
            int k = b % lanes;
            int sum = 0;
            for (int e = 0; e < 2; e++) {
                for (int m = 0; m < half; m++) {
                    short v = values[b * block + half * e + m];
                    transposedValues[group + m * 2 * lanes + 2 * k + e] = v;
                    sum += v;
                }
            }
            switch (weightType) {
                case Q4_0 -> transposedSums[b] = sum;
                case Q4_1 -> transposedSums[b] = blockSums[b];
                case Q4_K -> transposedSums[b] = scaledSubBlockSums[b];
                case Q8_0 -> { } // no offset, no minimum
                default -> transposedOffsets[b] = 32 * sum;
            }
        }
        System.arraycopy(blockScales, 0, transposedScales, 0, blockScales.length);
    }

    /** Whether the transposed views for groups of {@code lanes} blocks describe the current bytes (tests). */
    boolean isTransposedFor(int lanes) {
        return transposedLanes == lanes;
    }

    short[] transposedValues(int lanes) {
        ensureTransposed(lanes);
        return transposedValues;
    }

    float[] transposedScales(int lanes) {
        ensureTransposed(lanes);
        return transposedScales;
    }

    float[] transposedSums(int lanes) {
        ensureTransposed(lanes);
        return transposedSums;
    }

    int[] transposedOffsets(int lanes) {
        ensureTransposed(lanes);
        return transposedOffsets;
    }

    short[] values() {
        ensureIndexed();
        return values;
    }

    float[] blockScales() {
        ensureIndexed();
        return blockScales;
    }

    float[] blockSums() {
        ensureIndexed();
        return blockSums;
    }

    int[] subBlockSums() {
        ensureIndexed();
        return subBlockSums;
    }

    float[] scaledSubBlockSums() {
        ensureIndexed();
        return scaledSubBlockSums;
    }

    int[] blockValueSums() {
        ensureIndexed();
        return blockValueSums;
    }

    /**
     * True when no quantized activation value is −128 (ggml's quantizers never produce it): products with any
     * int8 weight then fit sign-and-magnitude tricks and 16-bit pair sums.
     */
    public boolean symmetricValues() {
        int known = symmetricValues;
        if (known == 0) {
            known = noMinimum() ? 1 : 2;
            symmetricValues = known;
        }
        return known == 1;
    }
}
