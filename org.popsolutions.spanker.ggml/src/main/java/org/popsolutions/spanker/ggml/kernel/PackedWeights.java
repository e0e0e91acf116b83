package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.Half;
import org.popsolutions.spanker.ggml.quant.Q4_0Format;
import org.popsolutions.spanker.ggml.quant.Q4_1Format;
import org.popsolutions.spanker.ggml.quant.Q4_KFormat;
import org.popsolutions.spanker.ggml.quant.Q6_KFormat;

/**
 * A weight matrix repacked once, when it is loaded, into the layout the portable Vector API kernels read fastest,
 * beside its ggml bytes (which every other provider, and the float mode, still read). The packed copy is extra
 * memory ({@link #packedBytes()}), held for the life of the weights.
 *
 * <p>Q4_K: per super-block of 256 values, 144 bytes and two floats. The nibbles of each 64-value quarter (128
 * bytes) are laid out so that one 256-bit load read as 16 shorts holds, in lane i, the nibbles of values i, 16 + i,
 * 32 + i and 48 + i of the quarter (bits 0, 4, 8, 12): four shifts and masks give four 16-value vectors, where
 * ggml's layout needs two sign-extending loads and four masks. Then the eight 6-bit scales and eight 6-bit minimums
 * decoded from ggml's twelve packed bytes, one byte each (16 bytes), and d, dmin as floats: the kernel turns a
 * super-block's scales and minimums into floats with two vector conversions and decodes nothing else. 152 bytes
 * against ggml's 144 (holding d·sc and dmin·m as 16 floats instead, 192 bytes, measured no faster, loaded; the
 * kernels stream the weights at close to this machine's one-thread DRAM bandwidth).
 *
 * <p>Q6_K: per super-block, its 256 quants as signed bytes q − 32 (sub-block j at bytes 16j..16j+15), its sixteen
 * int8 scales, and d as a float: a sub-block is one sign-extending load, where ggml's six bits take three loads
 * and a dozen shifts, masks and ors per 64 values (tried first in a 6-bit layout of two loads per 64 values: still
 * 1.1 instructions per weight against 0.7 here). 272 bytes and a float against ggml's 210 bytes.
 *
 * <p>Q4_1: the nibbles of each pair of blocks interleaved byte by byte (16 shorts: lane i holds values i and 16 + i
 * of both blocks, as Q4_K's quarters), a row's d as floats and then its m as floats: the m·s terms are one vector
 * dot product per row against the activation's block sums, out of the block loop. 24 bytes per block against
 * ggml's 20.
 *
 * <p>Q4_0: the nibbles as Q4_1's and a row's d as floats; Σ(q − 8)·a = Σq·a − 8·Σa as in the unpacked kernel, the
 * −8·d·Σa terms one vector dot product per row against the activation's block value sums. 20 bytes per block against
 * ggml's 18.
 *
 * <p>The products stay within the kernels' contract: each block's integer partials are exact, the floats may be
 * added in another order (|fast − reference| ≤ 1e-5 · Σ|w·a|); the ggml bytes themselves are not touched.
 */
public final class PackedWeights {
    /** Q4_K: bytes (128 of nibbles, 8 scales, 8 minimums) and floats (d, dmin) per super-block. */
    static final int Q4_K_BYTES = 144;
    static final int Q4_K_SCALES = 128;
    static final int Q4_K_MINS = 136;
    static final int Q4_K_FLOATS = 2;
    /** Q6_K: bytes (256 quants, sixteen int8 scales) and floats (d) per super-block. */
    static final int Q6_K_BYTES = 272;
    static final int Q6_K_SCALES = 256;
    static final int Q6_K_FLOATS = 1;
    /** Q4_1: bytes (16 of nibbles) and floats (d; m after the row's d) per block. */
    static final int Q4_1_BYTES = 16;
    static final int Q4_1_FLOATS = 2;
    /** Q4_0: bytes (16 of nibbles, as Q4_1's) and floats (d) per block. */
    static final int Q4_0_BYTES = 16;
    static final int Q4_0_FLOATS = 1;

    /** Rows of packed weights against one activation, as {@link Kernels#dotRows}. */
    @FunctionalInterface
    interface RowKernel {
        void dotRows(PackedWeights w, int from, int rows, PreparedActivation a, float[] out, int outAt);
    }

    /** The portable Vector API kernels' packed kernel, installed when they load (else null: the ggml bytes are read). */
    private static volatile RowKernel kernel;

    static void installKernel(RowKernel k) {
        kernel = k;
    }

    /**
     * The packed kernel when {@code kernels} (or, for the ranked selector, the provider ranked highest now) is the
     * portable Vector API provider and the activation is quantized (ggml mode); else null.
     */
    static RowKernel kernelFor(Kernels kernels, PreparedActivation a) {
        RowKernel k = kernel;
        return k != null && a.isQuantized() && readBy(kernels) ? k : null;
    }

    /** Whether {@code kernels} (or, for the ranked selector, the provider ranked highest now) reads packed weights. */
    static boolean readBy(Kernels kernels) {
        Kernels provider = kernels == KernelSelector.RANKED ? KernelProviders.current() : kernels;
        return kernel != null && provider == KernelSelector.PORTABLE;
    }

    private final GgmlType type;
    private final ByteBuffer ggml;
    private final int rows;
    private final int cols;
    private final byte[] bytes;
    private final float[] floats;

    private PackedWeights(GgmlType type, ByteBuffer ggml, int rows, int cols, byte[] bytes, float[] floats) {
        this.type = type;
        this.ggml = ggml;
        this.rows = rows;
        this.cols = cols;
        this.bytes = bytes;
        this.floats = floats;
    }

    /**
     * Whether {@link #pack} has a layout for this type (Q4_K, Q6_K; Q4_1 and Q4_0 with an even number of blocks per
     * row).
     */
    public static boolean packs(GgmlType type) {
        return type == GgmlType.Q4_K || type == GgmlType.Q6_K || type == GgmlType.Q4_1 || type == GgmlType.Q4_0;
    }

    /**
     * The rows×cols matrix at the start of {@code weights} (ggml bytes) repacked for the portable kernels; empty when
     * the type has no packed layout, or the packed copy would not fit one Java array.
     *
     * @throws IllegalArgumentException when the buffer is too small for the shape
     */
    public static Optional<PackedWeights> pack(GgmlType type, ByteBuffer weights, int rows, int cols) {
        Kernels.checkRow(type, cols);
        long rowBytes = type.bytesFor(cols);
        if (rows < 0 || rowBytes * rows > weights.capacity()) {
            throw new IllegalArgumentException(rows + " rows of " + cols + " " + type + " need " + rowBytes * rows
                    + " bytes, the buffer has " + weights.capacity());
        }
        boolean nibblePairs = type == GgmlType.Q4_1 || type == GgmlType.Q4_0;
        if (!packs(type) || (nibblePairs && cols / Q4_1Format.BLOCK % 2 != 0)) {
            return Optional.empty();
        }
        if (nibblePairs) {
            if ((long) rows * cols / 2 > Integer.MAX_VALUE - 16) {
                return Optional.empty();
            }
            return Optional.of(packNibblePairs(type, weights.duplicate().order(ByteOrder.LITTLE_ENDIAN), weights, rows,
                    cols));
        }
        long blocks = (long) rows * (cols / Q4_KFormat.BLOCK);
        if (blocks * Math.max(Q4_K_BYTES, Q6_K_BYTES) > Integer.MAX_VALUE - 16) {
            return Optional.empty();
        }
        ByteBuffer w = weights.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (type == GgmlType.Q6_K) {
            return Optional.of(packQ6_K(w, weights, rows, cols, (int) blocks));
        }
        byte[] bytes = new byte[(int) blocks * Q4_K_BYTES];
        float[] scales = new float[(int) blocks * Q4_K_FLOATS];
        byte[] packedScales = new byte[12];
        for (int sb = 0; sb < blocks; sb++) {
            int wb = sb * Q4_KFormat.BYTES;
            scales[Q4_K_FLOATS * sb] = Half.toFloat(w.getShort(wb + Q4_KFormat.D));
            scales[Q4_K_FLOATS * sb + 1] = Half.toFloat(w.getShort(wb + Q4_KFormat.DMIN));
            w.get(wb + Q4_KFormat.SCALES, packedScales);
            for (int j = 0; j < 8; j++) {
                bytes[Q4_K_BYTES * sb + Q4_K_SCALES + j] = (byte) VectorKernels.q4kScale(packedScales, 0, j);
                bytes[Q4_K_BYTES * sb + Q4_K_MINS + j] = (byte) VectorKernels.q4kMin(packedScales, 0, j);
            }
            for (int quarter = 0; quarter < 4; quarter++) {
                // ggml: byte l of the quarter holds value l (low nibble) and value 32 + l (high nibble)
                int qs = wb + Q4_KFormat.QS + 32 * quarter;
                int out = Q4_K_BYTES * sb + 32 * quarter;
                for (int i = 0; i < 16; i++) {
                    int a = w.get(qs + i) & 0xff;
                    int b = w.get(qs + 16 + i) & 0xff;
                    bytes[out + 2 * i] = (byte) ((a & 15) | (b & 15) << 4);
                    bytes[out + 2 * i + 1] = (byte) ((a >>> 4) | (b & 0xf0));
                }
            }
        }
        return Optional.of(new PackedWeights(type, weights, rows, cols, bytes, scales));
    }

    /** Q4_1 and Q4_0: each pair of blocks' nibbles interleaved byte by byte; d (and Q4_1's m after the row's d). */
    private static PackedWeights packNibblePairs(GgmlType type, ByteBuffer w, ByteBuffer weights, int rows, int cols) {
        boolean q4_1 = type == GgmlType.Q4_1;
        int blocks = cols / Q4_1Format.BLOCK;
        int blockBytes = q4_1 ? Q4_1Format.BYTES : Q4_0Format.BYTES;
        int qs = q4_1 ? Q4_1Format.QS : Q4_0Format.QS;
        int rowFloats = blocks * (q4_1 ? Q4_1_FLOATS : Q4_0_FLOATS);
        byte[] bytes = new byte[rows * blocks * Q4_1_BYTES];
        float[] floats = new float[rows * rowFloats];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < blocks; b++) {
                int wb = (r * blocks + b) * blockBytes;
                floats[r * rowFloats + b] = Half.toFloat(w.getShort(wb + (q4_1 ? Q4_1Format.D : Q4_0Format.D)));
                if (q4_1) {
                    floats[r * rowFloats + blocks + b] = Half.toFloat(w.getShort(wb + Q4_1Format.M));
                }
                // ggml's qs[i] holds values i and 16 + i: byte i of the block goes to byte 2i (even block) or 2i + 1
                int pair = (r * blocks + (b & ~1)) * Q4_1_BYTES;
                for (int i = 0; i < 16; i++) {
                    bytes[pair + 2 * i + (b & 1)] = w.get(wb + qs + i);
                }
            }
        }
        return new PackedWeights(type, weights, rows, cols, bytes, floats);
    }

    private static PackedWeights packQ6_K(ByteBuffer w, ByteBuffer weights, int rows, int cols, int blocks) {
        byte[] bytes = new byte[blocks * Q6_K_BYTES];
        float[] d = new float[blocks * Q6_K_FLOATS];
        int[] q = new int[Q6_KFormat.BLOCK];
        for (int sb = 0; sb < blocks; sb++) {
            int wb = sb * Q6_KFormat.BYTES;
            d[sb] = Half.toFloat(w.getShort(wb + Q6_KFormat.D));
            // ggml: value 128·half + 32·k + l has its low bits in ql[64·half + 32·(k & 1) + l] (the high nibble for
            // k ≥ 2) and its high bits at 2k in qh[32·half + l]
            for (int half = 0; half < 2; half++) {
                for (int k = 0; k < 4; k++) {
                    for (int l = 0; l < 32; l++) {
                        int low = w.get(wb + Q6_KFormat.QL + 64 * half + 32 * (k & 1) + l) & 0xff;
                        int high = w.get(wb + Q6_KFormat.QH + 32 * half + l) & 0xff;
                        q[128 * half + 32 * k + l] = (k < 2 ? low & 15 : low >>> 4) | ((high >>> (2 * k)) & 3) << 4;
                    }
                }
            }
            int out = sb * Q6_K_BYTES;
            for (int i = 0; i < Q6_KFormat.BLOCK; i++) {
                bytes[out + i] = (byte) (q[i] - 32);
            }
            for (int j = 0; j < 16; j++) {
                bytes[out + Q6_K_SCALES + j] = w.get(wb + Q6_KFormat.SCALES + j);
            }
        }
        return new PackedWeights(GgmlType.Q6_K, weights, rows, cols, bytes, d);
    }

    public GgmlType type() {
        return type;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** The ggml bytes this was packed from (what providers other than the portable one read). */
    public ByteBuffer ggml() {
        return ggml;
    }

    /** Memory the packed copy holds beside the ggml bytes. */
    public long packedBytes() {
        return bytes.length + 4L * floats.length;
    }

    byte[] bytes() {
        return bytes;
    }

    float[] floats() {
        return floats;
    }

    /** Packed bytes per row. */
    int rowBytes() {
        return switch (type) {
            case Q4_1, Q4_0 -> cols / Q4_1Format.BLOCK * Q4_1_BYTES;
            case Q6_K -> cols / Q4_KFormat.BLOCK * Q6_K_BYTES;
            default -> cols / Q4_KFormat.BLOCK * Q4_K_BYTES;
        };
    }

    /** Packed floats per row. */
    int rowFloats() {
        return switch (type) {
            case Q4_1 -> cols / Q4_1Format.BLOCK * Q4_1_FLOATS;
            case Q4_0 -> cols / Q4_0Format.BLOCK * Q4_0_FLOATS;
            case Q6_K -> cols / Q4_KFormat.BLOCK * Q6_K_FLOATS;
            default -> cols / Q4_KFormat.BLOCK * Q4_K_FLOATS;
        };
    }
}
