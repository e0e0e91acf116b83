package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import org.popsolutions.spanker.ggml.quant.BFloat16;
import org.popsolutions.spanker.ggml.quant.Half;
import org.popsolutions.spanker.ggml.quant.Q4_0Format;
import org.popsolutions.spanker.ggml.quant.Q4_1Format;
import org.popsolutions.spanker.ggml.quant.Q4_KFormat;
import org.popsolutions.spanker.ggml.quant.Q6_KFormat;
import org.popsolutions.spanker.ggml.quant.Q8_0Format;
import org.popsolutions.spanker.ggml.quant.Q8_1Format;
import org.popsolutions.spanker.ggml.quant.Q8_KFormat;

/**
 * The reference kernels: plain loops that define the result bits (eight lanes, element i in lane i mod 8,
 * lanes summed in order; a block's lane partials are exact integers multiplied by the block's scale).
 */
final class ScalarKernels implements Kernels {
    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public float dot(ByteBuffer w, int at, PreparedActivation a) {
        return WeightTraits.of(a.weightType()).referenceDot(w, at, a);
    }

    static float sumLanes(float[] acc) {
        float s = 0;
        for (int l = 0; l < LANES; l++) {
            s += acc[l];
        }
        return s;
    }

    // ---- ggml mode: integer block sums ----

    static float q4_0xQ8_0(ByteBuffer w, int at, byte[] a, int n) {
        float[] acc = new float[LANES];
        int[] part = new int[LANES];
        for (int b = 0; b < n / 32; b++) {
            int wb = at + Q4_0Format.BYTES * b;
            int ab = Q8_0Format.BYTES * b;
            float scale = Half.toFloat(w.getShort(wb + Q4_0Format.D)) * Half.toFloat(shortAt(a, ab + Q8_0Format.D));
            java.util.Arrays.fill(part, 0);
            for (int j = 0; j < 16; j++) {
                int q = w.get(wb + Q4_0Format.QS + j) & 0xff;
                part[j & 7] += ((q & 0xf) - 8) * a[ab + Q8_0Format.QS + j] + ((q >>> 4) - 8) * a[ab + Q8_0Format.QS + 16 + j];
            }
            for (int l = 0; l < LANES; l++) {
                acc[l] += part[l] * scale;
            }
        }
        return sumLanes(acc);
    }

    static float q4_1xQ8_1(ByteBuffer w, int at, byte[] a, int n) {
        float[] acc = new float[LANES];
        int[] part = new int[LANES];
        float minTerms = 0;
        for (int b = 0; b < n / 32; b++) {
            int wb = at + Q4_1Format.BYTES * b;
            int ab = Q8_1Format.BYTES * b;
            float scale = Half.toFloat(w.getShort(wb + Q4_1Format.D)) * Half.toFloat(shortAt(a, ab + Q8_1Format.D));
            minTerms += Half.toFloat(w.getShort(wb + Q4_1Format.M)) * Half.toFloat(shortAt(a, ab + Q8_1Format.S));
            java.util.Arrays.fill(part, 0);
            for (int j = 0; j < 16; j++) {
                int q = w.get(wb + Q4_1Format.QS + j) & 0xff;
                part[j & 7] += (q & 0xf) * a[ab + Q8_1Format.QS + j] + (q >>> 4) * a[ab + Q8_1Format.QS + 16 + j];
            }
            for (int l = 0; l < LANES; l++) {
                acc[l] += part[l] * scale;
            }
        }
        return sumLanes(acc) + minTerms;
    }

    static float q8_0xQ8_0(ByteBuffer w, int at, byte[] a, int n) {
        float[] acc = new float[LANES];
        int[] part = new int[LANES];
        for (int b = 0; b < n / 32; b++) {
            int wb = at + Q8_0Format.BYTES * b;
            int ab = Q8_0Format.BYTES * b;
            float scale = Half.toFloat(w.getShort(wb + Q8_0Format.D)) * Half.toFloat(shortAt(a, ab + Q8_0Format.D));
            java.util.Arrays.fill(part, 0);
            for (int j = 0; j < 32; j++) {
                part[j & 7] += w.get(wb + Q8_0Format.QS + j) * a[ab + Q8_0Format.QS + j];
            }
            for (int l = 0; l < LANES; l++) {
                acc[l] += part[l] * scale;
            }
        }
        return sumLanes(acc);
    }

    static float q4_KxQ8_K(ByteBuffer w, int at, byte[] a, int n) {
        float[] acc = new float[LANES];
        int[] blockLanes = new int[LANES];
        int[] lo = new int[LANES];
        int[] hi = new int[LANES];
        float minTerms = 0;
        for (int b = 0; b < n / 256; b++) {
            int wb = at + Q4_KFormat.BYTES * b;
            int ab = Q8_KFormat.BYTES * b;
            float da = floatAt(a, ab + Q8_KFormat.D);
            float d = Half.toFloat(w.getShort(wb + Q4_KFormat.D)) * da;
            float dmin = Half.toFloat(w.getShort(wb + Q4_KFormat.DMIN)) * da;
            int mins = 0;
            for (int j = 0; j < 8; j++) {
                mins += Q4_KFormat.min(w, wb + Q4_KFormat.SCALES, j)
                        * (shortAt(a, ab + Q8_KFormat.BSUMS + 4 * j) + shortAt(a, ab + Q8_KFormat.BSUMS + 4 * j + 2));
            }
            java.util.Arrays.fill(blockLanes, 0);
            for (int quarter = 0; quarter < 4; quarter++) {
                java.util.Arrays.fill(lo, 0);
                java.util.Arrays.fill(hi, 0);
                int qs = wb + Q4_KFormat.QS + 32 * quarter;
                int aq = ab + Q8_KFormat.QS + 64 * quarter;
                for (int l = 0; l < 32; l++) {
                    int q = w.get(qs + l) & 0xff;
                    lo[l & 7] += (q & 0xf) * a[aq + l];
                    hi[l & 7] += (q >>> 4) * a[aq + 32 + l];
                }
                int sc1 = Q4_KFormat.scale(w, wb + Q4_KFormat.SCALES, 2 * quarter);
                int sc2 = Q4_KFormat.scale(w, wb + Q4_KFormat.SCALES, 2 * quarter + 1);
                for (int l = 0; l < LANES; l++) {
                    blockLanes[l] += sc1 * lo[l] + sc2 * hi[l];
                }
            }
            for (int l = 0; l < LANES; l++) {
                acc[l] += blockLanes[l] * d;
            }
            minTerms += dmin * mins;
        }
        return sumLanes(acc) - minTerms;
    }

    static float q6_KxQ8_K(ByteBuffer w, int at, byte[] a, int n) {
        float[] acc = new float[LANES];
        int[] blockLanes = new int[LANES];
        for (int b = 0; b < n / 256; b++) {
            int wb = at + Q6_KFormat.BYTES * b;
            int ab = Q8_KFormat.BYTES * b;
            float d = Half.toFloat(w.getShort(wb + Q6_KFormat.D)) * floatAt(a, ab + Q8_KFormat.D);
            java.util.Arrays.fill(blockLanes, 0);
            for (int half = 0; half < 2; half++) {
                int ql = wb + Q6_KFormat.QL + 64 * half;
                int qh = wb + Q6_KFormat.QH + 32 * half;
                int sc = wb + Q6_KFormat.SCALES + 8 * half;
                int aq = ab + Q8_KFormat.QS + 128 * half;
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int h = w.get(qh + l) & 0xff;
                    int lo = w.get(ql + l) & 0xff;
                    int hi = w.get(ql + 32 + l) & 0xff;
                    int q1 = ((lo & 0xf) | ((h & 3) << 4)) - 32;
                    int q2 = ((hi & 0xf) | (((h >> 2) & 3) << 4)) - 32;
                    int q3 = ((lo >> 4) | (((h >> 4) & 3) << 4)) - 32;
                    int q4 = ((hi >> 4) | (((h >> 6) & 3) << 4)) - 32;
                    blockLanes[l & 7] += w.get(sc + is) * (q1 * a[aq + l]) + w.get(sc + is + 2) * (q2 * a[aq + 32 + l])
                            + w.get(sc + is + 4) * (q3 * a[aq + 64 + l]) + w.get(sc + is + 6) * (q4 * a[aq + 96 + l]);
                }
            }
            for (int l = 0; l < LANES; l++) {
                acc[l] += blockLanes[l] * d;
            }
        }
        return sumLanes(acc);
    }

    // ---- float mode: dequantized weight times float activation ----

    static float f32xF32(ByteBuffer w, int at, float[] x, int n) {
        float[] acc = new float[LANES];
        for (int i = 0; i < n; i++) {
            acc[i & 7] += w.getFloat(at + 4 * i) * x[i];
        }
        return sumLanes(acc);
    }

    static float f16xF32(ByteBuffer w, int at, float[] x, int n) {
        float[] acc = new float[LANES];
        for (int i = 0; i < n; i++) {
            acc[i & 7] += Half.toFloat(w.getShort(at + 2 * i)) * x[i];
        }
        return sumLanes(acc);
    }

    static float bf16xF32(ByteBuffer w, int at, float[] x, int n) {
        float[] acc = new float[LANES];
        for (int i = 0; i < n; i++) {
            acc[i & 7] += BFloat16.toFloat(w.getShort(at + 2 * i)) * x[i];
        }
        return sumLanes(acc);
    }

    static float q4_0xF32(ByteBuffer w, int at, float[] x, int n) {
        float[] acc = new float[LANES];
        for (int b = 0; b < n / 32; b++) {
            int wb = at + Q4_0Format.BYTES * b;
            float d = Half.toFloat(w.getShort(wb));
            for (int j = 0; j < 16; j++) {
                int q = w.get(wb + Q4_0Format.QS + j) & 0xff;
                acc[j & 7] += ((q & 0xf) - 8) * d * x[32 * b + j];
            }
            for (int j = 0; j < 16; j++) {
                int q = w.get(wb + Q4_0Format.QS + j) & 0xff;
                acc[j & 7] += ((q >>> 4) - 8) * d * x[32 * b + 16 + j];
            }
        }
        return sumLanes(acc);
    }

    static float q4_1xF32(ByteBuffer w, int at, float[] x, int n) {
        float[] acc = new float[LANES];
        for (int b = 0; b < n / 32; b++) {
            int wb = at + Q4_1Format.BYTES * b;
            float d = Half.toFloat(w.getShort(wb));
            float m = Half.toFloat(w.getShort(wb + Q4_1Format.M));
            for (int j = 0; j < 16; j++) {
                int q = w.get(wb + Q4_1Format.QS + j) & 0xff;
                acc[j & 7] += ((q & 0xf) * d + m) * x[32 * b + j];
            }
            for (int j = 0; j < 16; j++) {
                int q = w.get(wb + Q4_1Format.QS + j) & 0xff;
                acc[j & 7] += ((q >>> 4) * d + m) * x[32 * b + 16 + j];
            }
        }
        return sumLanes(acc);
    }

    static float q8_0xF32(ByteBuffer w, int at, float[] x, int n) {
        float[] acc = new float[LANES];
        for (int b = 0; b < n / 32; b++) {
            int wb = at + Q8_0Format.BYTES * b;
            float d = Half.toFloat(w.getShort(wb));
            for (int j = 0; j < 32; j++) {
                acc[j & 7] += w.get(wb + Q8_0Format.QS + j) * d * x[32 * b + j];
            }
        }
        return sumLanes(acc);
    }

    static float q4_KxF32(ByteBuffer w, int at, float[] x, int n) {
        float[] acc = new float[LANES];
        for (int b = 0; b < n / 256; b++) {
            int wb = at + Q4_KFormat.BYTES * b;
            float d = Half.toFloat(w.getShort(wb));
            float dmin = Half.toFloat(w.getShort(wb + Q4_KFormat.DMIN));
            for (int quarter = 0; quarter < 4; quarter++) {
                float d1 = d * Q4_KFormat.scale(w, wb + Q4_KFormat.SCALES, 2 * quarter);
                float m1 = dmin * Q4_KFormat.min(w, wb + Q4_KFormat.SCALES, 2 * quarter);
                float d2 = d * Q4_KFormat.scale(w, wb + Q4_KFormat.SCALES, 2 * quarter + 1);
                float m2 = dmin * Q4_KFormat.min(w, wb + Q4_KFormat.SCALES, 2 * quarter + 1);
                int qs = wb + Q4_KFormat.QS + 32 * quarter;
                int xq = 256 * b + 64 * quarter;
                for (int l = 0; l < 32; l++) {
                    acc[l & 7] += (d1 * (w.get(qs + l) & 0xf) - m1) * x[xq + l];
                }
                for (int l = 0; l < 32; l++) {
                    acc[l & 7] += (d2 * ((w.get(qs + l) & 0xff) >>> 4) - m2) * x[xq + 32 + l];
                }
            }
        }
        return sumLanes(acc);
    }

    static float q6_KxF32(ByteBuffer w, int at, float[] x, int n) {
        float[] acc = new float[LANES];
        for (int b = 0; b < n / 256; b++) {
            int wb = at + Q6_KFormat.BYTES * b;
            float d = Half.toFloat(w.getShort(wb + Q6_KFormat.D));
            for (int half = 0; half < 2; half++) {
                int ql = wb + Q6_KFormat.QL + 64 * half;
                int qh = wb + Q6_KFormat.QH + 32 * half;
                int sc = wb + Q6_KFormat.SCALES + 8 * half;
                int xq = 256 * b + 128 * half;
                for (int k = 0; k < 4; k++) {
                    for (int l = 0; l < 32; l++) {
                        int qlByte = w.get(ql + l + ((k & 1) << 5)) & 0xff;
                        int low = k < 2 ? qlByte & 0xf : qlByte >> 4;
                        int high = ((w.get(qh + l) & 0xff) >> (2 * k)) & 3;
                        int q = (low | (high << 4)) - 32;
                        float dsc = d * w.get(sc + l / 16 + 2 * k);
                        acc[l & 7] += dsc * q * x[xq + 32 * k + l];
                    }
                }
            }
        }
        return sumLanes(acc);
    }

    static short shortAt(byte[] a, int i) {
        return (short) ((a[i] & 0xff) | (a[i + 1] << 8));
    }

    static float floatAt(byte[] a, int i) {
        return Float.intBitsToFloat((a[i] & 0xff) | (a[i + 1] & 0xff) << 8 | (a[i + 2] & 0xff) << 16 | a[i + 3] << 24);
    }
}
