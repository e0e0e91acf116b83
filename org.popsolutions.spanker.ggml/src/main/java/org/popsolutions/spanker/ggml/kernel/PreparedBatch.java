package org.popsolutions.spanker.ggml.kernel;

import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * Up to {@link #capacity()} activation vectors (a prompt's tokens) prepared for rows of one weight type, each exactly
 * as {@link PreparedActivation#prepare} prepares it, and also laid side by side for kernels that multiply one weight
 * block with several vectors: vector v's companion-format bytes at {@code v · }{@link #quantizedStride()} of
 * {@link #quantized()}, or its float values at {@code v · }{@link #length()} of {@link #floats()}. Allocated once,
 * refilled per product.
 */
public final class PreparedBatch {
    private final GgmlType weightType;
    private final DotMode mode;
    private final int length;
    private final PreparedActivation[] vectors;
    private final int quantizedStride;
    private final byte[] quantized;
    private final float[] floats;
    private int count;

    private PreparedBatch(GgmlType weightType, DotMode mode, int length, int capacity) {
        this.weightType = weightType;
        this.mode = mode;
        this.length = length;
        this.vectors = new PreparedActivation[capacity];
        for (int v = 0; v < capacity; v++) {
            vectors[v] = PreparedActivation.workspace(weightType, mode, length);
        }
        this.quantizedStride = PreparedActivation.quantizedBytes(weightType, mode, length);
        this.quantized = quantizedStride == 0 ? null : new byte[quantizedStride * capacity];
        this.floats = quantizedStride == 0 ? new float[length * capacity] : null;
    }

    /** Room for {@code capacity} vectors of {@code length} values for rows of {@code weightType}. */
    public static PreparedBatch workspace(GgmlType weightType, DotMode mode, int length, int capacity) {
        Kernels.checkRow(weightType, length);
        if (capacity < 1) {
            throw new IllegalArgumentException("a batch holds at least one vector, asked for " + capacity);
        }
        if ((long) length * capacity > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException(capacity + " vectors of " + length + " values are too many for one batch");
        }
        return new PreparedBatch(weightType, mode, length, capacity);
    }

    /**
     * Prepares {@code count} vectors, vector v being {@code x[offset + v·length .. offset + (v+1)·length)}, in place
     * of what the batch held, and returns it. Not while kernels read the batch.
     */
    public PreparedBatch refill(float[] x, int offset, int count) {
        checkRefill(x, offset, count);
        prepare(x, offset, 0, count);
        this.count = count;
        return this;
    }

    /**
     * As {@link #refill(float[], int, int)}, the vectors prepared on the executor's threads (each vector exactly as
     * alone: a prompt pass's activation quantization is a serial section otherwise).
     */
    public PreparedBatch refill(float[] x, int offset, int count, RowExecutor executor) {
        checkRefill(x, offset, count);
        if (count == 1 || executor.threads() == 1) {
            prepare(x, offset, 0, count);
        } else {
            executor.forRows(count, (from, to) -> prepare(x, offset, from, to));
        }
        this.count = count;
        return this;
    }

    private void checkRefill(float[] x, int offset, int count) {
        if (count < 1 || count > vectors.length) {
            throw new IllegalArgumentException("a batch of " + vectors.length + " cannot take " + count + " vectors");
        }
        if (offset < 0 || (long) offset + (long) count * length > x.length) {
            throw new IllegalArgumentException(count + " vectors of " + length + " values at " + offset
                    + " outside an array of " + x.length);
        }
    }

    /** Vectors [from, to): each its own workspace and its own range of the side-by-side arrays. */
    private void prepare(float[] x, int offset, int from, int to) {
        for (int v = from; v < to; v++) {
            PreparedActivation a = vectors[v].refill(x, offset + v * length);
            if (quantized != null) {
                System.arraycopy(a.quantized(), 0, quantized, v * quantizedStride, quantizedStride);
            } else {
                System.arraycopy(a.floats(), 0, floats, v * length, length);
            }
        }
    }

    public GgmlType weightType() {
        return weightType;
    }

    public DotMode mode() {
        return mode;
    }

    /** Values per vector. */
    public int length() {
        return length;
    }

    public int capacity() {
        return vectors.length;
    }

    /** Vectors prepared by the last {@link #refill}. */
    public int count() {
        return count;
    }

    /** Vector v (v < {@link #count()}) as a single activation. */
    public PreparedActivation vector(int v) {
        if (v < 0 || v >= count) {
            throw new IndexOutOfBoundsException("vector " + v + " of a batch of " + count);
        }
        return vectors[v];
    }

    /** Whether the kernels read {@link #quantized()} (else {@link #floats()}). */
    public boolean isQuantized() {
        return quantized != null;
    }

    /** Every vector's companion-format bytes side by side, or null. Kernels read it and must not change it. */
    public byte[] quantized() {
        return quantized;
    }

    /** Bytes from one vector's quantized activation to the next's. */
    public int quantizedStride() {
        return quantizedStride;
    }

    /** Every vector's float values side by side (rounded to the weight's precision as ggml does), or null. */
    public float[] floats() {
        return floats;
    }

    /** No quantized value of any vector is −128 (see {@link PreparedActivation#symmetricValues()}). */
    public boolean symmetricValues() {
        if (quantized == null) {
            return false;
        }
        for (int v = 0; v < count; v++) {
            if (!vectors[v].symmetricValues()) {
                return false;
            }
        }
        return true;
    }
}
