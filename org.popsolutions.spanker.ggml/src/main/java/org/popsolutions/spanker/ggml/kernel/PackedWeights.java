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
import org.popsolutions.spanker.ggml.quant.Q8_0Format;

/**
 * A weight matrix repacked once, when it is loaded, into the layout the portable Vector API kernels read fastest,
 * beside its ggml bytes (which every other provider, and the float mode, still read). The packed copy is extra
 * memory ({@link #packedBytes()}), held for the life of the weights.
 *
 * <p>Every layout is <em>transposed by blocks</em>: a group of L consecutive blocks (L = the kernels' 32-bit lanes
 * per vector, {@link #lanes()}: 8 on 256-bit vectors, 16 on 512-bit ones) is stored so that 32-bit lane k of every
 * vector the kernel loads holds values of block k only. The kernel multiplies and adds 16-bit lanes for a whole
 * group, folds the pairs into 32-bit lanes once, and then holds each block's exact integer sum in its own lane: one
 * conversion and one FMA against L consecutive block scales finish L blocks, where a block-by-block layout spends a
 * fold, a conversion, a broadcast and an FMA per block (and, for the k-quants, per sub-block). The activation is
 * rearranged to match once per product ({@link PreparedActivation}). A row's last group is padded with zero blocks
 * (scale 0).
 *
 * <p>Q4_0, Q4_1 and Q4_K (blocks, or sub-blocks, of 32 values): per group 16·L bytes of nibbles, 16-bit lane s of
 * load t (of four) holding in its nibbles j = 0..3 the values 16·(s &amp; 1) + 4t + j of block s / 2. Then Q4_0's L
 * halves d, Q4_1's L halves d and L halves m (decoded exactly by the kernel, L at a time); Q4_K's eight 6-bit scales
 * and eight minimums of each super-block, one byte each (L scales, then L minimums), its d and dmin as floats. Bytes
 * per 256 values: Q4_0 144 and Q4_1 160 (as ggml), Q4_K 152 (ggml 144). (Q4_0's and Q4_1's d and m as floats, 11–20 %
 * more bytes, were slower once the kernel had become memory-bound.)
 *
 * <p>Q8_0: per group 32·L bytes of quants, byte 2k + e of load m (of sixteen, 2·L bytes each) holding value 16·e + m of
 * block k, then the L halves d: 34 bytes per block, as ggml.
 *
 * <p>Every layout is stored in <em>column panels</em> ({@link #panelGroups()}): a panel holds every row's groups of at
 * most {@link #PANEL_VALUES} columns, row after row, and the panels follow one another.
 *
 * <p>Q6_K (sub-blocks of 16 values): per group 8·L bytes of low nibbles (two loads, value 8·(s &amp; 1) + 4t + j of
 * sub-block s / 2), 4·L bytes of the two high bits (value 8·(s &amp; 1) + k at bits 2k of lane s) and the L int8
 * scales; d as a float. 212 bytes per 256 values against ggml's 210: the quants stay 6.5 bits (session 9's int8
 * layout read 276).
 *
 * <p>The products stay within the kernels' contract: each block's integer partials are exact, the floats may be
 * added in another order (|fast − reference| ≤ 1e-5 · Σ|w·a|); the ggml bytes themselves are not touched.
 */
public final class PackedWeights {
    /** Rows of packed weights against one activation, as {@link Kernels#dotRows}. */
    @FunctionalInterface
    interface RowKernel {
        void dotRows(PackedWeights w, int from, int rows, PreparedActivation a, float[] out, int outAt);
    }

    /** The portable Vector API kernels' packed kernel, installed when they load (else null: the ggml bytes are read). */
    private static volatile RowKernel kernel;
    /** The installed kernel's 32-bit lanes per vector: blocks per group of the layouts packed from now on. */
    private static volatile int kernelLanes = 8;

    static void installKernel(RowKernel k, int lanes) {
        kernelLanes = lanes;
        kernel = k;
    }

    /**
     * The packed kernel when {@code kernels} (or, for the ranked selector, the provider ranked highest now) is the
     * portable Vector API provider and the activation is quantized (ggml mode); else null. When there is one, the
     * activation's transposed views are made here, on the calling thread, before the rows are handed out: made by
     * the first chunk, they held every other thread of the product on the activation's lock (a contended monitor
     * parks, and a parked helper wakes tens of microseconds later).
     */
    static RowKernel kernelFor(Kernels kernels, PreparedActivation a) {
        RowKernel k = kernel;
        if (k == null || !a.isQuantized() || !readBy(kernels)) {
            return null;
        }
        a.transposedValues(kernelLanes);
        return k;
    }

    /** Whether {@code kernels} (or, for the ranked selector, the provider ranked highest now) reads packed weights. */
    static boolean readBy(Kernels kernels) {
        return kernel != null && KernelSelector.resolve(kernels) == KernelSelector.PORTABLE;
    }

    /**
     * Activation values per column panel (see {@link #panelGroups()}): at most this many, 8 KiB of the kernels' 16-bit
     * values, so that a panel's activation stays in the core's first-level cache beside the weights streaming through
     * it. Measured on Java 25, 512-bit, one thread, 4096×14336 streamed from DRAM (loaded, CPU time, alternated in
     * one JVM): whole rows (28 KiB of activation) Q4_0 2.2–3.0 ms and Q4_K 2.8–3.1 ms; panels of 3584 values 1.3 and
     * 1.3–1.4 ms; of 7168 values Q4_0 2.1 ms; of 1024, 1.6 ms (the per-panel finishing adds up).
     */
    static final int PANEL_VALUES = 4096;

    private final GgmlType type;
    private final ByteBuffer ggml;
    private final int rows;
    private final int cols;
    private final int lanes;
    private final byte[] bytes;
    private final float[] floats;
    /** Groups per row, every column panel's groups but the last's, and the panels. */
    private final int groups;
    private final int panelGroups;
    private final int panels;

    private PackedWeights(GgmlType type, ByteBuffer ggml, int rows, int cols, int lanes, int panelGroups,
            byte[] bytes, float[] floats) {
        this.type = type;
        this.ggml = ggml;
        this.rows = rows;
        this.cols = cols;
        this.lanes = lanes;
        this.bytes = bytes;
        this.floats = floats;
        this.groups = paddedBlocks(type, cols, lanes) / lanes;
        this.panelGroups = panelGroups;
        this.panels = (groups + panelGroups - 1) / panelGroups;
    }

    /** Whether {@link #pack} has a layout for this type (Q4_0, Q4_1, Q8_0, Q4_K, Q6_K). */
    public static boolean packs(GgmlType type) {
        return type == GgmlType.Q4_K || type == GgmlType.Q6_K || type == GgmlType.Q4_1 || type == GgmlType.Q4_0
                || type == GgmlType.Q8_0;
    }

    /** Blocks of 32 (Q6_K: 16) values in a row, rounded up to whole groups of {@code lanes}. */
    static int paddedBlocks(GgmlType type, int cols, int lanes) {
        int blocks = cols / (type == GgmlType.Q6_K ? 16 : 32);
        return (blocks + lanes - 1) / lanes * lanes;
    }

    /**
     * The rows×cols matrix at the start of {@code weights} (ggml bytes) repacked for the portable kernels; empty when
     * the type has no packed layout, or the packed copy would not fit one Java array.
     *
     * @throws IllegalArgumentException when the buffer is too small for the shape
     */
    public static Optional<PackedWeights> pack(GgmlType type, ByteBuffer weights, int rows, int cols) {
        return pack(type, weights, rows, cols, PANEL_VALUES);
    }

    /** {@link #pack(GgmlType, ByteBuffer, int, int)} with panels of at most {@code panelValues} (tests: many panels). */
    static Optional<PackedWeights> pack(GgmlType type, ByteBuffer weights, int rows, int cols, int panelValues) {
        Kernels.checkRow(type, cols);
        long rowBytes = type.bytesFor(cols);
        if (rows < 0 || rowBytes * rows > weights.capacity()) {
            throw new IllegalArgumentException(rows + " rows of " + cols + " " + type + " need " + rowBytes * rows
                    + " bytes, the buffer has " + weights.capacity());
        }
        if (!packs(type)) {
            return Optional.empty();
        }
        // the portable kernels, when they load, install their kernel and say how many lanes the layout is for
        Kernels portable = KernelSelector.PORTABLE;
        int lanes = portable == KernelSelector.SCALAR ? 8 : kernelLanes;
        int padded = paddedBlocks(type, cols, lanes);
        int panelGroups = panelGroups(type, padded / lanes, lanes, panelValues);
        long packedRowBytes = (long) padded * bytesPerBlock(type);
        if (packedRowBytes * rows > Integer.MAX_VALUE - 16 || (long) floatsPerRow(type, padded) * rows
                > Integer.MAX_VALUE - 16) {
            return Optional.empty();
        }
        ByteBuffer w = weights.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        byte[] bytes = new byte[(int) packedRowBytes * rows];
        float[] floats = new float[floatsPerRow(type, padded) * rows];
        int[] q = new int[256];
        byte[] packedScales = new byte[12];
        int ggmlBlock = type == GgmlType.Q6_K || type == GgmlType.Q4_K ? 256 : 32;
        int perGgmlBlock = ggmlBlock / (type == GgmlType.Q6_K ? 16 : 32);
        Layout at = new Layout(type, rows, padded / lanes, panelGroups, lanes);
        for (int r = 0; r < rows; r++) {
            for (int gb = 0; gb < cols / ggmlBlock; gb++) {
                int wb = (int) (r * rowBytes) + gb * type.typeSize();
                // the ggml block's values as unsigned quants (q − 8 for Q4_0 is applied through the block sums)
                switch (type) {
                    case Q8_0 -> {
                        for (int i = 0; i < 32; i++) {
                            q[i] = w.get(wb + Q8_0Format.QS + i);
                        }
                        int dAt = at.group(r, gb / lanes) + 32 * lanes + 2 * (gb % lanes);
                        short d = w.getShort(wb + Q8_0Format.D);
                        bytes[dAt] = (byte) d;
                        bytes[dAt + 1] = (byte) (d >> 8);
                    }
                    case Q4_0, Q4_1 -> {
                        int qs = wb + (type == GgmlType.Q4_0 ? Q4_0Format.QS : Q4_1Format.QS);
                        for (int i = 0; i < 16; i++) {
                            int b = w.get(qs + i) & 0xff;
                            q[i] = b & 15;
                            q[16 + i] = b >>> 4;
                        }
                        // d (and Q4_1's m) stay halves, after the group's nibbles: the packed row reads as many
                        // bytes as ggml's
                        int dAt = at.group(r, gb / lanes) + 16 * lanes + 2 * (gb % lanes);
                        short d = w.getShort(wb + (type == GgmlType.Q4_0 ? Q4_0Format.D : Q4_1Format.D));
                        bytes[dAt] = (byte) d;
                        bytes[dAt + 1] = (byte) (d >> 8);
                        if (type == GgmlType.Q4_1) {
                            short m = w.getShort(wb + Q4_1Format.M);
                            bytes[dAt + 2 * lanes] = (byte) m;
                            bytes[dAt + 2 * lanes + 1] = (byte) (m >> 8);
                        }
                    }
                    case Q4_K -> {
                        for (int quarter = 0; quarter < 4; quarter++) {
                            for (int l = 0; l < 32; l++) {
                                int b = w.get(wb + Q4_KFormat.QS + 32 * quarter + l) & 0xff;
                                q[64 * quarter + l] = b & 15;
                                q[64 * quarter + 32 + l] = b >>> 4;
                            }
                        }
                        int fat = at.superBlockFloats(r, gb);
                        floats[fat] = Half.toFloat(w.getShort(wb + Q4_KFormat.D));
                        floats[fat + 1] = Half.toFloat(w.getShort(wb + Q4_KFormat.DMIN));
                        w.get(wb + Q4_KFormat.SCALES, packedScales);
                        for (int j = 0; j < 8; j++) {
                            int sub = 8 * gb + j;
                            int sAt = at.group(r, sub / lanes) + 16 * lanes + sub % lanes;
                            bytes[sAt] = (byte) q4kScale(packedScales, j);
                            bytes[sAt + lanes] = (byte) q4kMin(packedScales, j);
                        }
                    }
                    default -> { // Q6_K: value 128·half + 32·k + l: low bits in ql[64·half + 32·(k & 1) + l] (the
                        // high nibble for k ≥ 2), high bits at 2k in qh[32·half + l]
                        for (int half = 0; half < 2; half++) {
                            for (int k = 0; k < 4; k++) {
                                for (int l = 0; l < 32; l++) {
                                    int low = w.get(wb + Q6_KFormat.QL + 64 * half + 32 * (k & 1) + l) & 0xff;
                                    int high = w.get(wb + Q6_KFormat.QH + 32 * half + l) & 0xff;
                                    q[128 * half + 32 * k + l] = (k < 2 ? low & 15 : low >>> 4)
                                            | ((high >>> (2 * k)) & 3) << 4;
                                }
                            }
                        }
                        floats[at.superBlockFloats(r, gb)] = Half.toFloat(w.getShort(wb + Q6_KFormat.D));
                        for (int j = 0; j < 16; j++) {
                            int sub = 16 * gb + j;
                            bytes[at.group(r, sub / lanes) + 12 * lanes + sub % lanes] =
                                    w.get(wb + Q6_KFormat.SCALES + j);
                        }
                    }
                }
                for (int j = 0; j < perGgmlBlock; j++) {
                    int block = perGgmlBlock * gb + j;
                    if (type == GgmlType.Q6_K) {
                        placeSixBits(bytes, at.group(r, block / lanes), lanes, block % lanes, q, 16 * j);
                    } else if (type == GgmlType.Q8_0) {
                        placeBytes(bytes, at.group(r, block / lanes), lanes, block % lanes, q);
                    } else {
                        placeNibbles(bytes, at.group(r, block / lanes), lanes, block % lanes, q, 32 * j);
                    }
                }
            }
        }
        return Optional.of(new PackedWeights(type, weights, rows, cols, lanes, panelGroups, bytes, floats));
    }

    /**
     * Groups per column panel: as many as hold at most {@code panelValues} activation values, in whole super-blocks
     * (a Q6_K super-block is two groups of 8 lanes), the panels of a row then made as even as that allows.
     */
    static int panelGroups(GgmlType type, int groups, int lanes, int panelValues) {
        int unit = Math.max(1, superBlockBlocks(type) / lanes);
        int most = Math.max(1, panelValues / (blockValues(type) * lanes) / unit);
        int units = groups / unit;
        int panels = Math.max(1, (units + most - 1) / most);
        return (units + panels - 1) / panels * unit;
    }

    /**
     * Where the packed layout puts a group and a super-block's floats: column panel by column panel, each panel
     * holding every row's groups of its columns back to back (so a thread reads its rows of a panel as one stream).
     */
    private static final class Layout {
        private final int rows;
        private final int groups;
        private final int panelGroups;
        private final int groupBytes;
        /** Super-blocks per group of lanes, times floats per super-block: the floats of a group (may be 1/2). */
        private final int floatsPerSuperBlock;
        private final int blocksPerSuperBlock;
        private final int lanes;

        Layout(GgmlType type, int rows, int groups, int panelGroups, int lanes) {
            this.rows = rows;
            this.groups = groups;
            this.panelGroups = panelGroups;
            this.groupBytes = bytesPerBlock(type) * lanes;
            this.floatsPerSuperBlock = type == GgmlType.Q4_K ? 2 : 1;
            this.blocksPerSuperBlock = superBlockBlocks(type);
            this.lanes = lanes;
        }

        /** Byte offset of row r's group g. */
        int group(int r, int g) {
            int k = g / panelGroups;
            int first = k * panelGroups;
            int inPanel = Math.min(panelGroups, groups - first);
            return (first * rows + r * inPanel + g - first) * groupBytes;
        }

        /** Float offset of row r's super-block sb (Q4_K: d, dmin; Q6_K: d). */
        int superBlockFloats(int r, int sb) {
            int k = sb * blocksPerSuperBlock / lanes / panelGroups;
            int first = k * panelGroups * lanes / blocksPerSuperBlock;
            int inPanel = Math.min(panelGroups, groups - k * panelGroups) * lanes / blocksPerSuperBlock;
            return (first * rows + r * inPanel + sb - first) * floatsPerSuperBlock;
        }
    }

    /** Blocks (Q6_K: sub-blocks) a super-block holds; 1 for the types without. */
    private static int superBlockBlocks(GgmlType type) {
        return switch (type) {
            case Q4_K -> 8;
            case Q6_K -> 16;
            default -> 1;
        };
    }

    private static int blockValues(GgmlType type) {
        return type == GgmlType.Q6_K ? 16 : 32;
    }

    /** Block k of a group: value 16·e + 4t + j (of {@code q[from..]}) to nibble j of 16-bit lane 2k + e of load t. */
    private static void placeNibbles(byte[] bytes, int groupAt, int lanes, int k, int[] q, int from) {
        for (int e = 0; e < 2; e++) {
            for (int t = 0; t < 4; t++) {
                int at = groupAt + 4 * lanes * t + 2 * (2 * k + e);
                bytes[at] = (byte) (q[from + 16 * e + 4 * t] | q[from + 16 * e + 4 * t + 1] << 4);
                bytes[at + 1] = (byte) (q[from + 16 * e + 4 * t + 2] | q[from + 16 * e + 4 * t + 3] << 4);
            }
        }
    }

    /** Block k of a Q8_0 group: value 16·e + m (of {@code q}) to byte 2k + e of load m (of sixteen). */
    private static void placeBytes(byte[] bytes, int groupAt, int lanes, int k, int[] q) {
        for (int e = 0; e < 2; e++) {
            for (int m = 0; m < 16; m++) {
                bytes[groupAt + 2 * lanes * m + 2 * k + e] = (byte) q[16 * e + m];
            }
        }
    }

    /**
     * Sub-block k of a Q6_K group: value 8·e + 4t + j (of {@code q[from..]}, 6 bits) to nibble j of 16-bit lane
     * 2k + e of load t (its low four bits) and to bits 2·(4t + j) of lane 2k + e of the third load (its high two).
     */
    private static void placeSixBits(byte[] bytes, int groupAt, int lanes, int k, int[] q, int from) {
        for (int e = 0; e < 2; e++) {
            int lane = 2 * (2 * k + e);
            int high = 0;
            for (int t = 0; t < 2; t++) {
                int v = from + 8 * e + 4 * t;
                int at = groupAt + 4 * lanes * t + lane;
                bytes[at] = (byte) ((q[v] & 15) | (q[v + 1] & 15) << 4);
                bytes[at + 1] = (byte) ((q[v + 2] & 15) | (q[v + 3] & 15) << 4);
                for (int j = 0; j < 4; j++) {
                    high |= (q[v + j] >>> 4) << (2 * (4 * t + j));
                }
            }
            bytes[groupAt + 8 * lanes + lane] = (byte) high;
            bytes[groupAt + 8 * lanes + lane + 1] = (byte) (high >>> 8);
        }
    }

    /** 6-bit scale of Q4_K sub-block j from its 12 packed bytes (ggml's get_scale_min_k4). */
    static int q4kScale(byte[] w, int j) {
        return j < 4 ? w[j] & 63 : (w[j + 4] & 0xf) | (((w[j - 4] & 0xff) >>> 6) << 4);
    }

    /** 6-bit min of Q4_K sub-block j. */
    static int q4kMin(byte[] w, int j) {
        return j < 4 ? w[j + 4] & 63 : ((w[j + 4] & 0xff) >>> 4) | (((w[j] & 0xff) >>> 6) << 4);
    }

    /** Packed bytes per block of 32 values (Q6_K: per sub-block of 16). */
    private static int bytesPerBlock(GgmlType type) {
        return switch (type) {
            case Q4_K, Q4_0 -> 18;
            case Q6_K -> 13;
            case Q8_0 -> 34;
            default -> 20; // Q4_1
        };
    }

    private static int floatsPerRow(GgmlType type, int paddedBlocks) {
        return switch (type) {
            case Q4_0, Q4_1, Q8_0 -> 0;
            case Q4_K -> paddedBlocks / 4; // d and dmin per 8 blocks
            default -> paddedBlocks / 16; // Q6_K: d per 16 sub-blocks
        };
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

    /** The kernels' 32-bit lanes per vector this was packed for (blocks per group). */
    int lanes() {
        return lanes;
    }

    /** Groups of {@link #lanes()} blocks per row. */
    int groups() {
        return groups;
    }

    /**
     * Groups per column panel (the last panel may have fewer): the layout holds panel after panel, each every row's
     * groups of the panel's columns, so a product takes a panel at a time over its rows with that panel's activation in
     * the first-level cache ({@link #PANEL_VALUES}).
     */
    int panelGroups() {
        return panelGroups;
    }

    /** Packed bytes per group of {@link #lanes()} blocks. */
    int groupBytes() {
        return bytesPerBlock(type) * lanes;
    }

    /** Column panels per row. */
    int panels() {
        return panels;
    }

    /** First group of panel k. */
    int panelStart(int k) {
        return k * panelGroups;
    }

    /** Groups of panel k. */
    int panelWidth(int k) {
        return Math.min(panelGroups, groups - k * panelGroups);
    }

    /** Byte offset of panel k's first row (each further row follows at {@link #panelWidth}·group bytes). */
    int panelBytes(int k) {
        return k * panelGroups * rows * groupBytes();
    }

    /** Float offset of panel k's first row (each further row follows at {@link #panelFloats} floats). */
    int panelFloatsAt(int k) {
        return floatsPerRow(type, k * panelGroups * lanes) * rows;
    }

    /** Floats per row in panel k. */
    int panelFloats(int k) {
        return floatsPerRow(type, panelWidth(k) * lanes);
    }
}
