package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
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
    /** Each type's kernels as the probe runs them: packed where the type packs; "/rows" its ggml-layout row kernels. */
    private static final String[] TYPES = {"F16", "BF16", "Q4_K", "Q6_K", "Q4_1", "Q4_0", "Q8_0", "Q4_K/rows",
            "Q6_K/rows", "Q4_1/rows", "Q4_0/rows", "Q8_0/rows"};

    @Test
    void rowProductsAllocateNothing() throws Exception {
        probe(false);
    }

    /**
     * The same after vector code of other shapes ran first, as in a long-lived Karaf or {@code serve} JVM (attention's
     * 256-bit lanes beside the 512-bit packed kernels, 128- and 64-bit loops elsewhere): the Vector API's own call
     * sites are shared by every caller, so their profiles then name several vector classes, and a kernel whose
     * vectors C2 cannot pin to one class boxes them (session 13 found this in the attention lanes; see
     * LanesAllocationTest). On Java 17 the quantized kernels did box after such a start until their vectors were cast
     * to the species' classes (session 14, this probe: Q8_0 ~66 KB, Q6_K 51-59 KB, Q4_1 11-17 KB, Q4_0 and Q4_K 5-11 KB
     * per product of 7 rows of 1024 columns, Q6_K's row kernel ~100 KB; F16 and BF16 none).
     */
    @Test
    void rowProductsAllocateNothingAfterOtherShapesRan() throws Exception {
        probe(true);
    }

    private static void probe(boolean pollute) throws Exception {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "this JVM does not count allocations per thread");
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                KernelAllocationTest.class.getName()));
        if (pollute) {
            command.add("--other-shapes-first");
        }
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

    /**
     * The probe: for each type named, the least bytes allocated by 200 products of 7 rows over many rounds; with
     * {@code --other-shapes-first}, after vector code of every shape the kernels use, and others, ran many times.
     */
    public static void main(String[] args) {
        int first = 0;
        if (args.length > 0 && args[0].equals("--other-shapes-first")) {
            float sink = 0;
            for (int round = 0; round < 3_000; round++) {
                sink += otherShapes(FloatVector.SPECIES_128, IntVector.SPECIES_128, ByteVector.SPECIES_64);
                sink += otherShapes(FloatVector.SPECIES_512, IntVector.SPECIES_512, ByteVector.SPECIES_256);
                sink += otherShapes(FloatVector.SPECIES_64, IntVector.SPECIES_64, ByteVector.SPECIES_64);
                sink += otherShapes(FloatVector.SPECIES_256, IntVector.SPECIES_256, ByteVector.SPECIES_128);
            }
            System.out.println("other shapes ran (" + sink + ")");
            first = 1;
        }
        for (String name : java.util.Arrays.copyOfRange(args, first, args.length)) {
            boolean rows = name.endsWith("/rows");
            GgmlType type = GgmlType.valueOf(rows ? name.substring(0, name.length() - "/rows".length()) : name);
            System.out.println(name + " allocated " + leastAllocated(type, rows) + " bytes");
        }
    }

    private static final float[] A = new float[256];
    private static final float[] B = new float[256];
    private static final byte[] Q = new byte[256];
    private static final short[] H = new short[256];

    /** The calls the kernels make (loads, widening, shifts, FMA, lane moves, reductions, stores) on other shapes. */
    private static float otherShapes(VectorSpecies<Float> f, VectorSpecies<Integer> i, VectorSpecies<Byte> b) {
        float sum = 0;
        for (int at = 0; at + f.length() <= A.length; at += f.length()) {
            A[at] = at % 7 - 3;
            Q[at] = (byte) (at * 37);
            FloatVector x = FloatVector.fromArray(f, A, at);
            FloatVector y = FloatVector.zero(f).add(FloatVector.broadcast(f, 0.5f)).fma(x, FloatVector.fromArray(f, B, at));
            IntVector q = (IntVector) ByteVector.fromArray(b, Q, 0).convertShape(VectorOperators.B2I, i, 0);
            q = q.lanewise(VectorOperators.LSHL, 2).lanewise(VectorOperators.ASHR, 1).and(0x7f).add(q.mul(q));
            ShortVector s = ShortVector.fromArray(ShortVector.SPECIES_128, H, 0).mul((short) 3).add((short) at);
            s.intoArray(H, 0);
            y = y.mul((FloatVector) q.convert(VectorOperators.I2F, 0)).add(y.rearrange(VectorShuffle.iota(f, 1, 1, true)));
            y.intoArray(B, at);
            sum += y.reduceLanes(VectorOperators.ADD) + q.reduceLanes(VectorOperators.MAX);
        }
        return sum;
    }

    private static long leastAllocated(GgmlType type, boolean rows) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        SplittableRandom random = new SplittableRandom(type.id());
        int count = 7; // odd: the two-row kernels and the one-row kernel for the last row
        int cols = 1024 + (type.blockSize() == 1 ? 5 : 0); // float rows with a tail past the vector loop
        int rowBytes = (int) type.bytesFor(cols);
        ByteBuffer weights = KernelAgreementTest.le(new byte[count * rowBytes]);
        for (int r = 0; r < count; r++) {
            QuantFormats.of(type).quantize(KernelAgreementTest.randomVector(random, cols, 1), 0, weights, r * rowBytes,
                    cols);
        }
        PreparedActivation a = PreparedActivation.prepare(type, DotMode.GGML, KernelAgreementTest.randomVector(random,
                cols, 1));
        PackedWeights packed = rows ? null : PackedWeights.pack(type, weights, count, cols).orElse(null);
        Kernels kernels = Kernels.portable();
        float[] out = new float[count];
        long least = Long.MAX_VALUE;
        // up to 400 rounds (C2 under load compiles late), stopping at the first that allocates nothing
        for (int round = 0; round < 400 && least > 0; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 200; i++) {
                if (packed != null) {
                    VectorKernels.dotRowsPacked(packed, 0, count, a, out, 0);
                } else {
                    kernels.dotRows(weights, 0, rowBytes, count, a, out, 0);
                }
            }
            least = Math.min(least, threads.getCurrentThreadAllocatedBytes() - before);
        }
        return least;
    }
}
