package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * The portable kernels give a row the same bits in whichever JIT tier runs them: the first products of a fresh JVM
 * (interpreter, C1) and the thousandth (C2). On Java 25 they did not: {@code FloatVector.reduceLanes(ADD)} added the
 * lanes one after another in the interpreter and C1 but in a tree once C2 compiled it, so a product's last bit
 * depended on when it ran — a product run together with others (MatVec.together) sometimes differed from the same
 * product run alone (MatVecProductTest on Java 25, 1–2 runs in 3). Probed in a JVM of its own, where the kernels
 * start uncompiled (in the module's test JVM other tests have compiled them already).
 */
class KernelTiersTest {
    private static final String[] TYPES = {"Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K", "F16", "BF16", "F32"};

    @Test
    void aRowHasTheSameBitsInEveryTier() throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                KernelTiersTest.class.getName()));
        command.addAll(java.util.List.of(TYPES));
        Process probe = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String output = new String(probe.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(probe.waitFor(300, java.util.concurrent.TimeUnit.SECONDS), "the probe did not finish");
            for (String type : TYPES) {
                for (String how : new String[] {"GGML", "FLOAT", "packed"}) {
                    assertTrue(output.contains(type + " " + how + " same bits"), "expected the same bits for " + type
                            + " " + how + "; the probe said:\n" + output);
                }
            }
        } finally {
            probe.destroyForcibly();
        }
    }

    /**
     * The probe: for each type named, 7 rows multiplied 4,000 times in ggml mode, in float mode and packed (types
     * without a packed layout say "same bits" for it), each product compared with the first.
     */
    public static void main(String[] types) {
        for (String name : types) {
            GgmlType type = GgmlType.valueOf(name);
            for (String how : new String[] {"GGML", "FLOAT", "packed"}) {
                String differs = firstDifference(type, how);
                System.out.println(name + " " + how + (differs == null ? " same bits" : " differs: " + differs));
            }
        }
    }

    private static String firstDifference(GgmlType type, String how) {
        SplittableRandom random = new SplittableRandom(type.id() * 31L + how.length());
        int rows = 7; // odd: the two- and four-row kernels and the one-row kernel for the last row
        int cols = 1024 + (type.blockSize() == 1 ? 5 : 0); // float rows with a tail past the vector loop
        int rowBytes = (int) type.bytesFor(cols);
        ByteBuffer weights = KernelAgreementTest.le(new byte[rows * rowBytes]);
        for (int r = 0; r < rows; r++) {
            QuantFormats.of(type).quantize(KernelAgreementTest.randomVector(random, cols, 1), 0, weights, r * rowBytes,
                    cols);
        }
        DotMode mode = how.equals("FLOAT") ? DotMode.FLOAT : DotMode.GGML;
        PreparedActivation a = PreparedActivation.prepare(type, mode, KernelAgreementTest.randomVector(random, cols, 1));
        PackedWeights packed = how.equals("packed") ? PackedWeights.pack(type, weights, rows, cols).orElse(null) : null;
        if (how.equals("packed") && packed == null) {
            return null;
        }
        Kernels kernels = Kernels.portable();
        float[] first = null;
        float[] out = new float[rows];
        for (int call = 0; call < 4_000; call++) {
            if (packed != null) {
                VectorKernels.dotRowsPacked(packed, 0, rows, a, out, 0);
            } else {
                kernels.dotRows(weights, 0, rowBytes, rows, a, out, 0);
            }
            if (first == null) {
                first = out.clone();
            }
            for (int r = 0; r < rows; r++) {
                if (Float.floatToRawIntBits(out[r]) != Float.floatToRawIntBits(first[r])) {
                    return "call " + call + ", row " + r + ": " + out[r] + " against the first call's " + first[r];
                }
            }
        }
        return null;
    }
}
