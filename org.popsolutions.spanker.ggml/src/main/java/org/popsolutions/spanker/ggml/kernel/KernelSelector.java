package org.popsolutions.spanker.ggml.kernel;

/**
 * Picks the Vector API kernels when the incubator module is readable (in OSGi: when the system bundle exports
 * {@code jdk.incubator.vector}, the bundle imports it optionally) and 256-bit vectors are native; otherwise
 * the scalar reference kernels, which compute the same bits.
 */
final class KernelSelector {
    static final Kernels SCALAR = new ScalarKernels();
    static final Kernels BEST = select();

    private KernelSelector() {
    }

    private static Kernels select() {
        if (Boolean.getBoolean("spanker.kernels.scalar")) {
            return SCALAR;
        }
        try {
            Class<?> vector = Class.forName("org.popsolutions.spanker.ggml.kernel.VectorKernels");
            if (!(Boolean) vector.getMethod("usable").invoke(null)) {
                return SCALAR;
            }
            return (Kernels) vector.getConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return SCALAR;
        }
    }
}
