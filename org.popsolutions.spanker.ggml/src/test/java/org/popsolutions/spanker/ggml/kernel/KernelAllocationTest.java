package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * The portable kernels allocate nothing per product once compiled: the F16/BF16 two-row kernels (whose tail sum
 * C2 may leave as a call: a vector handed to it would be boxed) and the repacked K-quant kernels. The least of
 * many rounds counts (a round during which C2 compiles is not the kernels').
 */
class KernelAllocationTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16", "Q4_K", "Q6_K", "Q4_0", "Q8_0"})
    void rowProductsAllocateNothing(GgmlType type) {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "this JVM does not count allocations per thread");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        SplittableRandom random = new SplittableRandom(type.id());
        int rows = 7; // odd: the two-row kernels and the one-row kernel for the last row
        int cols = 1024 + (type.blockSize() == 1 ? 5 : 0); // float rows with a tail past the vector loop
        int rowBytes = (int) type.bytesFor(cols);
        ByteBuffer weights = KernelAgreementTest.le(new byte[rows * rowBytes]);
        for (int r = 0; r < rows; r++) {
            QuantFormats.of(type).quantize(KernelAgreementTest.randomVector(random, cols, 1), 0, weights, r * rowBytes,
                    cols);
        }
        PreparedActivation a = PreparedActivation.prepare(type, DotMode.GGML, KernelAgreementTest.randomVector(random,
                cols, 1));
        PackedWeights packed = PackedWeights.pack(type, weights, rows, cols).orElse(null);
        Kernels kernels = Kernels.portable();
        float[] out = new float[rows];
        long least = Long.MAX_VALUE;
        // up to 400 rounds (C2 under load compiles late), stopping at the first that allocates nothing
        for (int round = 0; round < 400 && least > 0; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 200; i++) {
                if (packed != null) {
                    VectorKernels.dotRowsPacked(packed, 0, rows, a, out, 0);
                } else {
                    kernels.dotRows(weights, 0, rowBytes, rows, a, out, 0);
                }
            }
            least = Math.min(least, threads.getCurrentThreadAllocatedBytes() - before);
        }
        assertEquals(0, least, type + ": bytes allocated by 200 products of " + rows + " rows");
    }
}
