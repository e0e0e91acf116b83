package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import org.popsolutions.spanker.ggml.quant.BFloat16;
import org.popsolutions.spanker.ggml.quant.Half;
import org.popsolutions.spanker.ggml.quant.Q4_KFormat;
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
        int n = a.length();
        if (a.isQuantized()) {
            byte[] q = a.quantized();
            return switch (a.weightType()) {
                case Q4_0 -> q4_0xQ8_0(w, at, q, n);
                case Q4_1 -> q4_1xQ8_1(w, at, q, n);
                case Q8_0 -> q8_0xQ8_0(w, at, q, n);
                case Q4_K -> q4_KxQ8_K(w, at, q, n);
                case Q6_K -> q6_KxQ8_K(w, at, q, n);
                default -> throw new IllegalArgumentException("no quantized dot for " + a.weightType());
            };
        }
        float[] x = a.floats();
        return switch (a.weightType()) {
            case F32 -> f32xF32(w, at, x, n);
            case F16 -> f16xF32(w, at, x, n);
            case BF16 -> bf16xF32(w, at, x, n);
            case Q4_0 -> q4_0xF32(w, at, x, n);
            case Q4_1 -> q4_1xF32(w, at, x, n);
            case Q8_0 -> q8_0xF32(w, at, x, n);
            case Q4_K -> q4_KxF32(w, at, x, n);
            case Q6_K -> q6_KxF32(w, at, x, n);
            default -> throw new IllegalArgumentException("no float dot for " + a.weightType());
        };
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
            int wb = at + 18 * b;
            int ab = 34 * b;
            float scale = Half.toFloat(w.getShort(wb)) * Half.toFloat(shortAt(a, ab));
            java.util.Arrays.fill(part, 0);
            for (int j = 0; j < 16; j++) {
                int q = w.get(wb + 2 + j) & 0xff;
                part[j & 7] += ((q & 0xf) - 8) * a[ab + 2 + j] + ((q >>> 4) - 8) * a[ab + 2 + 16 + j];
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
            int wb = at + 20 * b;
            int ab = 36 * b;
            float scale = Half.toFloat(w.getShort(wb)) * Half.toFloat(shortAt(a, ab));
            minTerms += Half.toFloat(w.getShort(wb + 2)) * Half.toFloat(shortAt(a, ab + 2));
            java.util.Arrays.fill(part, 0);
            for (int j = 0; j < 16; j++) {
                int q = w.get(wb + 4 + j) & 0xff;
                part[j & 7] += (q & 0xf) * a[ab + 4 + j] + (q >>> 4) * a[ab + 4 + 16 + j];
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
            int wb = at + 34 * b;
            int ab = 34 * b;
            float scale = Half.toFloat(w.getShort(wb)) * Half.toFloat(shortAt(a, ab));
            java.util.Arrays.fill(part, 0);
            for (int j = 0; j < 32; j++) {
                part[j & 7] += w.get(wb + 2 + j) * a[ab + 2 + j];
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
            int wb = at + 144 * b;
            int ab = 292 * b;
            float da = floatAt(a, ab);
            float d = Half.toFloat(w.getShort(wb)) * da;
            float dmin = Half.toFloat(w.getShort(wb + 2)) * da;
            int mins = 0;
            for (int j = 0; j < 8; j++) {
                mins += Q4_KFormat.min(w, wb + 4, j)
                        * (shortAt(a, ab + Q8_KFormat.BSUMS + 4 * j) + shortAt(a, ab + Q8_KFormat.BSUMS + 4 * j + 2));
            }
            java.util.Arrays.fill(blockLanes, 0);
            for (int quarter = 0; quarter < 4; quarter++) {
                java.util.Arrays.fill(lo, 0);
                java.util.Arrays.fill(hi, 0);
                int qs = wb + 16 + 32 * quarter;
                int aq = ab + Q8_KFormat.QS + 64 * quarter;
                for (int l = 0; l < 32; l++) {
                    int q = w.get(qs + l) & 0xff;
                    lo[l & 7] += (q & 0xf) * a[aq + l];
                    hi[l & 7] += (q >>> 4) * a[aq + 32 + l];
                }
                int sc1 = Q4_KFormat.scale(w, wb + 4, 2 * quarter);
                int sc2 = Q4_KFormat.scale(w, wb + 4, 2 * quarter + 1);
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
            int wb = at + 210 * b;
            int ab = 292 * b;
            float d = Half.toFloat(w.getShort(wb + 208)) * floatAt(a, ab);
            java.util.Arrays.fill(blockLanes, 0);
            for (int half = 0; half < 2; half++) {
                int ql = wb + 64 * half;
                int qh = wb + 128 + 32 * half;
                int sc = wb + 192 + 8 * half;
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
            int wb = at + 18 * b;
            float d = Half.toFloat(w.getShort(wb));
            for (int j = 0; j < 16; j++) {
                int q = w.get(wb + 2 + j) & 0xff;
                acc[j & 7] += ((q & 0xf) - 8) * d * x[32 * b + j];
            }
            for (int j = 0; j < 16; j++) {
                int q = w.get(wb + 2 + j) & 0xff;
                acc[j & 7] += ((q >>> 4) - 8) * d * x[32 * b + 16 + j];
            }
        }
        return sumLanes(acc);
    }

    static float q4_1xF32(ByteBuffer w, int at, float[] x, int n) {
        float[] acc = new float[LANES];
        for (int b = 0; b < n / 32; b++) {
            int wb = at + 20 * b;
            float d = Half.toFloat(w.getShort(wb));
            float m = Half.toFloat(w.getShort(wb + 2));
            for (int j = 0; j < 16; j++) {
                int q = w.get(wb + 4 + j) & 0xff;
                acc[j & 7] += ((q & 0xf) * d + m) * x[32 * b + j];
            }
            for (int j = 0; j < 16; j++) {
                int q = w.get(wb + 4 + j) & 0xff;
                acc[j & 7] += ((q >>> 4) * d + m) * x[32 * b + 16 + j];
            }
        }
        return sumLanes(acc);
    }

    static float q8_0xF32(ByteBuffer w, int at, float[] x, int n) {
        float[] acc = new float[LANES];
        for (int b = 0; b < n / 32; b++) {
            int wb = at + 34 * b;
            float d = Half.toFloat(w.getShort(wb));
            for (int j = 0; j < 32; j++) {
                acc[j & 7] += w.get(wb + 2 + j) * d * x[32 * b + j];
            }
        }
        return sumLanes(acc);
    }

    static float q4_KxF32(ByteBuffer w, int at, float[] x, int n) {
        float[] acc = new float[LANES];
        for (int b = 0; b < n / 256; b++) {
            int wb = at + 144 * b;
            float d = Half.toFloat(w.getShort(wb));
            float dmin = Half.toFloat(w.getShort(wb + 2));
            for (int quarter = 0; quarter < 4; quarter++) {
                float d1 = d * Q4_KFormat.scale(w, wb + 4, 2 * quarter);
                float m1 = dmin * Q4_KFormat.min(w, wb + 4, 2 * quarter);
                float d2 = d * Q4_KFormat.scale(w, wb + 4, 2 * quarter + 1);
                float m2 = dmin * Q4_KFormat.min(w, wb + 4, 2 * quarter + 1);
                int qs = wb + 16 + 32 * quarter;
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
            int wb = at + 210 * b;
            float d = Half.toFloat(w.getShort(wb + 208));
            for (int half = 0; half < 2; half++) {
                int ql = wb + 64 * half;
                int qh = wb + 128 + 32 * half;
                int sc = wb + 192 + 8 * half;
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
