package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * Row dot products of one weight row (little-endian blocks in a buffer, usually a memory mapping) with a
 * {@link PreparedActivation}. The scalar reference kernels ({@link #scalar()}) define the result: eight float
 * lanes (element i in lane i mod 8), each block's lane partials exact integers times the block's scale, lanes
 * added in order. A fast implementation computes the same integers but may add the floats in another order
 * (FMA, several accumulators): it must stay within |fast − reference| ≤ 1e-5 · Σ|w·a| of every dot.
 *
 * <p>Implementations are services ranked by {@code service.ranking}; {@link #best()} follows the highest-ranked
 * one registered in {@link KernelProviders} at the time of each call, so a provider that arrives or leaves (a
 * native bundle started or stopped) takes effect on the next matrix-vector product.
 */
public interface Kernels {
    int LANES = 8;

    String name();

    /** Σ w·a over the activation's length; {@code weightsOffset} is the row's first byte in {@code weights}. */
    float dot(ByteBuffer weights, int weightsOffset, PreparedActivation activation);

    /**
     * {@code out[outOffset + r] = dot(weights, weightsOffset + r·rowBytes, activation)} for r in [0, rows): the
     * unit a matrix-vector product hands to one thread, so an implementation can keep per-activation work (and,
     * for a native one, the call's fixed cost) out of the per-row loop.
     */
    default void dotRows(ByteBuffer weights, int weightsOffset, int rowBytes, int rows, PreparedActivation activation,
            float[] out, int outOffset) {
        for (int r = 0; r < rows; r++) {
            out[outOffset + r] = dot(weights, weightsOffset + r * rowBytes, activation);
        }
    }

    /**
     * {@link #dotRows} over all {@code rows} on {@code threads} threads that the implementation owns, the caller's
     * included, the rows split among them by the implementation: one call for a whole matrix-vector product (a native
     * provider then crosses into native code and prepares the activation once, not once per row chunk). Each result
     * equals {@link #dotRows}'s bit for bit. Returns false, having done nothing, when the implementation does not do
     * this (the default), or cannot now (its threads busy with another product, or stopped): the caller then splits
     * the rows on its own threads.
     */
    default boolean dotRowsOnThreads(ByteBuffer weights, int weightsOffset, int rowBytes, int rows,
            PreparedActivation activation, float[] out, int outOffset, int threads) {
        return false;
    }

    /**
     * {@code out[outOffset + v·outStride + r] = dot(weights, weightsOffset + r·rowBytes, batch.vector(v))} for r in
     * [0, rows) and v in [0, batch.count()): a matrix-matrix product's share of rows, every prepared vector against
     * every row. An implementation that multiplies each loaded weight block with several vectors (a tile of rows ×
     * vectors in registers) reads the rows once for all of them. Each result is within the tolerance of the
     * reference dot; the default (and the portable kernels) gives exactly {@link #dotRows} per vector.
     */
    default void dotRowsBatch(ByteBuffer weights, int weightsOffset, int rowBytes, int rows, PreparedBatch batch,
            float[] out, int outOffset, int outStride) {
        for (int v = 0; v < batch.count(); v++) {
            dotRows(weights, weightsOffset, rowBytes, rows, batch.vector(v), out, outOffset + v * outStride);
        }
    }

    /** The weight types with a dot product. */
    static boolean supports(GgmlType type) {
        return WeightTraits.find(type).isPresent();
    }

    static void checkRow(GgmlType type, int length) {
        if (!supports(type)) {
            throw new IllegalArgumentException("no dot product for weight type " + type);
        }
        if (length < 0 || length % type.blockSize() != 0) {
            throw new IllegalArgumentException(type + " rows need a multiple of " + type.blockSize()
                    + " values, got " + length);
        }
    }

    /** The highest-ranked provider at the time of each call (see {@link KernelProviders}). */
    static Kernels best() {
        return KernelSelector.RANKED;
    }

    /**
     * The fastest pure-Java implementation this runtime has: the Vector API one when jdk.incubator.vector is
     * readable and 256-bit vectors are native, else the scalar reference.
     */
    static Kernels portable() {
        return KernelSelector.PORTABLE;
    }

    static Kernels scalar() {
        return KernelSelector.SCALAR;
    }
}
