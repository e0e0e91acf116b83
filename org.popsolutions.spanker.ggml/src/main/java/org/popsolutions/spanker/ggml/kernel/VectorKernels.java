package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.popsolutions.spanker.ggml.quant.BFloat16;
import org.popsolutions.spanker.ggml.quant.Half;
import org.popsolutions.spanker.ggml.quant.Q4_KFormat;
import org.popsolutions.spanker.ggml.quant.Q8_KFormat;

/**
 * {@link ScalarKernels} on 256-bit vectors (eight float lanes, the same lanes the scalar code defines, so the
 * bits agree). Bytes are widened straight to float lanes: a block's products and sums are integers below
 * 2^24, exact in float32. A weight row is first copied from its (mapped) buffer into a per-thread array,
 * because the byte[] loads are the only ones the Vector API has on both Java 17 and 25.
 */
public final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_64;

    private static final class Staging {
        byte[] row = new byte[0];
        ByteBuffer rowView = ByteBuffer.wrap(row);
        float[] floats = new float[0];
        final float[] lanes = new float[LANES];

        byte[] row(ByteBuffer w, int at, int length) {
            if (row.length < length) {
                row = new byte[length];
                rowView = ByteBuffer.wrap(row).order(ByteOrder.LITTLE_ENDIAN);
            }
            w.get(at, row, 0, length);
            return row;
        }

        float[] floats(int length) {
            if (floats.length < length) {
                floats = new float[length];
            }
            return floats;
        }
    }

    private final ThreadLocal<Staging> staging = ThreadLocal.withInitial(Staging::new);

    /** True when 256-bit float vectors are native here (otherwise the API would emulate them slowly). */
    public static boolean usable() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;
    }

    @Override
    public String name() {
        return "vector-256";
    }

    @Override
    public float dot(ByteBuffer w, int at, PreparedActivation a) {
        int n = a.length();
        Staging s = staging.get();
        if (a.isQuantized()) {
            byte[] q = a.quantized();
            byte[] row = s.row(w, at, (int) a.weightType().bytesFor(n));
            return switch (a.weightType()) {
                case Q4_0 -> q4_0xQ8_0(row, q, n, s.lanes);
                case Q4_1 -> q4_1xQ8_1(row, q, n, s.lanes);
                case Q8_0 -> q8_0xQ8_0(row, q, n, s.lanes);
                case Q4_K -> q4_KxQ8_K(row, s.rowView, q, n, s.lanes);
                case Q6_K -> q6_KxQ8_K(row, q, n, s.lanes);
                default -> throw new IllegalArgumentException("no quantized dot for " + a.weightType());
            };
        }
        float[] x = a.floats();
        switch (a.weightType()) {
            case F32 -> {
                float[] wf = s.floats(n);
                ByteBuffer view = w.duplicate().order(ByteOrder.LITTLE_ENDIAN);
                view.position(at);
                view.asFloatBuffer().get(wf, 0, n);
                return floats(wf, x, n, s.lanes);
            }
            case F16, BF16 -> {
                float[] wf = s.floats(n);
                boolean half = a.weightType() == org.popsolutions.spanker.ggml.quant.GgmlType.F16;
                for (int i = 0; i < n; i++) {
                    short bits = w.getShort(at + 2 * i);
                    wf[i] = half ? Half.toFloat(bits) : BFloat16.toFloat(bits);
                }
                return floats(wf, x, n, s.lanes);
            }
            default -> {
                byte[] row = s.row(w, at, (int) a.weightType().bytesFor(n));
                return switch (a.weightType()) {
                    case Q4_0 -> q4_0xF32(row, x, n, s.lanes);
                    case Q4_1 -> q4_1xF32(row, x, n, s.lanes);
                    case Q8_0 -> q8_0xF32(row, x, n, s.lanes);
                    case Q4_K -> q4_KxF32(row, s.rowView, x, n, s.lanes);
                    case Q6_K -> q6_KxF32(row, x, n, s.lanes);
                    default -> throw new IllegalArgumentException("no float dot for " + a.weightType());
                };
            }
        }
    }

    private static FloatVector widen(ByteVector v) {
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0);
    }

    private static FloatVector widen(byte[] a, int i) {
        return widen(ByteVector.fromArray(B, a, i));
    }

    private static ByteVector low(ByteVector v) {
        return v.and((byte) 0x0f);
    }

    private static ByteVector high(ByteVector v) {
        return v.lanewise(VectorOperators.LSHR, 4);
    }

    private static float finish(FloatVector acc, float[] lanes) {
        acc.intoArray(lanes, 0);
        return ScalarKernels.sumLanes(lanes);
    }

    private static float floats(float[] w, float[] x, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        int vectorEnd = n - n % LANES;
        for (int i = 0; i < vectorEnd; i += LANES) {
            acc = acc.add(FloatVector.fromArray(F, w, i).mul(FloatVector.fromArray(F, x, i)));
        }
        acc.intoArray(lanes, 0);
        for (int i = vectorEnd; i < n; i++) {
            lanes[i & 7] += w[i] * x[i];
        }
        return ScalarKernels.sumLanes(lanes);
    }

    // ---- ggml mode ----

    static float q4_0xQ8_0(byte[] w, byte[] a, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            int wb = 18 * b;
            int ab = 34 * b;
            float scale = Half.toFloat(ScalarKernels.shortAt(w, wb)) * Half.toFloat(ScalarKernels.shortAt(a, ab));
            ByteVector q0 = ByteVector.fromArray(B, w, wb + 2);
            ByteVector q1 = ByteVector.fromArray(B, w, wb + 10);
            FloatVector p = widen(low(q0).sub((byte) 8)).mul(widen(a, ab + 2))
                    .add(widen(low(q1).sub((byte) 8)).mul(widen(a, ab + 10)))
                    .add(widen(high(q0).sub((byte) 8)).mul(widen(a, ab + 18)))
                    .add(widen(high(q1).sub((byte) 8)).mul(widen(a, ab + 26)));
            acc = acc.add(p.mul(scale));
        }
        return finish(acc, lanes);
    }

    static float q4_1xQ8_1(byte[] w, byte[] a, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        float minTerms = 0;
        for (int b = 0; b < n / 32; b++) {
            int wb = 20 * b;
            int ab = 36 * b;
            float scale = Half.toFloat(ScalarKernels.shortAt(w, wb)) * Half.toFloat(ScalarKernels.shortAt(a, ab));
            minTerms += Half.toFloat(ScalarKernels.shortAt(w, wb + 2)) * Half.toFloat(ScalarKernels.shortAt(a, ab + 2));
            ByteVector q0 = ByteVector.fromArray(B, w, wb + 4);
            ByteVector q1 = ByteVector.fromArray(B, w, wb + 12);
            FloatVector p = widen(low(q0)).mul(widen(a, ab + 4))
                    .add(widen(low(q1)).mul(widen(a, ab + 12)))
                    .add(widen(high(q0)).mul(widen(a, ab + 20)))
                    .add(widen(high(q1)).mul(widen(a, ab + 28)));
            acc = acc.add(p.mul(scale));
        }
        return finish(acc, lanes) + minTerms;
    }

    static float q8_0xQ8_0(byte[] w, byte[] a, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            int wb = 34 * b;
            int ab = 34 * b;
            float scale = Half.toFloat(ScalarKernels.shortAt(w, wb)) * Half.toFloat(ScalarKernels.shortAt(a, ab));
            FloatVector p = widen(w, wb + 2).mul(widen(a, ab + 2))
                    .add(widen(w, wb + 10).mul(widen(a, ab + 10)))
                    .add(widen(w, wb + 18).mul(widen(a, ab + 18)))
                    .add(widen(w, wb + 26).mul(widen(a, ab + 26)));
            acc = acc.add(p.mul(scale));
        }
        return finish(acc, lanes);
    }

    static float q4_KxQ8_K(byte[] w, ByteBuffer wView, byte[] a, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        float minTerms = 0;
        for (int b = 0; b < n / 256; b++) {
            int wb = 144 * b;
            int ab = 292 * b;
            float da = ScalarKernels.floatAt(a, ab);
            float d = Half.toFloat(ScalarKernels.shortAt(w, wb)) * da;
            float dmin = Half.toFloat(ScalarKernels.shortAt(w, wb + 2)) * da;
            int mins = 0;
            for (int j = 0; j < 8; j++) {
                mins += Q4_KFormat.min(wView, wb + 4, j) * (ScalarKernels.shortAt(a, ab + Q8_KFormat.BSUMS + 4 * j)
                        + ScalarKernels.shortAt(a, ab + Q8_KFormat.BSUMS + 4 * j + 2));
            }
            FloatVector block = FloatVector.zero(F);
            for (int quarter = 0; quarter < 4; quarter++) {
                int qs = wb + 16 + 32 * quarter;
                int aq = ab + Q8_KFormat.QS + 64 * quarter;
                FloatVector lo = FloatVector.zero(F);
                FloatVector hi = FloatVector.zero(F);
                for (int g = 0; g < 32; g += 8) {
                    ByteVector q = ByteVector.fromArray(B, w, qs + g);
                    lo = lo.add(widen(low(q)).mul(widen(a, aq + g)));
                    hi = hi.add(widen(high(q)).mul(widen(a, aq + 32 + g)));
                }
                block = block.add(lo.mul(Q4_KFormat.scale(wView, wb + 4, 2 * quarter)))
                        .add(hi.mul(Q4_KFormat.scale(wView, wb + 4, 2 * quarter + 1)));
            }
            acc = acc.add(block.mul(d));
            minTerms += dmin * mins;
        }
        return finish(acc, lanes) - minTerms;
    }

    static float q6_KxQ8_K(byte[] w, byte[] a, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            int wb = 210 * b;
            int ab = 292 * b;
            float d = Half.toFloat(ScalarKernels.shortAt(w, wb + 208)) * ScalarKernels.floatAt(a, ab);
            FloatVector block = FloatVector.zero(F);
            for (int half = 0; half < 2; half++) {
                int ql = wb + 64 * half;
                int qh = wb + 128 + 32 * half;
                int sc = wb + 192 + 8 * half;
                int aq = ab + Q8_KFormat.QS + 128 * half;
                for (int g = 0; g < 32; g += 8) {
                    int is = sc + g / 16;
                    ByteVector lo = ByteVector.fromArray(B, w, ql + g);
                    ByteVector hi = ByteVector.fromArray(B, w, ql + 32 + g);
                    ByteVector h = ByteVector.fromArray(B, w, qh + g);
                    ByteVector q1 = low(lo).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = low(hi).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3)
                            .lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q3 = high(lo).or(h.lanewise(VectorOperators.LSHR, 4).and((byte) 3)
                            .lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q4 = high(hi).or(h.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32);
                    block = block.add(widen(q1).mul(widen(a, aq + g)).mul(w[is]))
                            .add(widen(q2).mul(widen(a, aq + 32 + g)).mul(w[is + 2]))
                            .add(widen(q3).mul(widen(a, aq + 64 + g)).mul(w[is + 4]))
                            .add(widen(q4).mul(widen(a, aq + 96 + g)).mul(w[is + 6]));
                }
            }
            acc = acc.add(block.mul(d));
        }
        return finish(acc, lanes);
    }

    // ---- float mode ----

    static float q4_0xF32(byte[] w, float[] x, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            int wb = 18 * b;
            float d = Half.toFloat(ScalarKernels.shortAt(w, wb));
            ByteVector q0 = ByteVector.fromArray(B, w, wb + 2);
            ByteVector q1 = ByteVector.fromArray(B, w, wb + 10);
            int xb = 32 * b;
            acc = acc.add(widen(low(q0).sub((byte) 8)).mul(d).mul(FloatVector.fromArray(F, x, xb)));
            acc = acc.add(widen(low(q1).sub((byte) 8)).mul(d).mul(FloatVector.fromArray(F, x, xb + 8)));
            acc = acc.add(widen(high(q0).sub((byte) 8)).mul(d).mul(FloatVector.fromArray(F, x, xb + 16)));
            acc = acc.add(widen(high(q1).sub((byte) 8)).mul(d).mul(FloatVector.fromArray(F, x, xb + 24)));
        }
        return finish(acc, lanes);
    }

    static float q4_1xF32(byte[] w, float[] x, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            int wb = 20 * b;
            float d = Half.toFloat(ScalarKernels.shortAt(w, wb));
            float m = Half.toFloat(ScalarKernels.shortAt(w, wb + 2));
            ByteVector q0 = ByteVector.fromArray(B, w, wb + 4);
            ByteVector q1 = ByteVector.fromArray(B, w, wb + 12);
            int xb = 32 * b;
            acc = acc.add(widen(low(q0)).mul(d).add(m).mul(FloatVector.fromArray(F, x, xb)));
            acc = acc.add(widen(low(q1)).mul(d).add(m).mul(FloatVector.fromArray(F, x, xb + 8)));
            acc = acc.add(widen(high(q0)).mul(d).add(m).mul(FloatVector.fromArray(F, x, xb + 16)));
            acc = acc.add(widen(high(q1)).mul(d).add(m).mul(FloatVector.fromArray(F, x, xb + 24)));
        }
        return finish(acc, lanes);
    }

    static float q8_0xF32(byte[] w, float[] x, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            int wb = 34 * b;
            float d = Half.toFloat(ScalarKernels.shortAt(w, wb));
            int xb = 32 * b;
            for (int g = 0; g < 32; g += 8) {
                acc = acc.add(widen(w, wb + 2 + g).mul(d).mul(FloatVector.fromArray(F, x, xb + g)));
            }
        }
        return finish(acc, lanes);
    }

    static float q4_KxF32(byte[] w, ByteBuffer wView, float[] x, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            int wb = 144 * b;
            float d = Half.toFloat(ScalarKernels.shortAt(w, wb));
            float dmin = Half.toFloat(ScalarKernels.shortAt(w, wb + 2));
            for (int quarter = 0; quarter < 4; quarter++) {
                float d1 = d * Q4_KFormat.scale(wView, wb + 4, 2 * quarter);
                float m1 = dmin * Q4_KFormat.min(wView, wb + 4, 2 * quarter);
                float d2 = d * Q4_KFormat.scale(wView, wb + 4, 2 * quarter + 1);
                float m2 = dmin * Q4_KFormat.min(wView, wb + 4, 2 * quarter + 1);
                int qs = wb + 16 + 32 * quarter;
                int xq = 256 * b + 64 * quarter;
                for (int g = 0; g < 32; g += 8) {
                    acc = acc.add(widen(low(ByteVector.fromArray(B, w, qs + g))).mul(d1).sub(m1)
                            .mul(FloatVector.fromArray(F, x, xq + g)));
                }
                for (int g = 0; g < 32; g += 8) {
                    acc = acc.add(widen(high(ByteVector.fromArray(B, w, qs + g))).mul(d2).sub(m2)
                            .mul(FloatVector.fromArray(F, x, xq + 32 + g)));
                }
            }
        }
        return finish(acc, lanes);
    }

    static float q6_KxF32(byte[] w, float[] x, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            int wb = 210 * b;
            float d = Half.toFloat(ScalarKernels.shortAt(w, wb + 208));
            for (int half = 0; half < 2; half++) {
                int ql = wb + 64 * half;
                int qh = wb + 128 + 32 * half;
                int sc = wb + 192 + 8 * half;
                int xq = 256 * b + 128 * half;
                for (int k = 0; k < 4; k++) {
                    for (int g = 0; g < 32; g += 8) {
                        ByteVector qlBytes = ByteVector.fromArray(B, w, ql + g + ((k & 1) << 5));
                        ByteVector lowBits = k < 2 ? low(qlBytes) : high(qlBytes);
                        ByteVector highBits = ByteVector.fromArray(B, w, qh + g).lanewise(VectorOperators.LSHR, 2 * k)
                                .and((byte) 3).lanewise(VectorOperators.LSHL, 4);
                        float dsc = d * w[sc + g / 16 + 2 * k];
                        acc = acc.add(widen(lowBits.or(highBits).sub((byte) 32)).mul(dsc)
                                .mul(FloatVector.fromArray(F, x, xq + 32 * k + g)));
                    }
                }
            }
        }
        return finish(acc, lanes);
    }
}
