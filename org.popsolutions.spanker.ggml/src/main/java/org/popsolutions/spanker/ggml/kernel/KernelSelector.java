package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;

/**
 * Picks the portable kernels: the Vector API ones when the incubator module is readable (in OSGi: when the
 * system bundle exports {@code jdk.incubator.vector}, the bundle imports it optionally) and 256-bit vectors are
 * native; otherwise the scalar reference kernels.
 */
final class KernelSelector {
    static final Kernels SCALAR = new ScalarKernels();
    static final Kernels PORTABLE = select();
    static final Kernels RANKED = new RankedKernels();

    private KernelSelector() {
    }

    private static Kernels select() {
        if (Boolean.getBoolean("spanker.kernels.scalar") || !vectorKernelsUsable()) {
            return SCALAR;
        }
        try {
            return (Kernels) Class.forName("org.popsolutions.spanker.ggml.kernel.VectorKernels").getConstructor()
                    .newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return SCALAR;
        }
    }

    /**
     * Whether the Vector API kernels can run here at full width: the incubator module is readable and this CPU's
     * preferred vectors are at least 256 bits (on 128-bit NEON or SSE-only machines they would be emulated, slower
     * than the scalar kernels).
     */
    static boolean vectorKernelsUsable() {
        try {
            return (Boolean) Class.forName("org.popsolutions.spanker.ggml.kernel.VectorKernels").getMethod("usable")
                    .invoke(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }

    /**
     * The kernels that serve one whole product: {@code kernels} itself, or for the ranked selector the provider ranked
     * highest now. A product resolves once and hands the result to every row chunk, so a provider that arrives or
     * leaves in the middle (a native bundle started or stopped) takes effect from the next product: otherwise some of
     * a product's rows could come from one provider and the rest from another, each right but not the same bits.
     */
    static Kernels resolve(Kernels kernels) {
        return kernels == RANKED ? KernelProviders.current() : kernels;
    }

    /** Delegates every call to the provider ranked highest at that moment. */
    private static final class RankedKernels implements Kernels {
        @Override
        public String name() {
            return KernelProviders.current().name();
        }

        @Override
        public float dot(ByteBuffer weights, int weightsOffset, PreparedActivation activation) {
            return KernelProviders.current().dot(weights, weightsOffset, activation);
        }

        @Override
        public void dotRows(ByteBuffer weights, int weightsOffset, int rowBytes, int rows,
                PreparedActivation activation, float[] out, int outOffset) {
            KernelProviders.current().dotRows(weights, weightsOffset, rowBytes, rows, activation, out, outOffset);
        }

        @Override
        public boolean dotRowsOnThreads(ByteBuffer weights, int weightsOffset, int rowBytes, int rows,
                PreparedActivation activation, float[] out, int outOffset, int threads) {
            return KernelProviders.current().dotRowsOnThreads(weights, weightsOffset, rowBytes, rows, activation, out,
                    outOffset, threads);
        }

        @Override
        public void dotRowsBatch(ByteBuffer weights, int weightsOffset, int rowBytes, int rows, PreparedBatch batch,
                float[] out, int outOffset, int outStride) {
            KernelProviders.current().dotRowsBatch(weights, weightsOffset, rowBytes, rows, batch, out, outOffset,
                    outStride);
        }

        @Override
        public String toString() {
            return "ranked(" + name() + ")";
        }
    }
}
