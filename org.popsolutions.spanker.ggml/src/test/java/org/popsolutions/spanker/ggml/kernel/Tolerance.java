package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.popsolutions.spanker.ggml.quant.GgmlType;

/** The fast kernels' contract in assertions: |fast − reference| ≤ {@link DotTolerance}. */
final class Tolerance {
    private Tolerance() {
    }

    static double of(GgmlType type, byte[] row, PreparedActivation a) {
        if (a.weightType() != type) {
            throw new IllegalArgumentException(a.weightType() + " activation for " + type + " weights");
        }
        return DotTolerance.of(row, a);
    }

    static void assertClose(float reference, float fast, double tolerance, String what) {
        assertTrue(Math.abs((double) reference - fast) <= tolerance, what + ": reference " + reference + ", fast "
                + fast + ", |difference| " + Math.abs((double) reference - fast) + " > " + tolerance);
    }
}
