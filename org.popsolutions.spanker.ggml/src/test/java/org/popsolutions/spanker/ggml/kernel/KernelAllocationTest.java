package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * The portable kernels allocate nothing per product once compiled: the F16/BF16 two-row kernels (whose tail sum
 * C2 may leave as a call: a vector handed to it would be boxed) and the repacked K-quant kernels. The least of
 * many rounds counts (a round during which C2 compiles is not the kernels'). Measured in a JVM of its own, as a
 * card's products run: in the module's test JVM, after the other tests' edge cases (Inf/NaN rows, arbitrary bytes,
 * many shapes), the F16, Q4_K and Q6_K kernels were found allocating (boxed vectors), which a fresh JVM never
 * showed; why C2 compiled them so there was not found.
 */
class KernelAllocationTest {
    private static final String[] TYPES = {"F16", "BF16", "Q4_K", "Q6_K", "Q4_1", "Q4_0", "Q8_0"};

    @Test
    void rowProductsAllocateNothing() throws Exception {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "this JVM does not count allocations per thread");
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                KernelAllocationTest.class.getName()));
        command.addAll(java.util.List.of(TYPES));
        Process probe = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String output = new String(probe.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(probe.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "the probe did not finish");
            for (String type : TYPES) {
                assertTrue(output.contains(type + " allocated 0 bytes"), "expected no allocation for " + type
                        + "; the probe said:\n" + output);
            }
        } finally {
            probe.destroyForcibly();
        }
    }

    /** The probe: for each type named, the least bytes allocated by 200 products of 7 rows over many rounds. */
    public static void main(String[] types) {
        for (String name : types) {
            System.out.println(name + " allocated " + leastAllocated(GgmlType.valueOf(name)) + " bytes");
        }
    }

    private static long leastAllocated(GgmlType type) {
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
        return least;
    }
}
