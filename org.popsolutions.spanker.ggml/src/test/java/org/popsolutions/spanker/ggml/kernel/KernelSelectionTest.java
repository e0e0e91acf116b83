package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.Golden;

/**
 * Runs twice: with the incubator module (vector kernels) and without it (a second surefire execution), where
 * the selector must fall back to the scalar kernels and still compute ggml's golden dot product.
 */
class KernelSelectionTest {
    @Test
    void picksVectorKernelsOnlyWhenTheModuleIsThereAndVectorsAreWideEnough() {
        boolean moduleThere = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        // The CPU's own answer, not an assumption: 128-bit machines (aarch64 NEON) keep the scalar kernels.
        boolean wide = moduleThere && KernelSelector.vectorKernelsUsable();
        assertEquals(wide ? "vector-256" : "scalar", Kernels.portable().name());
        if (!moduleThere) {
            assertFalse(KernelSelector.vectorKernelsUsable(), "no Vector API without the incubator module");
        }
    }

    @Test
    void givesTheGoldenDotEitherWay() {
        ByteBuffer w = ByteBuffer.wrap(Golden.bytes("w256.q4_K.bin")).order(ByteOrder.LITTLE_ENDIAN);
        PreparedActivation a = PreparedActivation.ofQuantized(GgmlType.Q4_K, Golden.bytes("a256.act.q8_K.cpu.bin"), 256);
        assertEquals(Kernels.scalar().dot(w, 0, a), Kernels.best().dot(w, 0, a), 1e-5 * 68.95, "within the fast kernels' tolerance");
        assertEquals(7.857589351, Kernels.best().dot(w, 0, a), 1e-5 * 68.95);
    }
}
