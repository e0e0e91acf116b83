package org.popsolutions.spanker.kernels.avx2;

import java.nio.ByteBuffer;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.PreparedActivation;
import org.popsolutions.spanker.ggml.kernel.PreparedBatch;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * The AVX2/FMA/F16C kernels of {@code spanker_kernels.c}: ggml mode for every weight type with a dot product
 * (int8 products with {@code vpmaddubsw}, 16-bit pair sums with {@code vpmaddwd}, FMA into float lanes) and
 * the float types in both modes; on a CPU with AVX-512 VNNI the Q8_0, Q4_K and Q6_K rows of a matrix-vector product
 * run on 512-bit registers ({@code vpdpbusd}, {@code vpdpwssd}) with the same integer lanes, so the same results bit
 * for bit ({@code SPANKER_KERNELS_NO_VNNI} set: the AVX2 rows). What they do not cover is handed to {@link Kernels#portable()}: quantized
 * weights in float mode, and Q8_0 with an activation value of −128 (never produced by ggml's quantizer; the
 * sign trick would overflow on it). Obtain an instance from {@link NativeLibrary#load()}.
 */
public final class NativeKernels implements Kernels {
    private final Kernels fallback = Kernels.portable();
    private final ThreadLocal<float[]> one = ThreadLocal.withInitial(() -> new float[1]);

    NativeKernels() {
    }

    static native boolean cpuSupported();

    private static native int dotRowsHeap(int type, byte[] weights, int at, int rowBytes, int rows, byte[] activation,
            float[] floats, int n, float[] out, int outAt);

    private static native int dotRowsDirect(int type, ByteBuffer weights, int at, int rowBytes, int rows,
            byte[] activation, float[] floats, int n, float[] out, int outAt);

    private static native int dotRowsThreadsHeap(int type, byte[] weights, int at, int rowBytes, int rows,
            byte[] activation, float[] floats, int n, float[] out, int outAt, int threads);

    private static native int dotRowsThreadsDirect(int type, ByteBuffer weights, int at, int rowBytes, int rows,
            byte[] activation, float[] floats, int n, float[] out, int outAt, int threads);

    /** Joins the native worker threads (after a running product); later threaded calls are declined until opened. */
    static native void stopWorkers();

    /** Lets threaded calls start native workers again (they start on the first such call). */
    static native void openWorkers();

    /** The native worker threads now running. */
    static native int workers();

    /** The threads (the caller's included) that ran rows of the last product on the native workers. */
    static native int lastCallThreads();

    private static native int dotRowsBatchHeap(int type, byte[] weights, int at, int rowBytes, int rows,
            byte[] activations, int stride, float[] floats, int n, int vectors, float[] out, int outAt, int outStride);

    private static native int dotRowsBatchDirect(int type, ByteBuffer weights, int at, int rowBytes, int rows,
            byte[] activations, int stride, float[] floats, int n, int vectors, float[] out, int outAt, int outStride);

    @Override
    public String name() {
        return "native-avx2";
    }

    @Override
    public float dot(ByteBuffer weights, int weightsOffset, PreparedActivation activation) {
        float[] out = one.get();
        dotRows(weights, weightsOffset, 0, 1, activation, out, 0);
        return out[0];
    }

    @Override
    public void dotRows(ByteBuffer weights, int at, int rowBytes, int rows, PreparedActivation a, float[] out,
            int outAt) {
        if (rows <= 0) {
            return;
        }
        if (!covers(a) || !(weights.hasArray() || weights.isDirect())) {
            fallback.dotRows(weights, at, rowBytes, rows, a, out, outAt);
            return;
        }
        check(weights, at, rowBytes, rows, a, out, outAt);
        byte[] q = a.isQuantized() ? a.quantized() : null;
        float[] x = a.isQuantized() ? null : a.floats();
        int type = a.weightType().id();
        int rc = weights.hasArray()
                ? dotRowsHeap(type, weights.array(), weights.arrayOffset() + at, rowBytes, rows, q, x, a.length(), out,
                        outAt)
                : dotRowsDirect(type, weights, at, rowBytes, rows, q, x, a.length(), out, outAt);
        failed(rc, a.weightType());
    }

    /**
     * One JNI call for the whole product: the activation prepared once, the rows split in C among the caller and
     * {@code threads - 1} native workers of the library's pool (persistent; each waits for the next product spinning
     * briefly, then asleep), the same row kernels as {@link #dotRows}, so the same bits. Declined (false) for what
     * {@link #dotRows} hands to the portable kernels, and while the pool serves another product or is stopped
     * ({@link #stopWorkers()}: the bundle's deactivation).
     */
    @Override
    public boolean dotRowsOnThreads(ByteBuffer weights, int at, int rowBytes, int rows, PreparedActivation a,
            float[] out, int outAt, int threads) {
        if (threads < 2 || rows < 2 || !covers(a) || !(weights.hasArray() || weights.isDirect())) {
            return false;
        }
        check(weights, at, rowBytes, rows, a, out, outAt);
        byte[] q = a.isQuantized() ? a.quantized() : null;
        float[] x = a.isQuantized() ? null : a.floats();
        int type = a.weightType().id();
        int rc = weights.hasArray()
                ? dotRowsThreadsHeap(type, weights.array(), weights.arrayOffset() + at, rowBytes, rows, q, x,
                        a.length(), out, outAt, threads)
                : dotRowsThreadsDirect(type, weights, at, rowBytes, rows, q, x, a.length(), out, outAt, threads);
        if (rc == 1) {
            return false;
        }
        failed(rc, a.weightType());
        return true;
    }

    private static void check(ByteBuffer weights, int at, int rowBytes, int rows, PreparedActivation a, float[] out,
            int outAt) {
        long bytes = a.weightType().bytesFor(a.length());
        long end = (long) at + (long) (rows - 1) * rowBytes + bytes;
        if (at < 0 || rowBytes < 0 || end > weights.capacity()) {
            throw new IndexOutOfBoundsException(rows + " rows of " + rowBytes + " bytes at " + at
                    + " outside a buffer of " + weights.capacity());
        }
        if (outAt < 0 || outAt > out.length - rows) {
            throw new IndexOutOfBoundsException(rows + " results at " + outAt + " outside an array of " + out.length);
        }
    }

    private static void failed(int rc, GgmlType type) {
        if (rc != 0) {
            throw new IllegalStateException("native kernels failed with code " + rc + " on " + type
                    + " (-1: type not handled, -2: out of memory or array not pinned, -3: not a direct buffer)");
        }
    }

    /**
     * Q4_0 from four vectors on as 32 rows against one vector at a time over column chunks that stay in L1 (the
     * weights repacked signed, one activation broadcast serving 32 rows; with AVX-512 VNNI through {@code vpdpbusd});
     * on a CPU with AVX-512 VNNI, Q8_0 and Q4_K from four vectors on the same way; Q4_1, Q4_K, Q6_K, Q8_0, F32, F16 and
     * BF16 otherwise as tiles of one row against up to four (float types: two) vectors, each weight block loaded once
     * for them. Each result equals {@link #dotRows} for that vector bit for bit, except the VNNI Q8_0 and Q4_K products
     * (each block summed in integers, then one FMA: not the row kernel's float order), which are within the kernels'
     * tolerance of the reference and do not depend on the vector count or the threads' row split.
     */
    @Override
    public void dotRowsBatch(ByteBuffer weights, int at, int rowBytes, int rows, PreparedBatch batch, float[] out,
            int outAt, int outStride) {
        int vectors = batch.count();
        if (rows <= 0 || vectors == 0) {
            return;
        }
        // only Q8_0 needs the vectors free of -128, and asking scans every vector's values (a prompt pass's 64)
        if (!covers(batch.weightType(), batch.mode(), batch.isQuantized(),
                batch.weightType() != GgmlType.Q8_0 || batch.symmetricValues())
                || !(weights.hasArray() || weights.isDirect())) {
            Kernels.super.dotRowsBatch(weights, at, rowBytes, rows, batch, out, outAt, outStride);
            return;
        }
        long bytes = batch.weightType().bytesFor(batch.length());
        long end = (long) at + (long) (rows - 1) * rowBytes + bytes;
        if (at < 0 || rowBytes < 0 || end > weights.capacity()) {
            throw new IndexOutOfBoundsException(rows + " rows of " + rowBytes + " bytes at " + at
                    + " outside a buffer of " + weights.capacity());
        }
        if (outAt < 0 || outStride < rows || (long) outAt + (long) (vectors - 1) * outStride + rows > out.length) {
            throw new IndexOutOfBoundsException(vectors + " × " + rows + " results at " + outAt + " (stride "
                    + outStride + ") outside an array of " + out.length);
        }
        byte[] q = batch.isQuantized() ? batch.quantized() : null;
        float[] x = batch.isQuantized() ? null : batch.floats();
        int type = batch.weightType().id();
        int rc = weights.hasArray()
                ? dotRowsBatchHeap(type, weights.array(), weights.arrayOffset() + at, rowBytes, rows, q,
                        batch.quantizedStride(), x, batch.length(), vectors, out, outAt, outStride)
                : dotRowsBatchDirect(type, weights, at, rowBytes, rows, q, batch.quantizedStride(), x, batch.length(),
                        vectors, out, outAt, outStride);
        if (rc != 0) {
            throw new IllegalStateException("native kernels failed with code " + rc + " on " + batch.weightType()
                    + " (-1: type not handled, -2: out of memory or array not pinned, -3: not a direct buffer)");
        }
    }

    private static boolean covers(PreparedActivation a) {
        return covers(a.weightType(), a.mode(), a.isQuantized(), a.weightType() != GgmlType.Q8_0 || a.symmetricValues());
    }

    private static boolean covers(GgmlType t, DotMode mode, boolean quantized, boolean symmetricValues) {
        boolean floatWeights = t == GgmlType.F32 || t == GgmlType.F16 || t == GgmlType.BF16;
        if (floatWeights) {
            return true;
        }
        if (mode != DotMode.GGML || !quantized) {
            return false;
        }
        return t != GgmlType.Q8_0 || symmetricValues;
    }
}
