package org.popsolutions.spanker.ggml.ops;

import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link AttentionLanes} in 256-bit lanes: scores 32 positions at a time (four vectors of sums in registers, lane =
 * position), the weighted values 32 elements at a time (lane = element). Loaded by name, only where the incubator
 * module is readable.
 */
final class VectorAttentionLanes extends AttentionLanes {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int L = 8;
    /**
     * The exact classes of F's float and int vectors, constants to C2. A vector the Vector API loads or reinterprets is
     * typed only FloatVector (IntVector) inside C2, so each call on it, and on what follows from it down to intoArray's
     * vspecies(), is bound by the profile of a call site in the Vector API that every caller in the JVM shares; once
     * another shape has run through those (the 512-bit kernels, a 128-bit loop anywhere), C2 guards two or more
     * classes, the species is no constant, the intrinsics fail and every vector of the loop is boxed, for the life of
     * the JVM. Cast to this class, the receiver's class is known and every call binds to it, whatever ran before.
     */
    @SuppressWarnings("unchecked")
    private static final Class<? extends FloatVector> FV = (Class<? extends FloatVector>) (Class<?>) F.vectorType();
    @SuppressWarnings("unchecked")
    private static final Class<? extends IntVector> IV = (Class<? extends IntVector>) (Class<?>) IntVector.SPECIES_256
            .vectorType();
    public VectorAttentionLanes() {
    }

    public static boolean usable() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    }

    @Override
    void scores(float[] q, int qAt, float[] keys, int keysAt, int rows, int stride, int d, float scale, float[] scores,
            int at) {
        int t = 0;
        for (; t + 4 * L <= rows; t += 4 * L) {
            FloatVector s0 = FV.cast(FloatVector.zero(F));
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            for (int i = 0; i < d; i++) {
                FloatVector qi = FV.cast(FloatVector.broadcast(F, q[qAt + i]));
                int k = keysAt + i * stride + t;
                s0 = FV.cast(s0.add(qi.mul(FloatVector.fromArray(F, keys, k))));
                s1 = FV.cast(s1.add(qi.mul(FloatVector.fromArray(F, keys, k + L))));
                s2 = FV.cast(s2.add(qi.mul(FloatVector.fromArray(F, keys, k + 2 * L))));
                s3 = FV.cast(s3.add(qi.mul(FloatVector.fromArray(F, keys, k + 3 * L))));
            }
            FV.cast(s0.mul(scale)).intoArray(scores, at + t);
            FV.cast(s1.mul(scale)).intoArray(scores, at + t + L);
            FV.cast(s2.mul(scale)).intoArray(scores, at + t + 2 * L);
            FV.cast(s3.mul(scale)).intoArray(scores, at + t + 3 * L);
        }
        for (; t + L <= rows; t += L) {
            FloatVector s0 = FV.cast(FloatVector.zero(F));
            for (int i = 0; i < d; i++) {
                FloatVector qi = FV.cast(FloatVector.broadcast(F, q[qAt + i]));
                s0 = FV.cast(s0.add(qi.mul(FloatVector.fromArray(F, keys, keysAt + i * stride + t))));
            }
            FV.cast(s0.mul(scale)).intoArray(scores, at + t);
        }
        for (; t < rows; t++) {
            float s = 0;
            for (int i = 0; i < d; i++) {
                s += q[qAt + i] * keys[keysAt + i * stride + t];
            }
            scores[at + t] = s * scale;
        }
    }

    @Override
    void addWeighted(float[] w, int wAt, int rows, float[] values, int valuesAt, int d, float[] out, int outAt) {
        int i = 0;
        for (; i + 4 * L <= d; i += 4 * L) {
            FloatVector o0 = FV.cast(FloatVector.fromArray(F, out, outAt + i));
            FloatVector o1 = FV.cast(FloatVector.fromArray(F, out, outAt + i + L));
            FloatVector o2 = FV.cast(FloatVector.fromArray(F, out, outAt + i + 2 * L));
            FloatVector o3 = FV.cast(FloatVector.fromArray(F, out, outAt + i + 3 * L));
            for (int t = 0; t < rows; t++) {
                FloatVector wt = FV.cast(FloatVector.broadcast(F, w[wAt + t]));
                int v = valuesAt + t * d + i;
                o0 = FV.cast(o0.add(wt.mul(FloatVector.fromArray(F, values, v))));
                o1 = FV.cast(o1.add(wt.mul(FloatVector.fromArray(F, values, v + L))));
                o2 = FV.cast(o2.add(wt.mul(FloatVector.fromArray(F, values, v + 2 * L))));
                o3 = FV.cast(o3.add(wt.mul(FloatVector.fromArray(F, values, v + 3 * L))));
            }
            o0.intoArray(out, outAt + i);
            o1.intoArray(out, outAt + i + L);
            o2.intoArray(out, outAt + i + 2 * L);
            o3.intoArray(out, outAt + i + 3 * L);
        }
        for (; i + L <= d; i += L) {
            FloatVector o0 = FV.cast(FloatVector.fromArray(F, out, outAt + i));
            for (int t = 0; t < rows; t++) {
                FloatVector wt = FV.cast(FloatVector.broadcast(F, w[wAt + t]));
                o0 = FV.cast(o0.add(wt.mul(FloatVector.fromArray(F, values, valuesAt + t * d + i))));
            }
            o0.intoArray(out, outAt + i);
        }
        if (i < d) {
            AttentionLanes.Plain.addWeighted(w, wAt, rows, values, valuesAt + i, d, d - i, out, outAt + i);
        }
    }

    @Override
    float max(float[] x, int at, int n) {
        int i = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (n >= L) {
            FloatVector m = FV.cast(FloatVector.broadcast(F, Float.NEGATIVE_INFINITY));
            for (; i + L <= n; i += L) {
                m = FV.cast(m.max(FloatVector.fromArray(F, x, at + i)));
            }
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            max = Math.max(max, x[at + i]);
        }
        return max;
    }

    @Override
    void expMinus(float[] x, int at, int n, float max) {
        int i = 0;
        for (; i + L <= n; i += L) {
            // AttentionLanes.Plain.exp of x − max in every lane, written out as in swiGlu (a vector handed to a call C2
            // does not inline is boxed)
            FloatVector a = FV.cast(FloatVector.fromArray(F, x, at + i)).sub(max);
            VectorMask<Float> high = a.compare(VectorOperators.GT, EXP_HIGH);
            FloatVector c = a.max(EXP_LOW);
            FloatVector t = c.mul(LOG2E).add(ROUNDER);
            FloatVector n0 = t.sub(ROUNDER);
            FloatVector r = c.sub(n0.mul(LN2_HIGH));
            r = r.sub(n0.mul(LN2_LOW));
            FloatVector z = r.mul(r);
            FloatVector p = r.mul(P0).add(P1).mul(r).add(P2).mul(r).add(P3).mul(r).add(P4).mul(r).add(P5).mul(z).add(r)
                    .add(1f);
            IntVector bits = IV.cast(t.reinterpretAsInts()).sub(ROUNDER_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            FV.cast(p.mul(bits.reinterpretAsFloats()).blend(Float.POSITIVE_INFINITY, high)).intoArray(x, at + i);
        }
        if (i < n) {
            PLAIN.expMinus(x, at + i, n - i, max);
        }
    }

    @Override
    void swiGlu(float[] gate, int gateAt, float[] up, int upAt, float[] out, int outAt, int length) {
        int i = 0;
        for (; i + L <= length; i += L) {
            // AttentionLanes.Plain.exp of −x in every lane, the same operations in the same order; written out here,
            // not in a method of its own: a vector handed to a call C2 does not inline is boxed
            FloatVector x = FV.cast(FloatVector.fromArray(F, gate, gateAt + i));
            FloatVector m = x.neg();
            VectorMask<Float> high = m.compare(VectorOperators.GT, EXP_HIGH);
            FloatVector c = m.max(EXP_LOW);
            FloatVector t = c.mul(LOG2E).add(ROUNDER);
            FloatVector n = t.sub(ROUNDER);
            FloatVector r = c.sub(n.mul(LN2_HIGH));
            r = r.sub(n.mul(LN2_LOW));
            FloatVector z = r.mul(r);
            FloatVector p = r.mul(P0).add(P1).mul(r).add(P2).mul(r).add(P3).mul(r).add(P4).mul(r).add(P5).mul(z).add(r)
                    .add(1f);
            IntVector bits = IV.cast(t.reinterpretAsInts()).sub(ROUNDER_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.mul(bits.reinterpretAsFloats()).blend(Float.POSITIVE_INFINITY, high);
            FV.cast(x.div(e.add(1.0f)).mul(FloatVector.fromArray(F, up, upAt + i))).intoArray(out, outAt + i);
        }
        if (i < length) {
            PLAIN.swiGlu(gate, gateAt + i, up, upAt + i, out, outAt + i, length - i);
        }
    }

    private static final Plain PLAIN = new Plain();
}
