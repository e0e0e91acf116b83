/*
 * Row dot products of ggml weight blocks with a prepared activation, AVX2 + FMA + F16C, called through JNI by
 * org.popsolutions.spanker.kernels.avx2.NativeKernels. Written for this project from the published block layouts
 * (the layout constants below mirror the Java traits table); the file is compiled WITHOUT -mavx2 so that the
 * CPU check runs on any x86-64, and only the kernels carry the AVX2 target.
 *
 * Integer parts are exact (products of quants summed in 16/32-bit lanes with no saturation for the inputs the
 * Java side sends); the float accumulation order differs from the scalar reference (FMA, several
 * accumulators), within the tolerance the tests check: |fast - reference| <= 1e-5 * sum|w*a|.
 */
#include <jni.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

/* ggml type ids (GgmlType.id) */
enum { T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q4_1 = 3, T_Q8_0 = 8, T_Q4_K = 12, T_Q6_K = 14, T_BF16 = 30 };

/* block layouts: bytes per block and byte offsets of each field */
enum {
    Q4_0_BYTES = 18, Q4_0_D = 0, Q4_0_QS = 2,
    Q4_1_BYTES = 20, Q4_1_D = 0, Q4_1_M = 2, Q4_1_QS = 4,
    Q8_0_BYTES = 34, Q8_0_D = 0, Q8_0_QS = 2,
    Q8_1_BYTES = 36, Q8_1_D = 0, Q8_1_S = 2, Q8_1_QS = 4,
    Q4_K_BYTES = 144, Q4_K_D = 0, Q4_K_DMIN = 2, Q4_K_SCALES = 4, Q4_K_QS = 16,
    Q6_K_BYTES = 210, Q6_K_QL = 0, Q6_K_QH = 128, Q6_K_SCALES = 192, Q6_K_D = 208,
    Q8_K_BYTES = 292, Q8_K_D = 0, Q8_K_QS = 4, Q8_K_BSUMS = 260
};

static int cpu_has_avx2_fma_f16c(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>

static inline uint16_t u16_at(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline int16_t i16_at(const uint8_t *p) { int16_t v; memcpy(&v, p, 2); return v; }
static inline float f32_at(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }
static inline float half(const uint8_t *p) { return _cvtsh_ss(u16_at(p)); }

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* 16 nibble bytes to 32 bytes: the low nibbles first (values 0..15), then the high ones (values 16..31) */
static inline __m256i nibbles(const uint8_t *p) {
    __m128i q = _mm_loadu_si128((const __m128i *) p);
    __m128i m = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}

static inline __m256i sum_pairs16(__m256i p) { return _mm256_madd_epi16(p, _mm256_set1_epi16(1)); }

/* Q4_1 x Q8_1: d_w d_a sum q a + m s */
static float dot_q4_1(const uint8_t *w, const uint8_t *a, int blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins = 0;
    for (int b = 0; b < blocks; b++) {
        const uint8_t *wb = w + (size_t) b * Q4_1_BYTES, *ab = a + (size_t) b * Q8_1_BYTES;
        __m256i p = sum_pairs16(_mm256_maddubs_epi16(nibbles(wb + Q4_1_QS), _mm256_loadu_si256((const __m256i *) (ab + Q8_1_QS))));
        __m256 s = _mm256_set1_ps(half(wb + Q4_1_D) * half(ab + Q8_1_D));
        if (b & 1) {
            acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), s, acc1);
        } else {
            acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), s, acc0);
        }
        mins += half(wb + Q4_1_M) * half(ab + Q8_1_S);
    }
    return hsum(_mm256_add_ps(acc0, acc1)) + mins;
}

/*
 * Q8_0 x Q8_0 with the sign trick (|w| unsigned times a with w's sign): exact when no activation value is -128,
 * which the Java side guarantees before calling (ggml's quantizers never produce it).
 */
static float dot_q8_0(const uint8_t *w, const uint8_t *a, int blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int b = 0;
    for (; b + 1 < blocks; b += 2) {
        const uint8_t *w0 = w + (size_t) b * Q8_0_BYTES, *w1 = w0 + Q8_0_BYTES;
        const uint8_t *a0 = a + (size_t) b * Q8_0_BYTES, *a1 = a0 + Q8_0_BYTES;
        __m256i x0 = _mm256_loadu_si256((const __m256i *) (w0 + Q8_0_QS));
        __m256i y0 = _mm256_loadu_si256((const __m256i *) (a0 + Q8_0_QS));
        __m256i x1 = _mm256_loadu_si256((const __m256i *) (w1 + Q8_0_QS));
        __m256i y1 = _mm256_loadu_si256((const __m256i *) (a1 + Q8_0_QS));
        __m256i p0 = sum_pairs16(_mm256_maddubs_epi16(_mm256_sign_epi8(x0, x0), _mm256_sign_epi8(y0, x0)));
        __m256i p1 = sum_pairs16(_mm256_maddubs_epi16(_mm256_sign_epi8(x1, x1), _mm256_sign_epi8(y1, x1)));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(half(w0 + Q8_0_D) * half(a0 + Q8_0_D)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(half(w1 + Q8_0_D) * half(a1 + Q8_0_D)), acc1);
    }
    for (; b < blocks; b++) {
        const uint8_t *w0 = w + (size_t) b * Q8_0_BYTES, *a0 = a + (size_t) b * Q8_0_BYTES;
        __m256i x0 = _mm256_loadu_si256((const __m256i *) (w0 + Q8_0_QS));
        __m256i y0 = _mm256_loadu_si256((const __m256i *) (a0 + Q8_0_QS));
        __m256i p0 = sum_pairs16(_mm256_maddubs_epi16(_mm256_sign_epi8(x0, x0), _mm256_sign_epi8(y0, x0)));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(half(w0 + Q8_0_D) * half(a0 + Q8_0_D)), acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

/* ggml's get_scale_min_k4: eight 6-bit scales and eight 6-bit mins from the 12 packed bytes */
static inline void q4_k_scales(const uint8_t *s, uint8_t *sc, uint8_t *mn) {
    for (int j = 0; j < 4; j++) {
        sc[j] = s[j] & 63;
        mn[j] = s[j + 4] & 63;
    }
    for (int j = 4; j < 8; j++) {
        sc[j] = (s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4);
        mn[j] = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* Q4_K x Q8_K: d sum_j sc_j sum q a - dmin sum_j m_j bsum_j */
static float dot_q4_K(const uint8_t *w, const uint8_t *a, int blocks) {
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    const __m256i low = _mm256_set1_epi8(0x0f);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *wb = w + (size_t) b * Q4_K_BYTES, *ab = a + (size_t) b * Q8_K_BYTES;
        float da = f32_at(ab + Q8_K_D);
        uint8_t sc[8], mn[8];
        q4_k_scales(wb + Q4_K_SCALES, sc, mn);
        int summ = 0;
        for (int j = 0; j < 8; j++) {
            summ += mn[j] * (i16_at(ab + Q8_K_BSUMS + 4 * j) + i16_at(ab + Q8_K_BSUMS + 4 * j + 2));
        }
        __m256i sumi0 = _mm256_setzero_si256(), sumi1 = _mm256_setzero_si256();
        for (int q = 0; q < 4; q++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *) (wb + Q4_K_QS + 32 * q));
            __m256i lo = _mm256_and_si256(bytes, low);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low);
            const uint8_t *aq = ab + Q8_K_QS + 64 * q;
            __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *) aq));
            __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *) (aq + 32)));
            sumi0 = _mm256_add_epi32(sumi0, _mm256_madd_epi16(plo, _mm256_set1_epi16(sc[2 * q])));
            sumi1 = _mm256_add_epi32(sumi1, _mm256_madd_epi16(phi, _mm256_set1_epi16(sc[2 * q + 1])));
        }
        float d = half(wb + Q4_K_D) * da;
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(sumi0, sumi1)), _mm256_set1_ps(d), acc);
        mins += half(wb + Q4_K_DMIN) * da * summ;
    }
    return hsum(acc) - mins;
}

/*
 * Q6_K x Q8_K: d sum_j sc_j (sum q a - 32 sum_j a), q the 6-bit unsigned level; sums16 holds the sums of every
 * 16 activation values (computed from the values, so the result never depends on the bsums field)
 */
static float dot_q6_K(const uint8_t *w, const uint8_t *a, int blocks, const int32_t *sums16) {
    __m256 acc = _mm256_setzero_ps();
    float offsets = 0;
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i two = _mm256_set1_epi8(0x30);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *wb = w + (size_t) b * Q6_K_BYTES, *ab = a + (size_t) b * Q8_K_BYTES;
        const int8_t *sc = (const int8_t *) (wb + Q6_K_SCALES);
        int offset = 0;
        for (int j = 0; j < 16; j++) {
            offset += sc[j] * sums16[16 * b + j];
        }
        __m256i sumi0 = _mm256_setzero_si256(), sumi1 = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *) (wb + Q6_K_QL + 64 * h));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *) (wb + Q6_K_QL + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *) (wb + Q6_K_QH + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low), _mm256_and_si256(_mm256_slli_epi16(qh, 4), two));
            q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low), _mm256_and_si256(_mm256_slli_epi16(qh, 2), two));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low), _mm256_and_si256(qh, two));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), two));
            const uint8_t *aq = ab + Q8_K_QS + 128 * h;
            for (int k = 0; k < 4; k++) {
                __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *) (aq + 32 * k)));
                /* 16-bit lanes 0..7 hold values 0..15 of these 32 (scale 2k), lanes 8..15 values 16..31 (2k+1) */
                __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[8 * h + 2 * k + 1]), _mm_set1_epi16(sc[8 * h + 2 * k]));
                if (k & 1) {
                    sumi1 = _mm256_add_epi32(sumi1, _mm256_madd_epi16(p, s));
                } else {
                    sumi0 = _mm256_add_epi32(sumi0, _mm256_madd_epi16(p, s));
                }
            }
        }
        float d = half(wb + Q6_K_D) * f32_at(ab + Q8_K_D);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(sumi0, sumi1)), _mm256_set1_ps(d), acc);
        offsets += d * (32 * offset);
    }
    return hsum(acc) - offsets;
}

/* float rows: four accumulators of eight lanes, FMA; the tail (n mod 8) in scalar code */
#define FLOAT_DOT(NAME, LOAD8, ONE, SIZE)                                                              \
    static float NAME(const uint8_t *w, const float *x, int n) {                                       \
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(),           \
               a3 = _mm256_setzero_ps();                                                               \
        int i = 0;                                                                                     \
        for (; i + 32 <= n; i += 32) {                                                                 \
            a0 = _mm256_fmadd_ps(LOAD8(w + (size_t) SIZE * i), _mm256_loadu_ps(x + i), a0);            \
            a1 = _mm256_fmadd_ps(LOAD8(w + (size_t) SIZE * (i + 8)), _mm256_loadu_ps(x + i + 8), a1);  \
            a2 = _mm256_fmadd_ps(LOAD8(w + (size_t) SIZE * (i + 16)), _mm256_loadu_ps(x + i + 16), a2);\
            a3 = _mm256_fmadd_ps(LOAD8(w + (size_t) SIZE * (i + 24)), _mm256_loadu_ps(x + i + 24), a3);\
        }                                                                                              \
        for (; i + 8 <= n; i += 8) {                                                                   \
            a0 = _mm256_fmadd_ps(LOAD8(w + (size_t) SIZE * i), _mm256_loadu_ps(x + i), a0);            \
        }                                                                                              \
        float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));                   \
        for (; i < n; i++) {                                                                           \
            s += ONE(w + (size_t) SIZE * i) * x[i];                                                    \
        }                                                                                              \
        return s;                                                                                      \
    }

static inline __m256 load_f32(const uint8_t *p) { return _mm256_loadu_ps((const float *) p); }
static inline __m256 load_f16(const uint8_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) p)); }
static inline __m256 load_bf16(const uint8_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *) p)), 16));
}
static inline float one_f32(const uint8_t *p) { return f32_at(p); }
static inline float one_f16(const uint8_t *p) { return half(p); }
static inline float one_bf16(const uint8_t *p) {
    uint32_t bits = (uint32_t) u16_at(p) << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

FLOAT_DOT(dot_f32, load_f32, one_f32, 4)
FLOAT_DOT(dot_f16, load_f16, one_f16, 2)
FLOAT_DOT(dot_bf16, load_bf16, one_bf16, 2)

/*
 * Sums of consecutive groups of `group` activation values, `per` groups per block of `blockBytes` with the
 * values at `valuesAt`: Q6_K's offset.
 */
static void value_sums(const uint8_t *a, int blocks, int blockBytes, int valuesAt, int per, int group, int32_t *out) {
    for (int b = 0; b < blocks; b++) {
        const int8_t *q = (const int8_t *) (a + (size_t) b * blockBytes + valuesAt);
        for (int g = 0; g < per; g++) {
            int s = 0;
            for (int j = 0; j < group; j++) {
                s += q[group * g + j];
            }
            out[per * b + g] = s;
        }
    }
}

static int q4_0_rows(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, long stride, int n, int vectors,
                     float *out, long ostride);

/* rows [0, rows) of rowBytes each from w; returns 0, or -1 for a type this library does not handle */
static int dot_rows(int type, const uint8_t *w, long rowBytes, int rows, const uint8_t *act, const float *x, int n,
                    float *out) {
    switch (type) {
    case T_Q4_0:
        return q4_0_rows(w, rowBytes, rows, act, Q8_0_BYTES * (long) (n / 32), n, 1, out, rows);
    case T_Q6_K: {
        int blocks = n / 256;
        size_t count = (size_t) blocks * 16;
        int32_t stack[1024];
        int32_t *sums = count <= 1024 ? stack : malloc(sizeof(int32_t) * count);
        if (sums == NULL) {
            return -2;
        }
        value_sums(act, blocks, Q8_K_BYTES, Q8_K_QS, 16, 16, sums);
        for (int r = 0; r < rows; r++) out[r] = dot_q6_K(w + r * rowBytes, act, blocks, sums);
        if (sums != stack) {
            free(sums);
        }
        return 0;
    }
    case T_Q4_1:
        for (int r = 0; r < rows; r++) out[r] = dot_q4_1(w + r * rowBytes, act, n / 32);
        return 0;
    case T_Q8_0:
        for (int r = 0; r < rows; r++) out[r] = dot_q8_0(w + r * rowBytes, act, n / 32);
        return 0;
    case T_Q4_K:
        for (int r = 0; r < rows; r++) out[r] = dot_q4_K(w + r * rowBytes, act, n / 256);
        return 0;
    case T_F32:
        for (int r = 0; r < rows; r++) out[r] = dot_f32(w + r * rowBytes, x, n);
        return 0;
    case T_F16:
        for (int r = 0; r < rows; r++) out[r] = dot_f16(w + r * rowBytes, x, n);
        return 0;
    case T_BF16:
        for (int r = 0; r < rows; r++) out[r] = dot_bf16(w + r * rowBytes, x, n);
        return 0;
    default:
        return -1;
    }
}

/*
 * ---- Matrix-matrix tiles: one weight row against up to TILE vectors ----
 *
 * A prompt's products multiply every weight row with many activation vectors. Here each weight block is loaded and
 * unpacked once per row and used against TILE vectors whose blocks stay in L1/L2; the per-vector block data (scale as
 * float, Q4_0's value sum) is computed once per call instead of once per row. Every (row, vector) result is
 * computed with exactly the operations and accumulators of the row kernel above, in the same order, so a batched
 * product equals the vector-by-vector one bit for bit (Q4_0: eight rows at a time below, and a matrix-matrix kernel
 * of 32 rows from four vectors on whose integer sums are the same and whose float operations are the same).
 */
#define TILE 4

/* per vector and block: the activation scale as a float and (Q4_0) the block's value sum */
static void vector_blocks(const uint8_t *act, long stride, int vectors, int blocks, float *scale, int32_t *sum) {
    for (int v = 0; v < vectors; v++) {
        const uint8_t *a = act + (size_t) v * stride;
        for (int b = 0; b < blocks; b++) {
            const uint8_t *ab = a + (size_t) b * Q8_0_BYTES;
            scale[(size_t) v * blocks + b] = half(ab + Q8_0_D);
            if (sum != NULL) {
                /* the 32 values' sum with three vector operations: a call per thread's chunk of rows pays this per
                 * block, which a scalar loop made a few per cent of a two-thread decode step */
                __m256i q = _mm256_loadu_si256((const __m256i *) (ab + Q8_0_QS));
                __m256i pairs = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
                __m256i quads = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
                __m128i s = _mm_add_epi32(_mm256_castsi256_si128(quads), _mm256_extracti128_si256(quads, 1));
                s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
                s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
                sum[(size_t) v * blocks + b] = _mm_cvtsi128_si32(s);
            }
        }
    }
}

static inline __attribute__((always_inline)) void tile_q8_0(const uint8_t *w, const uint8_t *act, long stride,
        int blocks, const float *ascale, float *out, long ostride, const int T) {
    __m256 acc0[TILE], acc1[TILE];
    for (int t = 0; t < T; t++) {
        acc0[t] = _mm256_setzero_ps();
        acc1[t] = _mm256_setzero_ps();
    }
    int b = 0;
    for (; b + 1 < blocks; b += 2) {
        const uint8_t *w0 = w + (size_t) b * Q8_0_BYTES, *w1 = w0 + Q8_0_BYTES;
        __m256i x0 = _mm256_loadu_si256((const __m256i *) (w0 + Q8_0_QS));
        __m256i x1 = _mm256_loadu_si256((const __m256i *) (w1 + Q8_0_QS));
        __m256i u0 = _mm256_sign_epi8(x0, x0), u1 = _mm256_sign_epi8(x1, x1);
        float d0 = half(w0 + Q8_0_D), d1 = half(w1 + Q8_0_D);
        for (int t = 0; t < T; t++) {
            const uint8_t *a0 = act + (size_t) t * stride + (size_t) b * Q8_0_BYTES, *a1 = a0 + Q8_0_BYTES;
            size_t at = (size_t) t * blocks + b;
            __m256i y0 = _mm256_loadu_si256((const __m256i *) (a0 + Q8_0_QS));
            __m256i y1 = _mm256_loadu_si256((const __m256i *) (a1 + Q8_0_QS));
            __m256i p0 = sum_pairs16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(y0, x0)));
            __m256i p1 = sum_pairs16(_mm256_maddubs_epi16(u1, _mm256_sign_epi8(y1, x1)));
            acc0[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(d0 * ascale[at]), acc0[t]);
            acc1[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(d1 * ascale[at + 1]), acc1[t]);
        }
    }
    for (; b < blocks; b++) {
        const uint8_t *w0 = w + (size_t) b * Q8_0_BYTES;
        __m256i x0 = _mm256_loadu_si256((const __m256i *) (w0 + Q8_0_QS));
        __m256i u0 = _mm256_sign_epi8(x0, x0);
        float d0 = half(w0 + Q8_0_D);
        for (int t = 0; t < T; t++) {
            const uint8_t *a0 = act + (size_t) t * stride + (size_t) b * Q8_0_BYTES;
            size_t at = (size_t) t * blocks + b;
            __m256i y0 = _mm256_loadu_si256((const __m256i *) (a0 + Q8_0_QS));
            __m256i p0 = sum_pairs16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(y0, x0)));
            acc0[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(d0 * ascale[at]), acc0[t]);
        }
    }
    for (int t = 0; t < T; t++) {
        out[(size_t) t * ostride] = hsum(_mm256_add_ps(acc0[t], acc1[t]));
    }
}

/*
 * Q4_0, eight rows at a time: the rows' quants are first regrouped ("packed") so that one 256-bit register holds
 * four consecutive quant bytes of each of the eight rows (32-bit lane r = row r). A maddubs against the matching
 * four activation bytes, broadcast to every lane, then multiplies all eight rows at once, and the block's eight
 * such products add up in 16-bit lanes (|sum| <= 8 * 2 * 15 * 128 < 2^15) before one madd: lane r ends with row r's
 * block sum, so no horizontal sum is needed and eight results are stored at once. The packing (and the rows'
 * scales as floats) is done once per eight rows and reused by every vector of the call; the vectors go four at a
 * time (four float accumulators, eight weight registers). Byte j of a Q4_0 row holds value j (low nibble) and
 * value j + 16 (high nibble), so group c (bytes 4c..4c+3) pairs with activation values 4c..4c+3 and 16+4c..19+4c.
 * Matrix-vector products use it too (one vector), so a row's result is the same however many vectors there are.
 */
#define ROWS8 8
#define VEC8 4

/* blocks of eight rows regrouped: per block 4 x 32 bytes (group c, lane r = bytes 4c..4c+3 of row r), scales as floats */
static void pack_q4_0_rows8(const uint8_t *const row[ROWS8], int blocks, uint8_t *packed, float *scales,
                            const uint8_t *next, size_t nextBytes) {
    /* the next group's bytes (one contiguous range), fetched a little per block while this group is packed: eight
     * rows read side by side are eight short streams, which the hardware prefetcher picks up too late for the
     * narrow matrices of a decode step (2048 columns: 1152 bytes a row) */
    size_t ahead = next == NULL ? 0 : (nextBytes + blocks - 1) / blocks;
    for (int b = 0; b < blocks; b++) {
        size_t o = (size_t) b * Q4_0_BYTES;
        for (size_t p = 0; p < ahead; p += 64) {
            _mm_prefetch((const char *) next + b * ahead + p, _MM_HINT_T0);
        }
#define PAIR(i) _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *) (row[i] + o + Q4_0_QS))), \
                                        _mm_loadu_si128((const __m128i *) (row[(i) + 4] + o + Q4_0_QS)), 1)
        __m256i r0 = PAIR(0), r1 = PAIR(1), r2 = PAIR(2), r3 = PAIR(3);
#undef PAIR
        /* a 4 x 4 transpose of 32-bit groups in each 128-bit half: rows 0-3 low, rows 4-7 high */
        __m256i t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpacklo_epi32(r2, r3);
        __m256i t2 = _mm256_unpackhi_epi32(r0, r1), t3 = _mm256_unpackhi_epi32(r2, r3);
        uint8_t *pb = packed + (size_t) b * 128;
        _mm256_storeu_si256((__m256i *) pb, _mm256_unpacklo_epi64(t0, t1));
        _mm256_storeu_si256((__m256i *) (pb + 32), _mm256_unpackhi_epi64(t0, t1));
        _mm256_storeu_si256((__m256i *) (pb + 64), _mm256_unpacklo_epi64(t2, t3));
        _mm256_storeu_si256((__m256i *) (pb + 96), _mm256_unpackhi_epi64(t2, t3));
        __m128i h = _mm_setr_epi16(i16_at(row[0] + o), i16_at(row[1] + o), i16_at(row[2] + o), i16_at(row[3] + o),
                                   i16_at(row[4] + o), i16_at(row[5] + o), i16_at(row[6] + o), i16_at(row[7] + o));
        _mm256_storeu_ps(scales + (size_t) b * ROWS8, _mm256_cvtph_ps(h));
    }
}

static inline __attribute__((always_inline)) void rows8_q4_0(const uint8_t *packed, const float *wscale,
        const uint8_t *act, long stride, int blocks, const float *ascale, const int32_t *asum, float *out,
        long ostride, const int T) {
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[VEC8];
    for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        const uint8_t *pb = packed + (size_t) b * 128;
        __m256i lo[4], hi[4];
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *) (pb + 32 * c));
            lo[c] = _mm256_and_si256(q, low);
            hi[c] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
        }
        __m256 ws = _mm256_loadu_ps(wscale + (size_t) b * ROWS8);
        for (int t = 0; t < T; t++) {
            const uint8_t *ab = act + (size_t) t * stride + (size_t) b * Q8_0_BYTES + Q8_0_QS;
            /* four activation bytes broadcast to every lane straight from memory (a load-port broadcast) */
#define A4(k) _mm256_castps_si256(_mm256_broadcast_ss((const float *) (ab + 4 * (k))))
            __m256i s = _mm256_maddubs_epi16(lo[0], A4(0));
            s = _mm256_add_epi16(s, _mm256_maddubs_epi16(lo[1], A4(1)));
            __m256i u = _mm256_maddubs_epi16(lo[2], A4(2));
            u = _mm256_add_epi16(u, _mm256_maddubs_epi16(lo[3], A4(3)));
            s = _mm256_add_epi16(s, _mm256_maddubs_epi16(hi[0], A4(4)));
            u = _mm256_add_epi16(u, _mm256_maddubs_epi16(hi[1], A4(5)));
            s = _mm256_add_epi16(s, _mm256_maddubs_epi16(hi[2], A4(6)));
            u = _mm256_add_epi16(u, _mm256_maddubs_epi16(hi[3], A4(7)));
            s = _mm256_add_epi16(s, u);
#undef A4
            size_t at = (size_t) t * blocks + b;
            __m256i p = _mm256_sub_epi32(_mm256_madd_epi16(s, ones), _mm256_set1_epi32(8 * asum[at]));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(ws, _mm256_set1_ps(ascale[at])), acc[t]);
        }
    }
    for (int t = 0; t < T; t++) {
        _mm256_storeu_ps(out + (size_t) t * ostride, acc[t]);
    }
}

static const uint8_t zero_row[1 << 16];

/*
 * ---- Q4_0 matrix-matrix product (a prompt's vectors): 32 rows against one vector per step ----
 *
 * The eight-row kernel above broadcasts every four activation bytes to multiply one register of eight rows. On this
 * class of core a broadcast costs a vector operation like the multiply itself, so a third of that kernel's work is
 * broadcasting. Here one broadcast serves 32 rows (four registers of eight), and the weights are the multiplies'
 * memory operand: maddubs reads its signed operand from memory, so the weights are packed as signed bytes (quant - 8)
 * and the activation goes unsigned (value + 128, a copy made once per call). The integer block sum is the same:
 * sum (a + 128)(q - 8) = sum a (q - 8) + 128 sum (q - 8), the last term packed per row and block; a pair is at most
 * 2 * 255 * 8 and eight pairs share a 16-bit lane, |sum| <= 32640 < 2^15: exact. Each (row, vector) result is then
 * formed with the eight-row kernel's float operations in its block order (acc = fma(float(sum), d_w * d_a, acc)), so it
 * equals the matrix-vector result bit for bit. The columns go in chunks of GEMM_KC blocks so that a chunk's packed
 * weights (32 rows: 1.3 KB a block) stay in L1 while every vector passes over them; each vector's accumulators wait
 * in the output between chunks.
 */
#define GEMM_ROWS 32
#define GEMM_KC 16
#define GEMM_MIN_VECTORS 4
/* cache lines a row's chunk may touch: GEMM_KC * 18 = 288 bytes from any offset (the last one at its last byte) */
#define GEMM_LINES 6

/* one packed block of 32 rows: per group of eight rows 4 x 32 low-nibble and 4 x 32 high-nibble bytes (quant - 8,
 * lane r = row r), then the 32 rows' offsets 128 * sum (q - 8) as int32, then their scales as floats */
enum { GEMM_OFFSETS = 4 * 256, GEMM_SCALES = GEMM_OFFSETS + 128, GEMM_BLOCK = GEMM_SCALES + 128 };

static void pack_q4_0_gemm(const uint8_t *const row[GEMM_ROWS], int b0, int count, uint8_t *packed) {
    const __m256i low = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
    for (int b = 0; b < count; b++) {
        size_t o = (size_t) (b0 + b) * Q4_0_BYTES;
        uint8_t *pb = packed + (size_t) b * GEMM_BLOCK;
        for (int g = 0; g < 4; g++) {
            const uint8_t *const *r = row + 8 * g;
#define PAIR(i) _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *) (r[i] + o + Q4_0_QS))), \
                                        _mm_loadu_si128((const __m128i *) (r[(i) + 4] + o + Q4_0_QS)), 1)
            __m256i r0 = PAIR(0), r1 = PAIR(1), r2 = PAIR(2), r3 = PAIR(3);
#undef PAIR
            /* the eight-row kernel's transpose: group c holds bytes 4c..4c+3 of each row, lane r = row r */
            __m256i t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpacklo_epi32(r2, r3);
            __m256i t2 = _mm256_unpackhi_epi32(r0, r1), t3 = _mm256_unpackhi_epi32(r2, r3);
            __m256i q[4] = {_mm256_unpacklo_epi64(t0, t1), _mm256_unpackhi_epi64(t0, t1), _mm256_unpacklo_epi64(t2, t3),
                            _mm256_unpackhi_epi64(t2, t3)};
            __m256i sum8 = _mm256_setzero_si256();
            uint8_t *pg = pb + 256 * g;
            for (int c = 0; c < 4; c++) {
                __m256i lo = _mm256_sub_epi8(_mm256_and_si256(q[c], low), eight);
                __m256i hi = _mm256_sub_epi8(_mm256_and_si256(_mm256_srli_epi16(q[c], 4), low), eight);
                _mm256_storeu_si256((__m256i *) (pg + 32 * c), lo);
                _mm256_storeu_si256((__m256i *) (pg + 128 + 32 * c), hi);
                sum8 = _mm256_add_epi8(sum8, _mm256_add_epi8(lo, hi)); /* |8 bytes of -8..7| <= 64: fits a byte */
            }
            __m256i sums = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), sum8), _mm256_set1_epi16(1));
            _mm256_storeu_si256((__m256i *) (pb + GEMM_OFFSETS + 32 * g), _mm256_slli_epi32(sums, 7));
            __m128i h = _mm_setr_epi16(i16_at(r[0] + o), i16_at(r[1] + o), i16_at(r[2] + o), i16_at(r[3] + o),
                                       i16_at(r[4] + o), i16_at(r[5] + o), i16_at(r[6] + o), i16_at(r[7] + o));
            _mm256_storeu_ps((float *) (pb + GEMM_SCALES + 32 * g), _mm256_cvtph_ps(h));
        }
    }
}

/*
 * one vector over one chunk of packed blocks: acc (32 floats, rows in order) continued, or started when first.
 * Compiled with GCC's pre-allocation scheduler, register-pressure aware: without it GCC hoists every multiply of a
 * block ahead of the additions and spills the products to the stack (2/3 of the speed measured on an EPYC).
 */
__attribute__((noinline, optimize("schedule-insns", "sched-pressure")))
static void gemm_q4_0_chunk(const uint8_t *packed, int count, const uint8_t *au, const float *as, float *acc,
                                   int first) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 a0, a1, a2, a3;
    if (first) {
        a0 = a1 = a2 = a3 = _mm256_setzero_ps();
    } else {
        a0 = _mm256_loadu_ps(acc);
        a1 = _mm256_loadu_ps(acc + 8);
        a2 = _mm256_loadu_ps(acc + 16);
        a3 = _mm256_loadu_ps(acc + 24);
    }
    for (int b = 0; b < count; b++) {
        const uint8_t *pb = packed + (size_t) b * GEMM_BLOCK;
        const uint8_t *ab = au + (size_t) b * 32;
        __m256i s0, s1, s2, s3;
#define W(g, at) _mm256_loadu_si256((const __m256i *) (pb + 256 * (g) + (at)))
#define STEP(g, s, c) { __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, W(g, 32 * (c))), \
                                                      _mm256_maddubs_epi16(hi, W(g, 128 + 32 * (c)))); \
                        s = (c) == 0 ? p : _mm256_add_epi16(s, p); }
        for (int c = 0; c < 4; c++) {
            __m256i lo = _mm256_castps_si256(_mm256_broadcast_ss((const float *) (ab + 4 * c)));
            __m256i hi = _mm256_castps_si256(_mm256_broadcast_ss((const float *) (ab + 16 + 4 * c)));
            STEP(0, s0, c) STEP(1, s1, c) STEP(2, s2, c) STEP(3, s3, c)
        }
#undef STEP
#undef W
        __m256 d = _mm256_set1_ps(as[b]);
#define ACC(g, s, a) { __m256i p = _mm256_sub_epi32(_mm256_madd_epi16(s, ones), \
                                                    _mm256_loadu_si256((const __m256i *) (pb + GEMM_OFFSETS + 32 * (g)))); \
                       __m256 ws = _mm256_loadu_ps((const float *) (pb + GEMM_SCALES + 32 * (g))); \
                       a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(ws, d), a); }
        ACC(0, s0, a0) ACC(1, s1, a1) ACC(2, s2, a2) ACC(3, s3, a3)
#undef ACC
    }
    _mm256_storeu_ps(acc, a0);
    _mm256_storeu_ps(acc + 8, a1);
    _mm256_storeu_ps(acc + 16, a2);
    _mm256_storeu_ps(acc + 24, a3);
}

/* a thread's scratch for the matrix-matrix product, kept between calls (a prompt pass calls it for every matrix) */
static __thread uint8_t *gemm_scratch;
static __thread size_t gemm_scratch_bytes;

static void *gemm_buffer(size_t bytes) {
    if (bytes > gemm_scratch_bytes) {
        free(gemm_scratch);
        size_t size = (bytes + 4095) & ~(size_t) 4095;
        gemm_scratch = aligned_alloc(64, size);
        gemm_scratch_bytes = gemm_scratch == NULL ? 0 : size;
    }
    return gemm_scratch;
}

static int q4_0_gemm(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, long stride, int n, int vectors,
                     float *out, long ostride) {
    int blocks = n / 32;
    size_t quants = (size_t) vectors * blocks * 32, scales = (size_t) vectors * blocks * sizeof(float);
    size_t part = (size_t) vectors * GEMM_ROWS * sizeof(float);
    uint8_t *scratch = gemm_buffer(quants + scales + part);
    int tail = rows % GEMM_ROWS != 0 && rowBytes > (long) sizeof zero_row;
    uint8_t *zeros = tail ? calloc(1, rowBytes) : (uint8_t *) zero_row;
    if (scratch == NULL || zeros == NULL) {
        if (zeros != NULL && zeros != zero_row) free(zeros);
        return -2;
    }
    uint8_t *au = scratch;
    float *as = (float *) (scratch + quants);
    float *partial = (float *) (scratch + quants + scales);
    const __m256i flip = _mm256_set1_epi8((char) 0x80);
    for (int v = 0; v < vectors; v++) {
        for (int b = 0; b < blocks; b++) {
            const uint8_t *ab = act + (size_t) v * stride + (size_t) b * Q8_0_BYTES;
            __m256i q = _mm256_loadu_si256((const __m256i *) (ab + Q8_0_QS));
            _mm256_store_si256((__m256i *) (au + ((size_t) v * blocks + b) * 32), _mm256_xor_si256(q, flip));
            as[(size_t) v * blocks + b] = half(ab + Q8_0_D);
        }
    }
    uint8_t packed[GEMM_KC * GEMM_BLOCK] __attribute__((aligned(64)));
    for (int r0 = 0; r0 < rows; r0 += GEMM_ROWS) {
        int count = rows - r0 < GEMM_ROWS ? rows - r0 : GEMM_ROWS;
        const uint8_t *row[GEMM_ROWS];
        for (int i = 0; i < GEMM_ROWS; i++) row[i] = i < count ? w + (size_t) (r0 + i) * rowBytes : zeros;
        for (int k0 = 0; k0 < blocks; k0 += GEMM_KC) {
            int kc = blocks - k0 < GEMM_KC ? blocks - k0 : GEMM_KC;
            pack_q4_0_gemm(row, k0, kc, packed);
            /* the next chunk's bytes (this group's, or the next group's first) are fetched while this chunk is
             * multiplied, a few lines before each vector: 32 short row streams, which the hardware prefetcher picks up
             * late, and a burst of all their lines at once would wait for the core's few outstanding misses */
            int nextRow = k0 + GEMM_KC < blocks ? r0 : r0 + GEMM_ROWS;
            int nextBlock = k0 + GEMM_KC < blocks ? k0 + GEMM_KC : 0;
            int nextRows = rows - nextRow < GEMM_ROWS ? rows - nextRow : GEMM_ROWS;
            int lines = nextRows > 0 ? nextRows * GEMM_LINES : 0;
            for (int v = 0; v < vectors; v++) {
                for (int j = (int) ((long) lines * v / vectors); j < (int) ((long) lines * (v + 1) / vectors); j++) {
                    int line = j % GEMM_LINES;
                    size_t at = (size_t) (nextRow + j / GEMM_LINES) * rowBytes + (size_t) nextBlock * Q4_0_BYTES
                              + (line + 1 < GEMM_LINES ? 64 * line : GEMM_KC * Q4_0_BYTES - 1);
                    _mm_prefetch((const char *) w + at, _MM_HINT_T0);
                }
                float *acc = count == GEMM_ROWS ? out + (size_t) v * ostride + r0 : partial + (size_t) v * GEMM_ROWS;
                gemm_q4_0_chunk(packed, kc, au + ((size_t) v * blocks + k0) * 32, as + (size_t) v * blocks + k0, acc,
                                k0 == 0);
            }
        }
        if (count < GEMM_ROWS) {
            for (int v = 0; v < vectors; v++) {
                memcpy(out + (size_t) v * ostride + r0, partial + (size_t) v * GEMM_ROWS, sizeof(float) * count);
            }
        }
    }
    if (zeros != zero_row) free(zeros);
    return 0;
}

/*
 * Q4_0 rows against vectors (one for a matrix-vector product, a prompt's for a matrix-matrix one), always eight rows
 * at a time (a last group of fewer rows is padded with a zero row), so a row's result never depends on how many
 * vectors there are or how the rows were split among threads: a batched product equals the vector-by-vector one bit
 * for bit. Returns 0, or -2 when out of memory.
 */
static int q4_0_rows(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, long stride, int n, int vectors,
                     float *out, long ostride) {
    if (vectors >= GEMM_MIN_VECTORS) {
        return q4_0_gemm(w, rowBytes, rows, act, stride, n, vectors, out, ostride);
    }
    int blocks = n / 32;
    size_t count = (size_t) blocks * vectors;
    size_t packBytes = (size_t) blocks * (128 + ROWS8 * sizeof(float));
    float stackScale[1024];
    int32_t stackSum[1024];
    uint8_t stackPack[16384];
    float *scale = count <= 1024 ? stackScale : malloc(sizeof(float) * count);
    int32_t *sum = count <= 1024 ? stackSum : malloc(sizeof(int32_t) * count);
    uint8_t *packed = packBytes <= sizeof stackPack ? stackPack : malloc(packBytes);
    int tail = rows % ROWS8 != 0 && rowBytes > (long) sizeof zero_row;
    uint8_t *zeros = tail ? calloc(1, rowBytes) : (uint8_t *) zero_row;
    int rc = 0;
    if (scale == NULL || sum == NULL || packed == NULL || zeros == NULL) {
        rc = -2;
        goto done;
    }
    vector_blocks(act, stride, vectors, blocks, scale, sum);
    float *wscale = (float *) (packed + (size_t) blocks * 128);
    for (int r = 0; r < rows; r += ROWS8) {
        int count8 = rows - r < ROWS8 ? rows - r : ROWS8;
        const uint8_t *row[ROWS8];
        for (int i = 0; i < ROWS8; i++) row[i] = i < count8 ? w + (size_t) (r + i) * rowBytes : zeros;
        const uint8_t *next = r + 2 * ROWS8 <= rows ? w + (size_t) (r + ROWS8) * rowBytes : NULL;
        pack_q4_0_rows8(row, blocks, packed, wscale, next, (size_t) ROWS8 * rowBytes);
        for (int v = 0; v < vectors; v += VEC8) {
            int T = vectors - v < VEC8 ? vectors - v : VEC8;
            float part[VEC8 * ROWS8];
            float *to = count8 == ROWS8 ? out + (size_t) v * ostride + r : part;
            long toStride = count8 == ROWS8 ? ostride : ROWS8;
#define R8(T) rows8_q4_0(packed, wscale, act + (size_t) v * stride, stride, blocks, scale + (size_t) v * blocks, \
                         sum + (size_t) v * blocks, to, toStride, T)
            switch (T) {
            case 4: R8(4); break;
            case 3: R8(3); break;
            case 2: R8(2); break;
            default: R8(1); break;
            }
#undef R8
            if (to == part) {
                for (int t = 0; t < T; t++) {
                    memcpy(out + (size_t) (v + t) * ostride + r, part + t * ROWS8, sizeof(float) * count8);
                }
            }
        }
    }
done:
    if (scale != NULL && scale != stackScale) free(scale);
    if (sum != NULL && sum != stackSum) free(sum);
    if (packed != NULL && packed != stackPack) free(packed);
    if (zeros != NULL && zeros != zero_row) free(zeros);
    return rc;
}

/*
 * Q4_1, Q4_K and Q6_K: one weight row against up to TILE vectors, each block's quants unpacked (and its scales
 * decoded) once for all of them; every (row, vector) result with the row kernel's own operations and float order
 * (the integer sums, exact, may be formed in another order), so a batched product equals the row kernel's bit for bit.
 */
static inline __attribute__((always_inline)) void tile_q4_1(const uint8_t *w, const uint8_t *act, long stride,
        int blocks, float *out, long ostride, const int T) {
    __m256 acc0[TILE], acc1[TILE];
    float mins[TILE];
    for (int t = 0; t < T; t++) {
        acc0[t] = _mm256_setzero_ps();
        acc1[t] = _mm256_setzero_ps();
        mins[t] = 0;
    }
    for (int b = 0; b < blocks; b++) {
        const uint8_t *wb = w + (size_t) b * Q4_1_BYTES;
        __m256i q = nibbles(wb + Q4_1_QS);
        float dw = half(wb + Q4_1_D), mw = half(wb + Q4_1_M);
        for (int t = 0; t < T; t++) {
            const uint8_t *ab = act + (size_t) t * stride + (size_t) b * Q8_1_BYTES;
            __m256i p = sum_pairs16(_mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *) (ab + Q8_1_QS))));
            __m256 sc = _mm256_set1_ps(dw * half(ab + Q8_1_D));
            if (b & 1) {
                acc1[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), sc, acc1[t]);
            } else {
                acc0[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), sc, acc0[t]);
            }
            mins[t] += mw * half(ab + Q8_1_S);
        }
    }
    for (int t = 0; t < T; t++) {
        out[(size_t) t * ostride] = hsum(_mm256_add_ps(acc0[t], acc1[t])) + mins[t];
    }
}

static inline int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

static inline __attribute__((always_inline)) void tile_q4_K(const uint8_t *w, const uint8_t *act, long stride,
        int blocks, float *out, long ostride, const int T) {
    __m256 acc[TILE];
    float mins[TILE];
    for (int t = 0; t < T; t++) {
        acc[t] = _mm256_setzero_ps();
        mins[t] = 0;
    }
    const __m256i low = _mm256_set1_epi8(0x0f);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *wb = w + (size_t) b * Q4_K_BYTES;
        uint8_t sc[8], mn[8];
        q4_k_scales(wb + Q4_K_SCALES, sc, mn);
        /* the mins for the activation's 16 bsums: lanes 2j and 2j + 1 both m_j (the row kernel's pair sums) */
        __m256i mins16 = _mm256_setr_epi16(mn[0], mn[0], mn[1], mn[1], mn[2], mn[2], mn[3], mn[3],
                                           mn[4], mn[4], mn[5], mn[5], mn[6], mn[6], mn[7], mn[7]);
        __m256i lo[4], hi[4];
        for (int q = 0; q < 4; q++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *) (wb + Q4_K_QS + 32 * q));
            lo[q] = _mm256_and_si256(bytes, low);
            hi[q] = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low);
        }
        float dw = half(wb + Q4_K_D), dminw = half(wb + Q4_K_DMIN);
        for (int t = 0; t < T; t++) {
            const uint8_t *ab = act + (size_t) t * stride + (size_t) b * Q8_K_BYTES;
            float da = f32_at(ab + Q8_K_D);
            int summ = hsum_epi32(_mm256_madd_epi16(_mm256_loadu_si256((const __m256i *) (ab + Q8_K_BSUMS)), mins16));
            __m256i sumi0 = _mm256_setzero_si256(), sumi1 = _mm256_setzero_si256();
            for (int q = 0; q < 4; q++) {
                const uint8_t *aq = ab + Q8_K_QS + 64 * q;
                __m256i plo = _mm256_maddubs_epi16(lo[q], _mm256_loadu_si256((const __m256i *) aq));
                __m256i phi = _mm256_maddubs_epi16(hi[q], _mm256_loadu_si256((const __m256i *) (aq + 32)));
                sumi0 = _mm256_add_epi32(sumi0, _mm256_madd_epi16(plo, _mm256_set1_epi16(sc[2 * q])));
                sumi1 = _mm256_add_epi32(sumi1, _mm256_madd_epi16(phi, _mm256_set1_epi16(sc[2 * q + 1])));
            }
            float d = dw * da;
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(sumi0, sumi1)), _mm256_set1_ps(d), acc[t]);
            mins[t] += dminw * da * summ;
        }
    }
    for (int t = 0; t < T; t++) {
        out[(size_t) t * ostride] = hsum(acc[t]) - mins[t];
    }
}

/* sums16: per vector (at v * blocks * 16) the sums of every 16 activation values, as the row kernel takes them */
static inline __attribute__((always_inline)) void tile_q6_K(const uint8_t *w, const uint8_t *act, long stride,
        int blocks, const int32_t *sums16, float *out, long ostride, const int T) {
    __m256 acc[TILE];
    float offsets[TILE];
    for (int t = 0; t < T; t++) {
        acc[t] = _mm256_setzero_ps();
        offsets[t] = 0;
    }
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i two = _mm256_set1_epi8(0x30);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *wb = w + (size_t) b * Q6_K_BYTES;
        const int8_t *sc = (const int8_t *) (wb + Q6_K_SCALES);
        __m256i sumi0[TILE], sumi1[TILE];
        for (int t = 0; t < T; t++) {
            sumi0[t] = _mm256_setzero_si256();
            sumi1[t] = _mm256_setzero_si256();
        }
        for (int h = 0; h < 2; h++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *) (wb + Q6_K_QL + 64 * h));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *) (wb + Q6_K_QL + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *) (wb + Q6_K_QH + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low), _mm256_and_si256(_mm256_slli_epi16(qh, 4), two));
            q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low), _mm256_and_si256(_mm256_slli_epi16(qh, 2), two));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low), _mm256_and_si256(qh, two));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), two));
            for (int k = 0; k < 4; k++) {
                __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[8 * h + 2 * k + 1]), _mm_set1_epi16(sc[8 * h + 2 * k]));
                for (int t = 0; t < T; t++) {
                    const uint8_t *aq = act + (size_t) t * stride + (size_t) b * Q8_K_BYTES + Q8_K_QS + 128 * h;
                    __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *) (aq + 32 * k)));
                    if (k & 1) {
                        sumi1[t] = _mm256_add_epi32(sumi1[t], _mm256_madd_epi16(p, s));
                    } else {
                        sumi0[t] = _mm256_add_epi32(sumi0[t], _mm256_madd_epi16(p, s));
                    }
                }
            }
        }
        float dw = half(wb + Q6_K_D);
        for (int t = 0; t < T; t++) {
            const int32_t *sums = sums16 + ((size_t) t * blocks + b) * 16;
            int offset = 0;
            for (int j = 0; j < 16; j++) {
                offset += sc[j] * sums[j];
            }
            float d = dw * f32_at(act + (size_t) t * stride + (size_t) b * Q8_K_BYTES + Q8_K_D);
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(sumi0[t], sumi1[t])), _mm256_set1_ps(d), acc[t]);
            offsets[t] += d * (32 * offset);
        }
    }
    for (int t = 0; t < T; t++) {
        out[(size_t) t * ostride] = hsum(acc[t]) - offsets[t];
    }
}

/* float rows against FTILE vectors: the row kernel's four accumulators per vector, each 8 weights loaded once */
#define FTILE 2
#define FLOAT_TILE(NAME, LOAD8, ONE, SIZE)                                                                  \
    static inline __attribute__((always_inline)) void NAME(const uint8_t *w, const float *x, int n,        \
            float *out, long ostride, const int T) {                                                         \
        __m256 a0[FTILE], a1[FTILE], a2[FTILE], a3[FTILE];                                                   \
        for (int t = 0; t < T; t++) {                                                                        \
            a0[t] = a1[t] = a2[t] = a3[t] = _mm256_setzero_ps();                                             \
        }                                                                                                    \
        int i = 0;                                                                                           \
        for (; i + 32 <= n; i += 32) {                                                                       \
            __m256 w0 = LOAD8(w + (size_t) SIZE * i), w1 = LOAD8(w + (size_t) SIZE * (i + 8));               \
            __m256 w2 = LOAD8(w + (size_t) SIZE * (i + 16)), w3 = LOAD8(w + (size_t) SIZE * (i + 24));       \
            for (int t = 0; t < T; t++) {                                                                    \
                const float *xt = x + (size_t) t * n;                                                        \
                a0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xt + i), a0[t]);                                 \
                a1[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xt + i + 8), a1[t]);                             \
                a2[t] = _mm256_fmadd_ps(w2, _mm256_loadu_ps(xt + i + 16), a2[t]);                            \
                a3[t] = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xt + i + 24), a3[t]);                            \
            }                                                                                                \
        }                                                                                                    \
        for (; i + 8 <= n; i += 8) {                                                                         \
            __m256 w0 = LOAD8(w + (size_t) SIZE * i);                                                        \
            for (int t = 0; t < T; t++) {                                                                    \
                a0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + (size_t) t * n + i), a0[t]);                 \
            }                                                                                                \
        }                                                                                                    \
        for (int t = 0; t < T; t++) {                                                                        \
            const float *xt = x + (size_t) t * n;                                                            \
            float s = hsum(_mm256_add_ps(_mm256_add_ps(a0[t], a1[t]), _mm256_add_ps(a2[t], a3[t])));         \
            for (int k = i; k < n; k++) {                                                                    \
                s += ONE(w + (size_t) SIZE * k) * xt[k];                                                     \
            }                                                                                                \
            out[(size_t) t * ostride] = s;                                                                   \
        }                                                                                                    \
    }

FLOAT_TILE(tile_f32, load_f32, one_f32, 4)
FLOAT_TILE(tile_f16, load_f16, one_f16, 2)
FLOAT_TILE(tile_bf16, load_bf16, one_bf16, 2)

/* the vectors in groups of up to TILE (FTILE), each group's size a constant, so the tiles unroll */
#define GROUPS(CALL)                                                                                    \
    for (int v = 0; v < vectors; v += TILE) {                                                                \
        int T = vectors - v < TILE ? vectors - v : TILE;                                                       \
        switch (T) {                                                                                         \
        case 4: CALL(4); break;                                                                              \
        case 3: CALL(3); break;                                                                              \
        case 2: CALL(2); break;                                                                              \
        default: CALL(1); break;                                                                             \
        }                                                                                                    \
    }

#define FGROUPS(CALL)                                                                                        \
    for (int v = 0; v < vectors; v += FTILE) {                                                               \
        if (vectors - v >= 2) CALL(2); else CALL(1);                                                         \
    }

/*
 * out[v * ostride + r] = row r . vector v for r in [0, rows), v in [0, vectors); quantized vectors at act + v * stride
 * (companion-format bytes), float ones at x + v * n. Returns 0, -1 for a type not handled, -2 out of memory.
 */
static int dot_rows_batch(int type, const uint8_t *w, long rowBytes, int rows, const uint8_t *act, long stride,
                          const float *x, int n, int vectors, float *out, long ostride) {
    switch (type) {
    case T_Q4_0:
        return q4_0_rows(w, rowBytes, rows, act, stride, n, vectors, out, ostride);
    case T_Q8_0: {
        int blocks = n / 32;
        size_t count = (size_t) blocks * vectors;
        float stackScale[2048];
        float *scale = count <= 2048 ? stackScale : malloc(sizeof(float) * count);
        if (scale == NULL) {
            return -2;
        }
        vector_blocks(act, stride, vectors, blocks, scale, NULL);
        for (int r = 0; r < rows; r++) {
            const uint8_t *wr = w + r * rowBytes;
#define Q8(T) tile_q8_0(wr, act + (size_t) v * stride, stride, blocks, scale + (size_t) v * blocks, \
                        out + (size_t) v * ostride + r, ostride, T)
            GROUPS(Q8)
#undef Q8
        }
        if (scale != stackScale) free(scale);
        return 0;
    }
    case T_Q4_1:
        for (int r = 0; r < rows; r++) {
            const uint8_t *wr = w + r * rowBytes;
#define Q41(T) tile_q4_1(wr, act + (size_t) v * stride, stride, n / 32, out + (size_t) v * ostride + r, ostride, T)
            GROUPS(Q41)
#undef Q41
        }
        return 0;
    case T_Q4_K:
        for (int r = 0; r < rows; r++) {
            const uint8_t *wr = w + r * rowBytes;
#define Q4K(T) tile_q4_K(wr, act + (size_t) v * stride, stride, n / 256, out + (size_t) v * ostride + r, ostride, T)
            GROUPS(Q4K)
#undef Q4K
        }
        return 0;
    case T_Q6_K: {
        int blocks = n / 256;
        int32_t *sums = malloc(sizeof(int32_t) * 16 * (size_t) blocks * vectors);
        if (sums == NULL) {
            return -2;
        }
        for (int v = 0; v < vectors; v++) {
            value_sums(act + (size_t) v * stride, blocks, Q8_K_BYTES, Q8_K_QS, 16, 16, sums + (size_t) v * blocks * 16);
        }
        for (int r = 0; r < rows; r++) {
            const uint8_t *wr = w + r * rowBytes;
#define Q6K(T) tile_q6_K(wr, act + (size_t) v * stride, stride, blocks, sums + (size_t) v * blocks * 16, \
                         out + (size_t) v * ostride + r, ostride, T)
            GROUPS(Q6K)
#undef Q6K
        }
        free(sums);
        return 0;
    }
    case T_F32:
    case T_F16:
    case T_BF16:
        for (int r = 0; r < rows; r++) {
            const uint8_t *wr = w + r * rowBytes;
            if (type == T_F32) {
#define F(T) tile_f32(wr, x + (size_t) v * n, n, out + (size_t) v * ostride + r, ostride, T)
                FGROUPS(F)
#undef F
            } else if (type == T_F16) {
#define F(T) tile_f16(wr, x + (size_t) v * n, n, out + (size_t) v * ostride + r, ostride, T)
                FGROUPS(F)
#undef F
            } else {
#define F(T) tile_bf16(wr, x + (size_t) v * n, n, out + (size_t) v * ostride + r, ostride, T)
                FGROUPS(F)
#undef F
            }
        }
        return 0;
    default: {
        /* no tile for this type: runs of rows small enough to stay in L1/L2 while every vector passes over them */
        for (int r0 = 0; r0 < rows; r0 += 16) {
            int count = rows - r0 < 16 ? rows - r0 : 16;
            for (int v = 0; v < vectors; v++) {
                int rc = dot_rows(type, w + r0 * rowBytes, rowBytes, count, act == NULL ? NULL : act + (size_t) v * stride,
                                  x == NULL ? NULL : x + (size_t) v * n, n, out + (size_t) v * ostride + r0);
                if (rc != 0) return rc;
            }
        }
        return 0;
    }
    }
}
#pragma GCC pop_options

/* ---- JNI ---- */

JNIEXPORT jboolean JNICALL Java_org_popsolutions_spanker_kernels_avx2_NativeKernels_cpuSupported(JNIEnv *env, jclass c) {
    (void) env; (void) c;
    return cpu_has_avx2_fma_f16c() ? JNI_TRUE : JNI_FALSE;
}

/*
 * Pins the activation, the output and (when given) the weight array for the call: critical regions may be held
 * together as long as no other JNI function is called in between. The weights of a direct buffer are not pinned.
 */
static jint call(JNIEnv *env, jint type, jbyteArray weightArray, const uint8_t *weightAddress, jint at, jint rowBytes,
                 jint rows, jbyteArray act, jfloatArray x, jint n, jfloatArray out, jint outAt) {
    uint8_t *w = weightArray != NULL ? (*env)->GetPrimitiveArrayCritical(env, weightArray, NULL) : (uint8_t *) weightAddress;
    void *a = act != NULL ? (*env)->GetPrimitiveArrayCritical(env, act, NULL) : NULL;
    void *f = x != NULL ? (*env)->GetPrimitiveArrayCritical(env, x, NULL) : NULL;
    float *o = (*env)->GetPrimitiveArrayCritical(env, out, NULL);
    jint rc = w == NULL || o == NULL || (act != NULL && a == NULL) || (x != NULL && f == NULL)
            ? -2 : dot_rows(type, w + at, rowBytes, rows, a, f, n, o + outAt);
    if (o != NULL) (*env)->ReleasePrimitiveArrayCritical(env, out, o, 0);
    if (f != NULL) (*env)->ReleasePrimitiveArrayCritical(env, x, f, JNI_ABORT);
    if (a != NULL) (*env)->ReleasePrimitiveArrayCritical(env, act, a, JNI_ABORT);
    if (weightArray != NULL && w != NULL) (*env)->ReleasePrimitiveArrayCritical(env, weightArray, w, JNI_ABORT);
    return rc;
}

JNIEXPORT jint JNICALL Java_org_popsolutions_spanker_kernels_avx2_NativeKernels_dotRowsHeap(
    JNIEnv *env, jclass c, jint type, jbyteArray weights, jint at, jint rowBytes, jint rows, jbyteArray act,
    jfloatArray x, jint n, jfloatArray out, jint outAt) {
    (void) c;
    return call(env, type, weights, NULL, at, rowBytes, rows, act, x, n, out, outAt);
}

JNIEXPORT jint JNICALL Java_org_popsolutions_spanker_kernels_avx2_NativeKernels_dotRowsDirect(
    JNIEnv *env, jclass c, jint type, jobject weights, jint at, jint rowBytes, jint rows, jbyteArray act,
    jfloatArray x, jint n, jfloatArray out, jint outAt) {
    (void) c;
    uint8_t *w = (*env)->GetDirectBufferAddress(env, weights);
    if (w == NULL) {
        return -3;
    }
    return call(env, type, NULL, w, at, rowBytes, rows, act, x, n, out, outAt);
}

/* As call(), for a batch: every vector's activation in one array (act or x), results at out + outAt + v * outStride. */
static jint call_batch(JNIEnv *env, jint type, jbyteArray weightArray, const uint8_t *weightAddress, jint at,
                       jint rowBytes, jint rows, jbyteArray act, jint stride, jfloatArray x, jint n, jint vectors,
                       jfloatArray out, jint outAt, jint outStride) {
    uint8_t *w = weightArray != NULL ? (*env)->GetPrimitiveArrayCritical(env, weightArray, NULL) : (uint8_t *) weightAddress;
    void *a = act != NULL ? (*env)->GetPrimitiveArrayCritical(env, act, NULL) : NULL;
    void *f = x != NULL ? (*env)->GetPrimitiveArrayCritical(env, x, NULL) : NULL;
    float *o = (*env)->GetPrimitiveArrayCritical(env, out, NULL);
    jint rc = w == NULL || o == NULL || (act != NULL && a == NULL) || (x != NULL && f == NULL)
            ? -2 : dot_rows_batch(type, w + at, rowBytes, rows, a, stride, f, n, vectors, o + outAt, outStride);
    if (o != NULL) (*env)->ReleasePrimitiveArrayCritical(env, out, o, 0);
    if (f != NULL) (*env)->ReleasePrimitiveArrayCritical(env, x, f, JNI_ABORT);
    if (a != NULL) (*env)->ReleasePrimitiveArrayCritical(env, act, a, JNI_ABORT);
    if (weightArray != NULL && w != NULL) (*env)->ReleasePrimitiveArrayCritical(env, weightArray, w, JNI_ABORT);
    return rc;
}

JNIEXPORT jint JNICALL Java_org_popsolutions_spanker_kernels_avx2_NativeKernels_dotRowsBatchHeap(
    JNIEnv *env, jclass c, jint type, jbyteArray weights, jint at, jint rowBytes, jint rows, jbyteArray act,
    jint stride, jfloatArray x, jint n, jint vectors, jfloatArray out, jint outAt, jint outStride) {
    (void) c;
    return call_batch(env, type, weights, NULL, at, rowBytes, rows, act, stride, x, n, vectors, out, outAt, outStride);
}

JNIEXPORT jint JNICALL Java_org_popsolutions_spanker_kernels_avx2_NativeKernels_dotRowsBatchDirect(
    JNIEnv *env, jclass c, jint type, jobject weights, jint at, jint rowBytes, jint rows, jbyteArray act,
    jint stride, jfloatArray x, jint n, jint vectors, jfloatArray out, jint outAt, jint outStride) {
    (void) c;
    uint8_t *w = (*env)->GetDirectBufferAddress(env, weights);
    if (w == NULL) {
        return -3;
    }
    return call_batch(env, type, NULL, w, at, rowBytes, rows, act, stride, x, n, vectors, out, outAt, outStride);
}
