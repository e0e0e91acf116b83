package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.Half;
import org.popsolutions.spanker.ggml.quant.Q4_1Format;
import org.popsolutions.spanker.ggml.quant.Q8_1Format;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * How far a fast dot product may be from the reference one: {@code 1e-5 · Σ|w·a|} over the row, with w the
 * decoded weights and a the activation as the kernels see it (its companion format decoded, in ggml mode). The
 * bound ggml itself keeps between its SIMD paths; every provider is tested against it.
 */
public final class DotTolerance {
    public static final double RELATIVE = 1e-5;

    private DotTolerance() {
    }

    /** The allowed |fast − reference| for the row at byte {@code at} of {@code weights}. */
    public static double of(ByteBuffer weights, int at, PreparedActivation a) {
        GgmlType type = a.weightType();
        int n = a.length();
        ByteBuffer w = weights.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] decoded = new float[n];
        WeightTraits traits = WeightTraits.of(type);
        traits.codec().dequantize(w, at, decoded, 0, n);
        double l1 = 0;
        float[] act;
        if (a.isQuantized()) {
            GgmlType companion = traits.companion().orElseThrow();
            act = new float[n];
            ByteBuffer q = ByteBuffer.wrap(a.quantized()).order(ByteOrder.LITTLE_ENDIAN);
            QuantFormats.of(companion).dequantize(q, 0, act, 0, n);
            if (type == GgmlType.Q4_1) {
                // the m·s term of every block is added as well
                for (int b = 0; b < n / Q4_1Format.BLOCK; b++) {
                    l1 += Math.abs((double) Half.toFloat(w.getShort(at + Q4_1Format.BYTES * b + Q4_1Format.M))
                            * Half.toFloat(q.getShort(Q8_1Format.BYTES * b + Q8_1Format.S)));
                }
            }
        } else {
            act = a.floats();
        }
        for (int i = 0; i < n; i++) {
            l1 += Math.abs((double) decoded[i] * act[i]);
        }
        return RELATIVE * l1;
    }

    /** {@link #of(ByteBuffer, int, PreparedActivation)} for a row held alone in an array. */
    public static double of(byte[] row, PreparedActivation a) {
        return of(ByteBuffer.wrap(row).order(ByteOrder.LITTLE_ENDIAN), 0, a);
    }
}
