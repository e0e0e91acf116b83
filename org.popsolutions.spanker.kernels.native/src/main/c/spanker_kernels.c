/*
 * Row dot products of ggml weight blocks with a prepared activation, AVX2 + FMA + F16C (and, where the CPU has it,
 * AVX-512 VNNI for the Q4_0, Q8_0 and Q4_K matrix-matrix products and the Q8_0, Q4_K and Q6_K matrix-vector rows),
 * called through JNI by
 * org.popsolutions.spanker.kernels.avx2.NativeKernels. Written for this project from the published block layouts
 * (the layout constants below mirror the Java traits table); the file is compiled WITHOUT -mavx2 so that the
 * CPU check runs on any x86-64, and only the kernels carry the AVX2 target.
 *
 * Integer parts are exact (products of quants summed in 16/32-bit lanes with no saturation for the inputs the
 * Java side sends); the float accumulation order differs from the scalar reference (FMA, several
 * accumulators), within the tolerance the tests check: |fast - reference| <= 1e-5 * sum|w*a|.
 */
#define _GNU_SOURCE
#include <jni.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/futex.h>

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
static inline int32_t i32_at(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }
static inline float half(const uint8_t *p) { return _cvtsh_ss(u16_at(p)); }

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/*
 * Matrix-vector rows are one stream of weights read once, row after row. The hardware prefetcher follows it, but
 * on its own keeps too few lines in flight for the DRAM bandwidth while the kernels compute: each block asks for the
 * lines AHEAD bytes further on (past a row's end that is the next row, which is where a matrix-vector product goes).
 */
#ifndef AHEAD
#define AHEAD 2048
#endif
/* always inlined: a call to a function that only prefetches counts, for GCC, as a call without effects, and goes */
static inline __attribute__((always_inline)) void prefetch_block(const uint8_t *p, const int bytes) {
    for (int o = 0; o < bytes; o += 64) {
        _mm_prefetch((const char *) p + o, _MM_HINT_T0);
    }
}

/* 16 nibble bytes to 32 bytes: the low nibbles first (values 0..15), then the high ones (values 16..31) */
static inline __m256i nibbles(const uint8_t *p) {
    __m128i q = _mm_loadu_si128((const __m128i *) p);
    __m128i m = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}

static inline __m256i sum_pairs16(__m256i p) { return _mm256_madd_epi16(p, _mm256_set1_epi16(1)); }

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
        if (AHEAD) {
            prefetch_block(w0 + AHEAD, 2 * Q8_0_BYTES);
        }
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

/* float rows: four accumulators of eight lanes, FMA; the tail (n mod 8) in scalar code */
#define FLOAT_DOT(NAME, LOAD8, ONE, SIZE)                                                              \
    static float NAME(const uint8_t *w, const float *x, int n) {                                       \
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(),           \
               a3 = _mm256_setzero_ps();                                                               \
        int i = 0;                                                                                     \
        for (; i + 32 <= n; i += 32) {                                                                 \
            if (AHEAD) {                                                                               \
                prefetch_block(w + (size_t) SIZE * i + AHEAD, 32 * SIZE);                              \
            }                                                                                          \
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
 * F16 and BF16 matrix-vector rows, four at a time. A product of these types reads only its weights from DRAM, so it
 * runs as fast as weight bytes arrive: one row's stream at a time (the row kernel above), even prefetched, read about
 * 60 % of what four rows' streams side by side read on this machine's EPYC (one thread, 117 MB of F16 weights: 6.0
 * against 3.7 ms), and ggml's one-row kernel reads about 25 GB/s. The four rows share each activation load; each is
 * prefetched a line per step AHEAD_ROWS bytes on (past its end: the same row of the next group of four).
 *
 * Each row's arithmetic is FLOAT_DOT's exactly (four accumulators of eight lanes over 32 values, the same 8-value
 * and scalar tails, the same final sum), so a row's result does not depend on the rows taken with it nor on the
 * register width below, and the matrix-matrix tiles (FLOAT_TILE) still equal it bit for bit.
 */
#ifndef AHEAD_ROWS
#define AHEAD_ROWS 1024
#endif

static inline __attribute__((always_inline)) void prefetch_row(const uint8_t *q, long at, long rowBytes) {
    if (AHEAD_ROWS) {
        _mm_prefetch((const char *) (at + AHEAD_ROWS < rowBytes ? q + AHEAD_ROWS : q + AHEAD_ROWS + 3 * rowBytes),
                     _MM_HINT_T0);
    }
}

/* FLOAT_DOT's tail and final sum for one row whose accumulators cover [0, i) */
#define FLOAT_ROW_END(ONE, q, x, i, n, a0, a1, a2, a3, result)                                          \
    do {                                                                                                  \
        int j_ = (i);                                                                                     \
        for (; j_ + 8 <= (n); j_ += 8) {                                                                  \
            a0 = _mm256_fmadd_ps(LOAD8_OF_##ONE((q) + (size_t) 2 * j_), _mm256_loadu_ps((x) + j_), a0);   \
        }                                                                                                 \
        float s_ = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));                    \
        for (; j_ < (n); j_++) {                                                                          \
            s_ += ONE((q) + (size_t) 2 * j_) * (x)[j_];                                                   \
        }                                                                                                 \
        (result) = s_;                                                                                    \
    } while (0)
#define LOAD8_OF_one_f16 load_f16
#define LOAD8_OF_one_bf16 load_bf16

/* 256-bit registers: the fallback for a CPU without AVX-512 */
#define FLOAT_ROWS4(NAME, LOAD8, ONE, DOT)                                                                 \
    static void NAME(const uint8_t *w, long rowBytes, int rows, const float *x, int n, float *out) {      \
        int r = 0;                                                                                         \
        for (; r + 4 <= rows; r += 4) {                                                                    \
            const uint8_t *p = w + (size_t) r * rowBytes;                                                  \
            __m256 a0[4], a1[4], a2[4], a3[4];                                                             \
            for (int k = 0; k < 4; k++) {                                                                  \
                a0[k] = a1[k] = a2[k] = a3[k] = _mm256_setzero_ps();                                       \
            }                                                                                              \
            int i = 0;                                                                                     \
            for (; i + 32 <= n; i += 32) {                                                                 \
                for (int k = 0; k < 4; k++) {                                                              \
                    const uint8_t *q = p + k * rowBytes + (size_t) 2 * i;                                  \
                    prefetch_row(q, 2L * i, rowBytes);                                                     \
                    a0[k] = _mm256_fmadd_ps(LOAD8(q), _mm256_loadu_ps(x + i), a0[k]);                      \
                    a1[k] = _mm256_fmadd_ps(LOAD8(q + 16), _mm256_loadu_ps(x + i + 8), a1[k]);             \
                    a2[k] = _mm256_fmadd_ps(LOAD8(q + 32), _mm256_loadu_ps(x + i + 16), a2[k]);            \
                    a3[k] = _mm256_fmadd_ps(LOAD8(q + 48), _mm256_loadu_ps(x + i + 24), a3[k]);            \
                }                                                                                          \
            }                                                                                              \
            for (int k = 0; k < 4; k++) {                                                                  \
                FLOAT_ROW_END(ONE, p + k * rowBytes, x, i, n, a0[k], a1[k], a2[k], a3[k], out[r + k]);     \
            }                                                                                              \
        }                                                                                                  \
        for (; r < rows; r++) {                                                                            \
            out[r] = DOT(w + (size_t) r * rowBytes, x, n);                                                 \
        }                                                                                                  \
    }

FLOAT_ROWS4(rows4_f16, load_f16, one_f16, dot_f16)
FLOAT_ROWS4(rows4_bf16, load_bf16, one_bf16, dot_bf16)

/*
 * 512-bit registers where the CPU has AVX-512F: register A of a row holds FLOAT_DOT's a0 (low half) and a1 (high), B
 * holds a2 and a3, lane for lane the same FMAs; the halves are taken apart for the tail and the final sum. Half the
 * instructions of the 256-bit loop (which matters on two threads, where both cores share the DRAM).
 */
#define WIDE_TARGET "avx2,fma,f16c,avx512f"
static inline __attribute__((always_inline, target(WIDE_TARGET))) __m512 load16_f16(const uint8_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) p));
}
static inline __attribute__((always_inline, target(WIDE_TARGET))) __m512 load16_bf16(const uint8_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *) p)), 16));
}

#define FLOAT_ROWS4_WIDE(NAME, LOAD16, ONE, DOT)                                                           \
    __attribute__((target(WIDE_TARGET)))                                                                   \
    static void NAME(const uint8_t *w, long rowBytes, int rows, const float *x, int n, float *out) {      \
        int r = 0;                                                                                         \
        for (; r + 4 <= rows; r += 4) {                                                                    \
            const uint8_t *p = w + (size_t) r * rowBytes;                                                  \
            __m512 A[4], B[4];                                                                             \
            for (int k = 0; k < 4; k++) {                                                                  \
                A[k] = B[k] = _mm512_setzero_ps();                                                         \
            }                                                                                              \
            int i = 0;                                                                                     \
            for (; i + 32 <= n; i += 32) {                                                                 \
                __m512 x01 = _mm512_loadu_ps(x + i), x23 = _mm512_loadu_ps(x + i + 16);                    \
                for (int k = 0; k < 4; k++) {                                                              \
                    const uint8_t *q = p + k * rowBytes + (size_t) 2 * i;                                  \
                    prefetch_row(q, 2L * i, rowBytes);                                                     \
                    A[k] = _mm512_fmadd_ps(LOAD16(q), x01, A[k]);                                          \
                    B[k] = _mm512_fmadd_ps(LOAD16(q + 32), x23, B[k]);                                     \
                }                                                                                          \
            }                                                                                              \
            for (int k = 0; k < 4; k++) {                                                                  \
                __m256 a0 = _mm512_castps512_ps256(A[k]);                                                  \
                __m256 a1 = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(A[k]), 1));           \
                __m256 a2 = _mm512_castps512_ps256(B[k]);                                                  \
                __m256 a3 = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(B[k]), 1));           \
                FLOAT_ROW_END(ONE, p + k * rowBytes, x, i, n, a0, a1, a2, a3, out[r + k]);                 \
            }                                                                                              \
        }                                                                                                  \
        for (; r < rows; r++) {                                                                            \
            out[r] = DOT(w + (size_t) r * rowBytes, x, n);                                                 \
        }                                                                                                  \
    }

FLOAT_ROWS4_WIDE(rows4_f16_wide, load16_f16, one_f16, dot_f16)
FLOAT_ROWS4_WIDE(rows4_bf16_wide, load16_bf16, one_bf16, dot_bf16)

/* AVX-512F present, and not turned off by SPANKER_KERNELS_NO_AVX512 (set: the 256-bit F16/BF16 rows, for tests and
 * an A/B comparison in one build) */
static int wide_state = -1;

static int use_wide(void) {
    if (wide_state < 0) {
        __builtin_cpu_init();
        const char *off = getenv("SPANKER_KERNELS_NO_AVX512");
        wide_state = (off == NULL || off[0] == 0) && __builtin_cpu_supports("avx512f");
    }
    return wide_state;
}

static int q4_0_rows(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, long stride, int n, int vectors,
                     float *out, long ostride);
static int rows_q4_K(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, int blocks, float *out);
static int rows_q4_1(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, int blocks, float *out);
static int rows_q6_K(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, int blocks, float *out);
static int rows_q8_0(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, int blocks, float *out);

/* rows [0, rows) of rowBytes each from w; returns 0, or -1 for a type this library does not handle */
static int dot_rows(int type, const uint8_t *w, long rowBytes, int rows, const uint8_t *act, const float *x, int n,
                    float *out) {
    switch (type) {
    case T_Q4_0:
        return q4_0_rows(w, rowBytes, rows, act, Q8_0_BYTES * (long) (n / 32), n, 1, out, rows);
    case T_Q6_K:
        return rows_q6_K(w, rowBytes, rows, act, n / 256, out);
    case T_Q4_1:
        return rows_q4_1(w, rowBytes, rows, act, n / 32, out);
    case T_Q8_0:
        return rows_q8_0(w, rowBytes, rows, act, n / 32, out);
    case T_Q4_K:
        return rows_q4_K(w, rowBytes, rows, act, n / 256, out);
    case T_F32:
        for (int r = 0; r < rows; r++) out[r] = dot_f32(w + r * rowBytes, x, n);
        return 0;
    case T_F16:
        (use_wide() ? rows4_f16_wide : rows4_f16)(w, rowBytes, rows, x, n, out);
        return 0;
    case T_BF16:
        (use_wide() ? rows4_bf16_wide : rows4_bf16)(w, rowBytes, rows, x, n, out);
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
/* block b's quant bytes of eight rows, regrouped: a 4 x 4 transpose of 32-bit groups in each 128-bit half (rows 0-3
 * low, rows 4-7 high), so lane r of q[c] holds four quant bytes of row r; the next group's bytes are prefetched a
 * little per block (eight rows read side by side are eight short streams, which the hardware prefetcher picks up too
 * late for the narrow matrices of a decode step: 2048 columns, 1152 bytes a row) */
static inline __attribute__((always_inline)) void regroup_q4_0_rows8(const uint8_t *const row[ROWS8], int b,
                                                                     const uint8_t *next, size_t ahead, __m256i q[4]) {
    size_t o = (size_t) b * Q4_0_BYTES;
    if (ahead > 0) {
        prefetch_block(next + b * ahead, (int) ahead);
    }
#define PAIR(i) _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *) (row[i] + o + Q4_0_QS))), \
                                        _mm_loadu_si128((const __m128i *) (row[(i) + 4] + o + Q4_0_QS)), 1)
    __m256i r0 = PAIR(0), r1 = PAIR(1), r2 = PAIR(2), r3 = PAIR(3);
#undef PAIR
    __m256i t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpacklo_epi32(r2, r3);
    __m256i t2 = _mm256_unpackhi_epi32(r0, r1), t3 = _mm256_unpackhi_epi32(r2, r3);
    q[0] = _mm256_unpacklo_epi64(t0, t1);
    q[1] = _mm256_unpackhi_epi64(t0, t1);
    q[2] = _mm256_unpacklo_epi64(t2, t3);
    q[3] = _mm256_unpackhi_epi64(t2, t3);
}

static void pack_q4_0_rows8(const uint8_t *const row[ROWS8], int blocks, uint8_t *packed, float *scales,
                            const uint8_t *next, size_t nextBytes) {
    /* the next group's bytes (one contiguous range), fetched a little per block while this group is packed */
    size_t ahead = next == NULL ? 0 : (nextBytes + blocks - 1) / blocks;
    for (int b = 0; b < blocks; b++) {
        size_t o = (size_t) b * Q4_0_BYTES;
        __m256i q[4];
        regroup_q4_0_rows8(row, b, next, ahead, q);
        uint8_t *pb = packed + (size_t) b * 128;
        for (int c = 0; c < 4; c++) {
            _mm256_storeu_si256((__m256i *) (pb + 32 * c), q[c]);
        }
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

/*
 * One vector (a matrix-vector product): the eight rows' regrouping is not stored but used at once, block by block, in
 * registers; the same integer sums (exact) and the same float operations as rows8_q4_0 with T = 1 on the packed
 * copy, so the result is the same bit for bit.
 */
static void rows8_q4_0_direct(const uint8_t *const row[ROWS8], int blocks, const uint8_t *act, const float *ascale,
                              const int32_t *asum, float *out, const uint8_t *next, size_t nextBytes) {
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i ones = _mm256_set1_epi16(1);
    size_t ahead = next == NULL ? 0 : (nextBytes + blocks - 1) / blocks;
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        size_t o = (size_t) b * Q4_0_BYTES;
        __m256i q[4];
        regroup_q4_0_rows8(row, b, next, ahead, q);
        __m256i lo[4], hi[4];
        for (int c = 0; c < 4; c++) {
            lo[c] = _mm256_and_si256(q[c], low);
            hi[c] = _mm256_and_si256(_mm256_srli_epi16(q[c], 4), low);
        }
        __m256 ws = _mm256_cvtph_ps(_mm_setr_epi16(i16_at(row[0] + o), i16_at(row[1] + o), i16_at(row[2] + o),
                                                   i16_at(row[3] + o), i16_at(row[4] + o), i16_at(row[5] + o),
                                                   i16_at(row[6] + o), i16_at(row[7] + o)));
        const uint8_t *ab = act + (size_t) b * Q8_0_BYTES + Q8_0_QS;
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
        __m256i p = _mm256_sub_epi32(_mm256_madd_epi16(s, ones), _mm256_set1_epi32(8 * asum[b]));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(ws, _mm256_set1_ps(ascale[b])), acc);
    }
    _mm256_storeu_ps(out, acc);
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

/* one packed block of 32 rows (Q4_0's quants - 8, or Q8_0's quants): for each half of 16 rows and each column c of
 * four values (c = 0..7: values 4c..4c+3) 64 bytes, lane r = row 16 h + r, so that one 512-bit register holds a column
 * of 16 rows and one 256-bit register one of eight (GEMM_AT: group g of eight rows); then the 32 rows' offsets
 * 128 * sum w as int32, then their scales as floats, both in row order */
enum { GEMM_OFFSETS = 4 * 256, GEMM_SCALES = GEMM_OFFSETS + 128, GEMM_BLOCK = GEMM_SCALES + 128 };
#define GEMM_AT(g, c) (512 * ((g) >> 1) + 32 * ((g) & 1) + 64 * (c))

static void pack_q4_0_gemm(const uint8_t *const row[GEMM_ROWS], int b0, int count, uint8_t *packed) {
    const __m256i low = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
    for (int b = 0; b < count; b++) {
        size_t o = (size_t) (b0 + b) * Q4_0_BYTES;
        uint8_t *pb = packed + (size_t) b * GEMM_BLOCK;
        for (int g = 0; g < 4; g++) {
            const uint8_t *const *r = row + 8 * g;
            /* the eight-row kernel's transpose: group c holds bytes 4c..4c+3 of each row, lane r = row r */
            __m256i q[4];
            regroup_q4_0_rows8(r, b0 + b, NULL, 0, q);
            __m256i sum8 = _mm256_setzero_si256();
            for (int c = 0; c < 4; c++) {
                __m256i lo = _mm256_sub_epi8(_mm256_and_si256(q[c], low), eight);
                __m256i hi = _mm256_sub_epi8(_mm256_and_si256(_mm256_srli_epi16(q[c], 4), low), eight);
                /* a byte's low nibble is value 4c + i, its high one value 16 + 4c + i: columns c and 4 + c */
                _mm256_storeu_si256((__m256i *) (pb + GEMM_AT(g, c)), lo);
                _mm256_storeu_si256((__m256i *) (pb + GEMM_AT(g, 4 + c)), hi);
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
#define W(g, c) _mm256_loadu_si256((const __m256i *) (pb + GEMM_AT(g, c)))
#define STEP(g, s, c) { __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, W(g, c)), \
                                                      _mm256_maddubs_epi16(hi, W(g, 4 + (c)))); \
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

/* the AVX-512 VNNI kernels' target: vpdpbusd on 256- and 512-bit registers (and 32 of them, which the Q4_K kernel's
 * accumulators need). In Q4_0's AVX2 chunk above, 256-bit vpdpbusd (the same sums) measured no faster than maddubs;
 * the 512-bit chunk (gemm_vnni_chunk) is, so Q4_0 and Q8_0 share it. */
#define VNNI_TARGET "avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"

/* AVX-512 VNNI (with VL) present, and not turned off by SPANKER_KERNELS_NO_VNNI (set: the AVX2 matrix-matrix paths,
 * for an A/B comparison in one build) */
static int vnni_state = -1;

static int use_vnni(void) {
    if (vnni_state < 0) {
        __builtin_cpu_init();
        const char *off = getenv("SPANKER_KERNELS_NO_VNNI");
        vnni_state = (off == NULL || off[0] == 0) && __builtin_cpu_supports("avx512vnni")
                && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
    }
    return vnni_state;
}

/* the matrix-matrix VNNI kernels take four vectors a pass over a packed chunk, unless SPANKER_KERNELS_ONE_VECTOR is
 * set (one a pass, the kernels before: an A/B comparison in one build; the results are the same bits either way) */
static int chunk4_state = -1;

static int use_chunk4(void) {
    if (chunk4_state < 0) {
        const char *off = getenv("SPANKER_KERNELS_ONE_VECTOR");
        chunk4_state = off == NULL || off[0] == 0;
    }
    return chunk4_state;
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

/* a matrix-matrix call's set-up, one for every kernel: the thread's kept scratch and the zero row that pads a last
 * group of fewer than 32 rows (allocated when a row is longer than zero_row) */
typedef struct {
    uint8_t *scratch;
    const uint8_t *zeros;
} gemm_frame;

/* 0, or -2 (nothing to close) when out of memory */
static int gemm_open(gemm_frame *f, size_t scratchBytes, int rows, long rowBytes) {
    f->scratch = gemm_buffer(scratchBytes);
    int tail = rows % GEMM_ROWS != 0 && rowBytes > (long) sizeof zero_row;
    f->zeros = tail ? calloc(1, rowBytes) : zero_row;
    if (f->scratch == NULL || f->zeros == NULL) {
        if (f->zeros != NULL && f->zeros != zero_row) free((void *) f->zeros);
        return -2;
    }
    return 0;
}

static void gemm_close(gemm_frame *f) {
    if (f->zeros != zero_row) free((void *) f->zeros);
}

/* the rows from r0 (count of them, the rest of 32 zero rows) */
static void gemm_rows(const uint8_t *w, long rowBytes, int r0, int count, const uint8_t *zeros,
                      const uint8_t *row[GEMM_ROWS]) {
    for (int i = 0; i < GEMM_ROWS; i++) row[i] = i < count ? w + (size_t) (r0 + i) * rowBytes : zeros;
}

/* the activation of every vector once per call: values + 128 (bytes xor 0x80) and the scales as floats */
static void unsigned_activation(const uint8_t *act, long stride, int vectors, int blocks, int blockBytes, int qs,
                                int values, uint8_t *au, float *as, int halfScale, int scaleAt) {
    const __m256i flip = _mm256_set1_epi8((char) 0x80);
    for (int v = 0; v < vectors; v++) {
        for (int b = 0; b < blocks; b++) {
            const uint8_t *ab = act + (size_t) v * stride + (size_t) b * blockBytes;
            uint8_t *to = au + ((size_t) v * blocks + b) * values;
            for (int i = 0; i < values; i += 32) {
                __m256i q = _mm256_loadu_si256((const __m256i *) (ab + qs + i));
                _mm256_storeu_si256((__m256i *) (to + i), _mm256_xor_si256(q, flip));
            }
            as[(size_t) v * blocks + b] = halfScale ? half(ab + scaleAt) : f32_at(ab + scaleAt);
        }
    }
}

/* a group's packing and one vector's pass over a packed chunk, for blocks of 32 values (Q4_0, Q8_0) */
typedef void (*gemm_pack_fn)(const uint8_t *const row[GEMM_ROWS], int b0, int count, uint8_t *packed);
typedef void (*gemm_chunk_fn)(const uint8_t *packed, int count, const uint8_t *au, const float *as, float *acc,
                              int first);
/* GEMM_VECS vectors' passes over one packed chunk at once: vector i's unsigned activation at au + i * auStride, its
 * scales at as + i * asStride, its accumulators at acc[i] */
#define GEMM_VECS 4
typedef void (*gemm_chunk4_fn)(const uint8_t *packed, int count, const uint8_t *au, long auStride, const float *as,
                               long asStride, float *const acc[GEMM_VECS], int first);

/* Q4_0 or Q8_0 (blockBytes) rows against the vectors: 32 rows at a time, GEMM_KC blocks a chunk */
static int gemm_blocks32(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, long stride, int n, int vectors,
                         float *out, long ostride, int blockBytes, gemm_pack_fn pack, gemm_chunk_fn chunk,
                         gemm_chunk4_fn chunk4) {
    int blocks = n / 32;
    size_t quants = (size_t) vectors * blocks * 32, scales = (size_t) vectors * blocks * sizeof(float);
    size_t part = (size_t) vectors * GEMM_ROWS * sizeof(float);
    gemm_frame f;
    if (gemm_open(&f, quants + scales + part, rows, rowBytes) != 0) {
        return -2;
    }
    uint8_t *au = f.scratch;
    float *as = (float *) (f.scratch + quants);
    float *partial = (float *) (f.scratch + quants + scales);
    unsigned_activation(act, stride, vectors, blocks, Q8_0_BYTES, Q8_0_QS, 32, au, as, 1, Q8_0_D);
    /* cache lines a row's chunk may touch from any offset (the last one at its last byte) */
    const int chunkBytes = GEMM_KC * blockBytes, lines = (chunkBytes + 63) / 64 + 1;
    uint8_t packed[GEMM_KC * GEMM_BLOCK] __attribute__((aligned(64)));
    for (int r0 = 0; r0 < rows; r0 += GEMM_ROWS) {
        int count = rows - r0 < GEMM_ROWS ? rows - r0 : GEMM_ROWS;
        const uint8_t *row[GEMM_ROWS];
        gemm_rows(w, rowBytes, r0, count, f.zeros, row);
        for (int k0 = 0; k0 < blocks; k0 += GEMM_KC) {
            int kc = blocks - k0 < GEMM_KC ? blocks - k0 : GEMM_KC;
            pack(row, k0, kc, packed);
            /* the next chunk's bytes (this group's, or the next group's first) are fetched while this chunk is
             * multiplied, a few lines before each vector: 32 short row streams, which the hardware prefetcher picks up
             * late, and a burst of all their lines at once would wait for the core's few outstanding misses */
            int nextRow = k0 + GEMM_KC < blocks ? r0 : r0 + GEMM_ROWS;
            int nextBlock = k0 + GEMM_KC < blocks ? k0 + GEMM_KC : 0;
            int nextRows = rows - nextRow < GEMM_ROWS ? rows - nextRow : GEMM_ROWS;
            int fetch = nextRows > 0 ? nextRows * lines : 0;
            for (int v = 0; v < vectors;) {
                int step = chunk4 != NULL && vectors - v >= GEMM_VECS ? GEMM_VECS : 1;
                for (int j = (int) ((long) fetch * v / vectors); j < (int) ((long) fetch * (v + step) / vectors); j++) {
                    int line = j % lines;
                    size_t at = (size_t) (nextRow + j / lines) * rowBytes + (size_t) nextBlock * blockBytes
                              + (line + 1 < lines ? 64 * line : chunkBytes - 1);
                    _mm_prefetch((const char *) w + at, _MM_HINT_T0);
                }
                float *acc[GEMM_VECS];
                for (int i = 0; i < step; i++) {
                    acc[i] = count == GEMM_ROWS ? out + (size_t) (v + i) * ostride + r0
                                                : partial + (size_t) (v + i) * GEMM_ROWS;
                }
                const uint8_t *a = au + ((size_t) v * blocks + k0) * 32;
                if (step == GEMM_VECS) {
                    chunk4(packed, kc, a, (long) blocks * 32, as + (size_t) v * blocks + k0, blocks, acc, k0 == 0);
                } else {
                    chunk(packed, kc, a, as + (size_t) v * blocks + k0, acc[0], k0 == 0);
                }
                v += step;
            }
        }
        if (count < GEMM_ROWS) {
            for (int v = 0; v < vectors; v++) {
                memcpy(out + (size_t) v * ostride + r0, partial + (size_t) v * GEMM_ROWS, sizeof(float) * count);
            }
        }
    }
    gemm_close(&f);
    return 0;
}

/*
 * one vector over one chunk of packed Q4_0 or Q8_0 blocks with AVX-512 VNNI: 16 rows a 512-bit register, vpdpbusd
 * (unsigned activation + 128 by signed weights, four products summed into 32 bits, exact) in four independent chains,
 * then Q4_0's AVX2 chunk's float operations (acc = fma(float(sum - offset), d_w * d_a, acc)) on the same integers: the
 * same bits as that chunk. ymm vpdpbusd measured no faster than maddubs for Q4_0 (session 11); a zmm register does
 * twice the work per instruction on a core with full 512-bit units (this EPYC).
 */
__attribute__((noinline, target(VNNI_TARGET)))
static void gemm_vnni_chunk(const uint8_t *packed, int count, const uint8_t *au, const float *as, float *acc,
                            int first) {
    __m512 a0 = first ? _mm512_setzero_ps() : _mm512_loadu_ps(acc);
    __m512 a1 = first ? _mm512_setzero_ps() : _mm512_loadu_ps(acc + 16);
    for (int b = 0; b < count; b++) {
        const uint8_t *pb = packed + (size_t) b * GEMM_BLOCK;
        const uint8_t *ab = au + (size_t) b * 32;
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
        __m512i t0 = _mm512_setzero_si512(), t1 = _mm512_setzero_si512();
        for (int c = 0; c < 8; c += 2) {
            __m512i x0 = _mm512_set1_epi32(*(const int32_t *) (ab + 4 * c));
            __m512i x1 = _mm512_set1_epi32(*(const int32_t *) (ab + 4 * c + 4));
            s0 = _mm512_dpbusd_epi32(s0, x0, _mm512_loadu_si512((const void *) (pb + 64 * c)));
            s1 = _mm512_dpbusd_epi32(s1, x0, _mm512_loadu_si512((const void *) (pb + 512 + 64 * c)));
            t0 = _mm512_dpbusd_epi32(t0, x1, _mm512_loadu_si512((const void *) (pb + 64 * c + 64)));
            t1 = _mm512_dpbusd_epi32(t1, x1, _mm512_loadu_si512((const void *) (pb + 512 + 64 * c + 64)));
        }
        __m512 d = _mm512_set1_ps(as[b]);
        __m512i p0 = _mm512_sub_epi32(_mm512_add_epi32(s0, t0), _mm512_loadu_si512((const void *) (pb + GEMM_OFFSETS)));
        __m512i p1 = _mm512_sub_epi32(_mm512_add_epi32(s1, t1),
                                      _mm512_loadu_si512((const void *) (pb + GEMM_OFFSETS + 64)));
        a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), _mm512_mul_ps(_mm512_loadu_ps((const float *) (pb + GEMM_SCALES)), d),
                             a0);
        a1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p1),
                             _mm512_mul_ps(_mm512_loadu_ps((const float *) (pb + GEMM_SCALES + 64)), d), a1);
    }
    _mm512_storeu_ps(acc, a0);
    _mm512_storeu_ps(acc + 16, a1);
}

/*
 * gemm_vnni_chunk for four vectors at once. One vector's pass has four accumulator chains of four vpdpbusd a block,
 * then the float steps after them: one block's dependent path (about 25 cycles) is longer than its 16 vpdpbusd take to
 * issue (8 cycles at two a cycle), so the core waited on latency, and each packed weight register was loaded for
 * every vector. Here each weight register, loaded once, serves four vectors: 16 independent chains, a quarter of the
 * weight loads. Every lane's integer sum is the same exact integer, and each vector's float operations are
 * gemm_vnni_chunk's in its order: the same bits.
 */
__attribute__((noinline, target(VNNI_TARGET)))
static void gemm_vnni_chunk4(const uint8_t *packed, int count, const uint8_t *au, long auStride, const float *as,
                             long asStride, float *const acc[GEMM_VECS], int first) {
    __m512 a[GEMM_VECS][2];
    for (int v = 0; v < GEMM_VECS; v++) {
        a[v][0] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(acc[v]);
        a[v][1] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(acc[v] + 16);
    }
    for (int b = 0; b < count; b++) {
        const uint8_t *pb = packed + (size_t) b * GEMM_BLOCK;
        const uint8_t *ab = au + (size_t) b * 32;
        __m512i s[GEMM_VECS][2], t[GEMM_VECS][2];
        for (int v = 0; v < GEMM_VECS; v++) {
            s[v][0] = s[v][1] = t[v][0] = t[v][1] = _mm512_setzero_si512();
        }
        for (int c = 0; c < 8; c += 2) {
            __m512i w0 = _mm512_loadu_si512((const void *) (pb + 64 * c));
            __m512i w1 = _mm512_loadu_si512((const void *) (pb + 512 + 64 * c));
            __m512i u0 = _mm512_loadu_si512((const void *) (pb + 64 * c + 64));
            __m512i u1 = _mm512_loadu_si512((const void *) (pb + 512 + 64 * c + 64));
            for (int v = 0; v < GEMM_VECS; v++) {
                __m512i x0 = _mm512_set1_epi32(*(const int32_t *) (ab + v * auStride + 4 * c));
                __m512i x1 = _mm512_set1_epi32(*(const int32_t *) (ab + v * auStride + 4 * c + 4));
                s[v][0] = _mm512_dpbusd_epi32(s[v][0], x0, w0);
                s[v][1] = _mm512_dpbusd_epi32(s[v][1], x0, w1);
                t[v][0] = _mm512_dpbusd_epi32(t[v][0], x1, u0);
                t[v][1] = _mm512_dpbusd_epi32(t[v][1], x1, u1);
            }
        }
        __m512i o0 = _mm512_loadu_si512((const void *) (pb + GEMM_OFFSETS));
        __m512i o1 = _mm512_loadu_si512((const void *) (pb + GEMM_OFFSETS + 64));
        __m512 ws0 = _mm512_loadu_ps((const float *) (pb + GEMM_SCALES));
        __m512 ws1 = _mm512_loadu_ps((const float *) (pb + GEMM_SCALES + 64));
        for (int v = 0; v < GEMM_VECS; v++) {
            __m512 d = _mm512_set1_ps(as[v * asStride + b]);
            __m512i p0 = _mm512_sub_epi32(_mm512_add_epi32(s[v][0], t[v][0]), o0);
            __m512i p1 = _mm512_sub_epi32(_mm512_add_epi32(s[v][1], t[v][1]), o1);
            a[v][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), _mm512_mul_ps(ws0, d), a[v][0]);
            a[v][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p1), _mm512_mul_ps(ws1, d), a[v][1]);
        }
    }
    for (int v = 0; v < GEMM_VECS; v++) {
        _mm512_storeu_ps(acc[v], a[v][0]);
        _mm512_storeu_ps(acc[v] + 16, a[v][1]);
    }
}

static int q4_0_gemm(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, long stride, int n, int vectors,
                     float *out, long ostride) {
    return gemm_blocks32(w, rowBytes, rows, act, stride, n, vectors, out, ostride, Q4_0_BYTES, pack_q4_0_gemm,
                         use_vnni() ? gemm_vnni_chunk : gemm_q4_0_chunk,
                         use_vnni() && use_chunk4() ? gemm_vnni_chunk4 : NULL);
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
    /* a long row's packing in the thread's kept buffer: a malloc and free of it per call (a thread's chunk of rows)
     * cost about as much as 100 rows of 14336 columns, the allocator giving the pages back and faulting them in */
    uint8_t *packed = packBytes <= sizeof stackPack ? stackPack : gemm_buffer(packBytes);
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
        if (vectors == 1) {
            float part[ROWS8];
            rows8_q4_0_direct(row, blocks, act, scale, sum, count8 == ROWS8 ? out + r : part, next,
                              (size_t) ROWS8 * rowBytes);
            if (count8 < ROWS8) {
                memcpy(out + r, part, sizeof(float) * count8);
            }
            continue;
        }
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
    if (zeros != NULL && zeros != zero_row) free(zeros);
    return rc;
}

/*
 * Q4_1, Q4_K and Q6_K: one weight row against up to TILE vectors, each block's quants unpacked (and its scales
 * decoded) once for all of them. The matrix-vector kernel is the same function with one vector (and a prefetch), so
 * a batched product equals the matrix-vector one bit for bit.
 */

/*
 * Q4_1 x Q8_1: d_w d_a sum q a + m_w s_a per block, eight blocks at a time. The activation is first rearranged once
 * per call (q4_1_activation): per pair of blocks, values 0-15 of both, then values 16-31 of both, so that one 256-bit
 * register of two blocks' quant bytes gives, masked, the low nibbles (values 0-15) of both blocks and, shifted, the
 * high ones; and its per-block d_a and s_a as floats, interleaved. The eight blocks' (d_w, m_w) halves are gathered
 * into two registers and converted together: times the interleaved (d_a, s_a) they give every block's scale (even
 * lanes) and min term (odd lanes, summed in float lanes until the end). Blocks past the last eight go one by one.
 */
enum { Q4_1_GROUP = 8 };

/* values for the pairs of the full groups (blocks * 32 bytes), scales for every block (2 * blocks floats) */
static void q4_1_activation(const uint8_t *a, int blocks, uint8_t *values, float *scales) {
    int paired = blocks / Q4_1_GROUP * Q4_1_GROUP;
    for (int b = 0; b < paired; b += 2) {
        const uint8_t *a0 = a + (size_t) b * Q8_1_BYTES + Q8_1_QS, *a1 = a0 + Q8_1_BYTES;
        __m256i x0 = _mm256_loadu_si256((const __m256i *) a0), x1 = _mm256_loadu_si256((const __m256i *) a1);
        uint8_t *v = values + (size_t) b * 32;
        _mm256_storeu_si256((__m256i *) v, _mm256_permute2x128_si256(x0, x1, 0x20));
        _mm256_storeu_si256((__m256i *) (v + 32), _mm256_permute2x128_si256(x0, x1, 0x31));
    }
    for (int b = 0; b < blocks; b++) {
        const uint8_t *ab = a + (size_t) b * Q8_1_BYTES;
        _mm_storel_pi((__m64 *) (scales + 2 * (size_t) b),
                      _mm_cvtph_ps(_mm_cvtsi32_si128((int) (u16_at(ab + Q8_1_D) | (uint32_t) u16_at(ab + Q8_1_S) << 16))));
    }
}

static inline __attribute__((always_inline)) void tile_q4_1(const uint8_t *w, const uint8_t *act, long stride,
        const uint8_t *values, const float *scales, long vstride, int blocks, float *out, long ostride, const int T,
        const int ahead) {
    __m256 acc0[TILE], acc1[TILE], accm[TILE];
    float tail[TILE];
    for (int t = 0; t < T; t++) {
        acc0[t] = acc1[t] = accm[t] = _mm256_setzero_ps();
        tail[t] = 0;
    }
    const __m256i low = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    /* lanes 0-3 the pair's first block's scale (lane 0 or 4 of its group half), lanes 4-7 the second's */
    const __m256i first = _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2), second = _mm256_setr_epi32(4, 4, 4, 4, 6, 6, 6, 6);
    int paired = blocks / Q4_1_GROUP * Q4_1_GROUP;
    for (int b = 0; b < paired; b += Q4_1_GROUP) {
        const uint8_t *wb = w + (size_t) b * Q4_1_BYTES;
        if (ahead) {
            prefetch_block(wb + ahead, Q4_1_GROUP * Q4_1_BYTES + 32);
        }
#define DM(k) ((int) (u16_at(wb + (k) * Q4_1_BYTES + Q4_1_D) | (uint32_t) u16_at(wb + (k) * Q4_1_BYTES + Q4_1_M) << 16))
        __m256 dm0 = _mm256_cvtph_ps(_mm_setr_epi32(DM(0), DM(1), DM(2), DM(3)));
        __m256 dm1 = _mm256_cvtph_ps(_mm_setr_epi32(DM(4), DM(5), DM(6), DM(7)));
#undef DM
        __m256i lo[4], hi[4];
        for (int p = 0; p < 4; p++) {
            const uint8_t *w0 = wb + 2 * p * Q4_1_BYTES + Q4_1_QS;
            __m256i q = _mm256_loadu2_m128i((const __m128i *) (w0 + Q4_1_BYTES), (const __m128i *) w0);
            lo[p] = _mm256_and_si256(q, low);
            hi[p] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
        }
        for (int t = 0; t < T; t++) {
            const float *s = (const float *) ((const uint8_t *) scales + t * vstride) + 2 * (size_t) b;
            const uint8_t *v = values + t * vstride + (size_t) b * 32;
            __m256 g0 = _mm256_mul_ps(dm0, _mm256_loadu_ps(s)), g1 = _mm256_mul_ps(dm1, _mm256_loadu_ps(s + 8));
            accm[t] = _mm256_add_ps(accm[t], _mm256_add_ps(g0, g1));
            for (int p = 0; p < 4; p++) {
                __m256i pl = _mm256_maddubs_epi16(lo[p], _mm256_loadu_si256((const __m256i *) (v + 64 * p)));
                __m256i ph = _mm256_maddubs_epi16(hi[p], _mm256_loadu_si256((const __m256i *) (v + 64 * p + 32)));
                __m256 x = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_add_epi16(pl, ph), ones));
                __m256 sc = _mm256_permutevar8x32_ps(p < 2 ? g0 : g1, (p & 1) ? second : first);
                if (p & 1) {
                    acc1[t] = _mm256_fmadd_ps(x, sc, acc1[t]);
                } else {
                    acc0[t] = _mm256_fmadd_ps(x, sc, acc0[t]);
                }
            }
        }
    }
    for (int b = paired; b < blocks; b++) {
        const uint8_t *wb = w + (size_t) b * Q4_1_BYTES;
        __m256i q = nibbles(wb + Q4_1_QS);
        float dw = half(wb + Q4_1_D), mw = half(wb + Q4_1_M);
        for (int t = 0; t < T; t++) {
            const uint8_t *ab = act + (size_t) t * stride + (size_t) b * Q8_1_BYTES;
            const float *s = (const float *) ((const uint8_t *) scales + t * vstride) + 2 * (size_t) b;
            __m256i p = sum_pairs16(_mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *) (ab + Q8_1_QS))));
            acc0[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * s[0]), acc0[t]);
            tail[t] += mw * s[1];
        }
    }
    for (int t = 0; t < T; t++) {
        /* the min terms are accm's odd lanes */
        __m256 mins = _mm256_blend_ps(_mm256_setzero_ps(), accm[t], 0xaa);
        out[(size_t) t * ostride] = hsum(_mm256_add_ps(_mm256_add_ps(acc0[t], acc1[t]), mins)) + tail[t];
    }
}

/* scratch for the rearranged activation of `vectors` vectors of `blocks` blocks: per vector values then scales */
static inline size_t q4_1_scratch(int blocks) { return (size_t) blocks * (32 + 2 * sizeof(float)); }

/* matrix-vector: the tile's one-vector case, row by row; -2 when out of memory */
static int rows_q4_1(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, int blocks, float *out) {
    uint8_t stack[32768] __attribute__((aligned(32)));
    size_t bytes = q4_1_scratch(blocks);
    uint8_t *scratch = bytes <= sizeof stack ? stack : malloc(bytes);
    if (scratch == NULL) {
        return -2;
    }
    float *scales = (float *) (scratch + (size_t) blocks * 32);
    q4_1_activation(act, blocks, scratch, scales);
    for (int r = 0; r < rows; r++) {
        tile_q4_1(w + r * rowBytes, act, 0, scratch, scales, 0, blocks, out + r, 1, 1, AHEAD);
    }
    if (scratch != stack) {
        free(scratch);
    }
    return 0;
}

/*
 * A Q4_K block's twelve scale bytes as sixteen: the eight 6-bit scales, then the eight 6-bit mins. Scales 0-3 and
 * mins 0-3 are the low six bits of bytes 0-3 and 4-7; scales 4-7 take their low four bits from the low nibbles of
 * bytes 8-11 and their top two from bits 6-7 of bytes 0-3, mins 4-7 from the high nibbles of bytes 8-11 and bits
 * 6-7 of bytes 4-7: a few 32-bit lane operations on one load of the block's first 16 scale-and-quant bytes.
 */
static inline __m128i q4_K_scale_bytes(const uint8_t *s) {
    __m128i u = _mm_loadu_si128((const __m128i *) s);                       /* u0 u1 u2 (and four quant bytes) */
    __m128i six = _mm_and_si128(u, _mm_set1_epi32(0x3f3f3f3f));            /* sc0-3, mn0-3 */
    __m128i top = _mm_and_si128(_mm_srli_epi32(u, 2), _mm_set1_epi32(0x30303030)); /* bits 6-7 of u0, u1 at 4-5 */
    __m128i nib = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(u, 0xaa), _mm_setr_epi32(0, 4, 0, 0)),
                                _mm_set1_epi32(0x0f0f0f0f));                /* low, high nibbles of u2 */
    return _mm_unpacklo_epi32(six, _mm_or_si128(nib, top));                /* sc0-3 sc4-7 mn0-3 mn4-7 */
}

/*
 * Q4_K x Q8_K: d_a (d sum_j sc_j sum q a - dmin sum_j m_j bsum_j) per block. The scales go to 16-bit lanes once per
 * block; scale j reaches the sixteen 16-bit products of its 32 values by a byte shuffle and multiplies them with
 * vpmaddwd, which also sums lane pairs into 32 bits; the mins meet the activation's sixteen bsums (each m_j twice) in
 * one vpmaddwd. Both terms stay in eight float lanes (FMA per block) until the end. One row against T vectors
 * (T = 1: the matrix-vector kernel), every (row, vector) result with the same operations in the same order.
 */
static inline __attribute__((always_inline)) void tile_q4_K(const uint8_t *w, const uint8_t *act, long stride,
        int blocks, float *out, long ostride, const int T, const int ahead) {
    __m256 acc[TILE], accm[TILE];
    for (int t = 0; t < T; t++) {
        acc[t] = _mm256_setzero_ps();
        accm[t] = _mm256_setzero_ps();
    }
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m128i twice = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *wb = w + (size_t) b * Q4_K_BYTES;
        if (ahead) {
            prefetch_block(wb + ahead, Q4_K_BYTES);
        }
        __m128i sm = q4_K_scale_bytes(wb + Q4_K_SCALES);
        /* scales 0-7 as words, in both 128-bit lanes; word j to all sixteen words by a byte shuffle */
        __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
        /* the mins, byte 8 + j twice, widened: words 2j and 2j + 1 = m_j, against bsums 2j and 2j + 1 */
        __m256i mins16 = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm, twice));
        __m256i lo[4], hi[4], slo[4], shi[4];
        for (int q = 0; q < 4; q++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *) (wb + Q4_K_QS + 32 * q));
            lo[q] = _mm256_and_si256(bytes, low);
            hi[q] = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low);
            /* scale 2q for the low nibbles of quant bytes 32q..32q+31, scale 2q + 1 for their high nibbles */
            slo[q] = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16((short) ((4 * q + 1) << 8 | 4 * q)));
            shi[q] = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16((short) ((4 * q + 3) << 8 | (4 * q + 2))));
        }
        __m128 dd = _mm_cvtph_ps(_mm_cvtsi32_si128((int) (u16_at(wb + Q4_K_D) | (uint32_t) u16_at(wb + Q4_K_DMIN) << 16)));
        for (int t = 0; t < T; t++) {
            const uint8_t *ab = act + (size_t) t * stride + (size_t) b * Q8_K_BYTES;
            __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
            for (int q = 0; q < 4; q++) {
                const uint8_t *aq = ab + Q8_K_QS + 64 * q;
                __m256i plo = _mm256_maddubs_epi16(lo[q], _mm256_loadu_si256((const __m256i *) aq));
                __m256i phi = _mm256_maddubs_epi16(hi[q], _mm256_loadu_si256((const __m256i *) (aq + 32)));
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(plo, slo[q]));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(phi, shi[q]));
            }
            __m256i m = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *) (ab + Q8_K_BSUMS)), mins16);
            __m128 da = _mm_mul_ps(dd, _mm_set1_ps(f32_at(ab + Q8_K_D)));  /* d d_a, dmin d_a */
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), _mm256_broadcastss_ps(da), acc[t]);
            accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), _mm256_broadcastss_ps(_mm_movehdup_ps(da)), accm[t]);
        }
    }
    for (int t = 0; t < T; t++) {
        out[(size_t) t * ostride] = hsum(_mm256_sub_ps(acc[t], accm[t]));
    }
}

/*
 * ---- Q8_0 and Q4_K matrix-matrix products with AVX-512 VNNI (a prompt's vectors, four or more) ----
 *
 * As the Q4_0 one above: 32 rows against one vector per step, the rows' quants regrouped so that 32-bit lane r of a
 * register holds four consecutive quant bytes of row r, one broadcast of four activation bytes serving 32 rows
 * through vpdpbusd with the weights as its memory operand. vpdpbusd multiplies unsigned by signed bytes and sums four
 * products into 32 bits without saturation, so the activation goes unsigned (value + 128, a copy made once per call)
 * and the weights signed: sum (a + 128) w = sum a w + 128 sum w, the last term packed per row and block. Integer sums
 * are exact; each (row, vector) result takes one FMA per block (acc = fma(float(sum), d_w * d_a, acc); Q4_K also its
 * mins' term) in block order, so it does not depend on the vector count or the threads' row split, but it is not the
 * row kernel's float order (lane partials, one horizontal sum): it agrees with the reference within the tolerance.
 */

/* eight rows' 32 bytes at p[r] as eight registers: lane r of q[c] = bytes 4c..4c+3 of row r (an 8 x 8 transpose of
 * 32-bit elements) */
static inline __attribute__((always_inline)) void transpose8x32(const __m256i r[8], __m256i q[8]) {
    __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    q[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    q[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    q[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    q[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    q[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    q[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    q[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    q[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

/* one packed Q8_0 block of 32 rows: per group of eight rows 8 x 32 quant bytes (lane r = row r), then the 32 rows'
 * offsets 128 * sum w as int32, then their scales as floats (the Q4_0 block's size and field offsets) */
__attribute__((target(VNNI_TARGET)))
static void pack_q8_0_gemm(const uint8_t *const row[GEMM_ROWS], int b0, int count, uint8_t *packed) {
    const __m256i ones = _mm256_set1_epi8(1);
    for (int b = 0; b < count; b++) {
        size_t o = (size_t) (b0 + b) * Q8_0_BYTES;
        uint8_t *pb = packed + (size_t) b * GEMM_BLOCK;
        for (int g = 0; g < 4; g++) {
            const uint8_t *const *r = row + 8 * g;
            __m256i in[8], q[8];
            for (int i = 0; i < 8; i++) in[i] = _mm256_loadu_si256((const __m256i *) (r[i] + o + Q8_0_QS));
            transpose8x32(in, q);
            __m256i sum = _mm256_setzero_si256();
            for (int c = 0; c < 8; c++) {
                _mm256_storeu_si256((__m256i *) (pb + GEMM_AT(g, c)), q[c]);
                sum = _mm256_dpbusd_epi32(sum, ones, q[c]);
            }
            _mm256_storeu_si256((__m256i *) (pb + GEMM_OFFSETS + 32 * g), _mm256_slli_epi32(sum, 7));
            __m128i h = _mm_setr_epi16(i16_at(r[0] + o), i16_at(r[1] + o), i16_at(r[2] + o), i16_at(r[3] + o),
                                       i16_at(r[4] + o), i16_at(r[5] + o), i16_at(r[6] + o), i16_at(r[7] + o));
            _mm256_storeu_ps((float *) (pb + GEMM_SCALES + 32 * g), _mm256_cvtph_ps(h));
        }
    }
}

static int q8_0_gemm(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, long stride, int n, int vectors,
                     float *out, long ostride) {
    return gemm_blocks32(w, rowBytes, rows, act, stride, n, vectors, out, ostride, Q8_0_BYTES, pack_q8_0_gemm,
                         gemm_vnni_chunk, use_chunk4() ? gemm_vnni_chunk4 : NULL);
}

/*
 * Q4_K: per block of 256 values and row, sum_j sc_j S_j (S_j = sum of group j's 32 products q a) and sum_j m_j bsum_j
 * in integers, then acc = fma(float(first), d d_a, acc) and accm = fma(float(second), dmin d_a, accm), the result
 * acc - accm. Unlike Q4_0 and Q8_0 the quants (0..15) are unsigned, so they are vpdpbusd's unsigned operand and the
 * activation's bytes, as the Java side quantized them, its signed one: no shifted copy of the activation and no offset
 * term per row (|sum_j sc_j S_j| <= 8 * 63 * 32 * 15 * 128 < 2^31: exact). A packed block of 32 rows: per group j and
 * row group g 8 x 32 quant bytes; per group j the 32 rows' scales as int32; per pair of groups (2i, 2i + 1) the rows'
 * mins as two 16-bit words, for one vpdpwssd against the activation's 32-value sums of those groups (bsums 2j and
 * 2j + 1 added, made once per call: |sum| <= 32 * 128 fits 16 bits; half the instructions of one a group, the same
 * integers); d and dmin as floats.
 */
enum {
    K_QUANTS = 0,                       /* 8 groups x 1024 bytes, laid out as GEMM_AT (16-row halves) */
    K_SCALES = K_QUANTS + 8 * 1024,     /* 8 groups x 32 int32 */
    K_MINS = K_SCALES + 8 * 128,        /* 4 group pairs x 32 int32: (m_2i, m_2i+1) as two words */
    K_D = K_MINS + 4 * 128,             /* 32 floats */
    K_DMIN = K_D + 128,                 /* 32 floats */
    K_BLOCK = K_DMIN + 128
};
/* blocks per chunk: two packed blocks (20 KB) stay in L1 while every vector passes over them */
#define GEMM_KC_K 2

__attribute__((target(VNNI_TARGET)))
static void pack_q4_K_gemm(const uint8_t *const row[GEMM_ROWS], int b0, int count, uint8_t *packed) {
    const __m256i low = _mm256_set1_epi8(0x0f);
    for (int b = 0; b < count; b++) {
        size_t o = (size_t) (b0 + b) * Q4_K_BYTES;
        uint8_t *pb = packed + (size_t) b * K_BLOCK;
        int32_t *sc = (int32_t *) (pb + K_SCALES), *mins = (int32_t *) (pb + K_MINS);
        float *d = (float *) (pb + K_D), *dmin = (float *) (pb + K_DMIN);
        uint8_t sm[GEMM_ROWS][16];
        for (int r = 0; r < GEMM_ROWS; r++) {
            const uint8_t *wb = row[r] + o;
            _mm_storeu_si128((__m128i *) sm[r], q4_K_scale_bytes(wb + Q4_K_SCALES));
            d[r] = half(wb + Q4_K_D);
            dmin[r] = half(wb + Q4_K_DMIN);
            for (int j = 0; j < 8; j++) sc[32 * j + r] = sm[r][j];
            for (int i = 0; i < 4; i++) mins[32 * i + r] = sm[r][8 + 2 * i] | (int32_t) sm[r][9 + 2 * i] << 16;
        }
        for (int g = 0; g < 4; g++) {
            const uint8_t *const *rg = row + 8 * g;
            for (int h = 0; h < 4; h++) {
                /* byte run h transposed once, then split: groups 2h (low nibbles) and 2h + 1 (high ones) */
                __m256i bytes[8], q[8];
                for (int i = 0; i < 8; i++) bytes[i] = _mm256_loadu_si256((const __m256i *) (rg[i] + o + Q4_K_QS + 32 * h));
                transpose8x32(bytes, q);
                for (int c = 0; c < 8; c++) {
                    _mm256_storeu_si256((__m256i *) (pb + K_QUANTS + 1024 * (2 * h) + GEMM_AT(g, c)),
                                        _mm256_and_si256(q[c], low));
                    _mm256_storeu_si256((__m256i *) (pb + K_QUANTS + 1024 * (2 * h + 1) + GEMM_AT(g, c)),
                                        _mm256_and_si256(_mm256_srli_epi16(q[c], 4), low));
                }
            }
        }
    }
}

/* block b of a vector's Q8_K activation: its 256 values, its scale */
#define Q8K_VALUES(a, b) ((a) + (size_t) (b) * Q8_K_BYTES + Q8_K_QS)
#define Q8K_SCALE(a, b) f32_at((a) + (size_t) (b) * Q8_K_BYTES + Q8_K_D)

/* the mins' operand of every vector's blocks: word i of block b = the sums of groups 2i and 2i + 1 as 16-bit halves */
static void q4_K_group_sums(const uint8_t *act, long stride, int vectors, int blocks, int32_t *sums) {
    for (int v = 0; v < vectors; v++) {
        for (int b = 0; b < blocks; b++) {
            const uint8_t *bs = act + (size_t) v * stride + (size_t) b * Q8_K_BYTES + Q8_K_BSUMS;
            int32_t *to = sums + ((size_t) v * blocks + b) * 4;
            for (int i = 0; i < 4; i++) {
                int lo = i16_at(bs + 8 * i) + i16_at(bs + 8 * i + 2), hi = i16_at(bs + 8 * i + 4) + i16_at(bs + 8 * i + 6);
                to[i] = (int32_t) ((uint32_t) (uint16_t) lo | (uint32_t) (uint16_t) hi << 16);
            }
        }
    }
}

/* one vector (its Q8_K blocks from the chunk's first) over one chunk: acc and accm (32 floats each, rows in order)
 * continued, or started when first; 16 rows a 512-bit register, the integer sums and float operations of the 256-bit
 * version it replaced (the same bits) */
__attribute__((noinline, target(VNNI_TARGET)))
static void gemm_q4_K_chunk(const uint8_t *packed, int count, const uint8_t *act, const int32_t *gsum, float *acc,
                            float *accm, int first) {
    __m512 a[2], m[2];
    for (int h = 0; h < 2; h++) {
        a[h] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(acc + 16 * h);
        m[h] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(accm + 16 * h);
    }
    for (int b = 0; b < count; b++) {
        const uint8_t *pb = packed + (size_t) b * K_BLOCK;
        const uint8_t *ab = Q8K_VALUES(act, b);
        __m512i total[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
        for (int j = 0; j < 8; j++) {
            const uint8_t *pj = pb + K_QUANTS + 1024 * j;
            const uint8_t *aj = ab + 32 * j;
            __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
            __m512i t0 = _mm512_setzero_si512(), t1 = _mm512_setzero_si512();
            for (int c = 0; c < 8; c += 2) {
                __m512i x0 = _mm512_set1_epi32(i32_at(aj + 4 * c));
                __m512i x1 = _mm512_set1_epi32(i32_at(aj + 4 * c + 4));
                s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512((const void *) (pj + 64 * c)), x0);
                s1 = _mm512_dpbusd_epi32(s1, _mm512_loadu_si512((const void *) (pj + 512 + 64 * c)), x0);
                t0 = _mm512_dpbusd_epi32(t0, _mm512_loadu_si512((const void *) (pj + 64 * c + 64)), x1);
                t1 = _mm512_dpbusd_epi32(t1, _mm512_loadu_si512((const void *) (pj + 512 + 64 * c + 64)), x1);
            }
            __m512i sc0 = _mm512_loadu_si512((const void *) (pb + K_SCALES + 128 * j));
            __m512i sc1 = _mm512_loadu_si512((const void *) (pb + K_SCALES + 128 * j + 64));
            total[0] = _mm512_add_epi32(total[0], _mm512_mullo_epi32(_mm512_add_epi32(s0, t0), sc0));
            total[1] = _mm512_add_epi32(total[1], _mm512_mullo_epi32(_mm512_add_epi32(s1, t1), sc1));
        }
        __m512 d = _mm512_set1_ps(Q8K_SCALE(act, b));
        for (int h = 0; h < 2; h++) {
            __m512i mn = _mm512_madd_epi16(_mm512_loadu_si512((const void *) (pb + K_MINS + 64 * h)),
                                           _mm512_set1_epi32(gsum[4 * b]));
            for (int i = 1; i < 4; i++) {
                mn = _mm512_dpwssd_epi32(mn, _mm512_loadu_si512((const void *) (pb + K_MINS + 128 * i + 64 * h)),
                                         _mm512_set1_epi32(gsum[4 * b + i]));
            }
            __m512 wd = _mm512_loadu_ps((const float *) (pb + K_D + 64 * h));
            __m512 wm = _mm512_loadu_ps((const float *) (pb + K_DMIN + 64 * h));
            a[h] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total[h]), _mm512_mul_ps(wd, d), a[h]);
            m[h] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mn), _mm512_mul_ps(wm, d), m[h]);
        }
    }
    for (int h = 0; h < 2; h++) {
        _mm512_storeu_ps(acc + 16 * h, a[h]);
        _mm512_storeu_ps(accm + 16 * h, m[h]);
    }
}

/*
 * gemm_q4_K_chunk for four vectors at once (vector i's activation at act + i * stride), for the reason of
 * gemm_vnni_chunk4: each packed weight register, loaded once, serves four vectors, and eight accumulator chains run
 * side by side instead of two. The integer sums per lane are the same exact integers and each vector's float
 * operations gemm_q4_K_chunk's, in its order: the same bits.
 */
__attribute__((noinline, target(VNNI_TARGET)))
static void gemm_q4_K_chunk4(const uint8_t *packed, int count, const uint8_t *act, long stride, const int32_t *gsum,
                             long gstride, float *const acc[GEMM_VECS], int first) {
    __m512 a[GEMM_VECS][2], m[GEMM_VECS][2];
    for (int v = 0; v < GEMM_VECS; v++) {
        for (int h = 0; h < 2; h++) {
            a[v][h] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(acc[v] + 16 * h);
            m[v][h] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(acc[v] + GEMM_ROWS + 16 * h);
        }
    }
    for (int b = 0; b < count; b++) {
        const uint8_t *pb = packed + (size_t) b * K_BLOCK;
        const uint8_t *ab = Q8K_VALUES(act, b);
        __m512i total[GEMM_VECS][2];
        for (int v = 0; v < GEMM_VECS; v++) {
            total[v][0] = total[v][1] = _mm512_setzero_si512();
        }
        for (int j = 0; j < 8; j++) {
            const uint8_t *pj = pb + K_QUANTS + 1024 * j;
            const uint8_t *aj = ab + 32 * j;
            __m512i s[GEMM_VECS][2];
            for (int v = 0; v < GEMM_VECS; v++) {
                s[v][0] = s[v][1] = _mm512_setzero_si512();
            }
            for (int c = 0; c < 8; c++) {
                __m512i w0 = _mm512_loadu_si512((const void *) (pj + 64 * c));
                __m512i w1 = _mm512_loadu_si512((const void *) (pj + 512 + 64 * c));
                for (int v = 0; v < GEMM_VECS; v++) {
                    __m512i x = _mm512_set1_epi32(i32_at(aj + v * stride + 4 * c));
                    s[v][0] = _mm512_dpbusd_epi32(s[v][0], w0, x);
                    s[v][1] = _mm512_dpbusd_epi32(s[v][1], w1, x);
                }
            }
            __m512i sc0 = _mm512_loadu_si512((const void *) (pb + K_SCALES + 128 * j));
            __m512i sc1 = _mm512_loadu_si512((const void *) (pb + K_SCALES + 128 * j + 64));
            for (int v = 0; v < GEMM_VECS; v++) {
                total[v][0] = _mm512_add_epi32(total[v][0], _mm512_mullo_epi32(s[v][0], sc0));
                total[v][1] = _mm512_add_epi32(total[v][1], _mm512_mullo_epi32(s[v][1], sc1));
            }
        }
        for (int v = 0; v < GEMM_VECS; v++) {
            const int32_t *gs = gsum + v * gstride + 4 * b;
            __m512 d = _mm512_set1_ps(Q8K_SCALE(act + v * stride, b));
            for (int h = 0; h < 2; h++) {
                __m512i mn = _mm512_madd_epi16(_mm512_loadu_si512((const void *) (pb + K_MINS + 64 * h)),
                                               _mm512_set1_epi32(gs[0]));
                for (int i = 1; i < 4; i++) {
                    mn = _mm512_dpwssd_epi32(mn, _mm512_loadu_si512((const void *) (pb + K_MINS + 128 * i + 64 * h)),
                                             _mm512_set1_epi32(gs[i]));
                }
                __m512 wd = _mm512_loadu_ps((const float *) (pb + K_D + 64 * h));
                __m512 wm = _mm512_loadu_ps((const float *) (pb + K_DMIN + 64 * h));
                a[v][h] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total[v][h]), _mm512_mul_ps(wd, d), a[v][h]);
                m[v][h] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mn), _mm512_mul_ps(wm, d), m[v][h]);
            }
        }
    }
    for (int v = 0; v < GEMM_VECS; v++) {
        for (int h = 0; h < 2; h++) {
            _mm512_storeu_ps(acc[v] + 16 * h, a[v][h]);
            _mm512_storeu_ps(acc[v] + GEMM_ROWS + 16 * h, m[v][h]);
        }
    }
}

static int q4_K_gemm(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, long stride, int n, int vectors,
                     float *out, long ostride) {
    int blocks = n / 256;
    size_t part = (size_t) vectors * 2 * GEMM_ROWS * sizeof(float), sums = (size_t) vectors * blocks * 4 * sizeof(int32_t);
    gemm_frame f;
    if (gemm_open(&f, part + sums + (size_t) GEMM_KC_K * K_BLOCK + 64, rows, rowBytes) != 0) {
        return -2;
    }
    float *partial = (float *) f.scratch;
    int32_t *gsum = (int32_t *) (f.scratch + part);
    uint8_t *packed = (uint8_t *) (((uintptr_t) (f.scratch + part + sums) + 63) & ~(uintptr_t) 63);
    q4_K_group_sums(act, stride, vectors, blocks, gsum);
    for (int r0 = 0; r0 < rows; r0 += GEMM_ROWS) {
        int count = rows - r0 < GEMM_ROWS ? rows - r0 : GEMM_ROWS;
        const uint8_t *row[GEMM_ROWS];
        gemm_rows(w, rowBytes, r0, count, f.zeros, row);
        for (int k0 = 0; k0 < blocks; k0 += GEMM_KC_K) {
            int kc = blocks - k0 < GEMM_KC_K ? blocks - k0 : GEMM_KC_K;
            pack_q4_K_gemm(row, k0, kc, packed);
            /* the next chunk's lines fetched a few before each vector pass, as gemm_blocks32 does: without them the
             * next packing waited on 32 short row streams (one core, 5632 x 2048 x 64: 15-20 % of the product) */
            int nextRow = k0 + GEMM_KC_K < blocks ? r0 : r0 + GEMM_ROWS;
            int nextBlock = k0 + GEMM_KC_K < blocks ? k0 + GEMM_KC_K : 0;
            int nextRows = rows - nextRow < GEMM_ROWS ? rows - nextRow : GEMM_ROWS;
            const int chunkBytes = GEMM_KC_K * Q4_K_BYTES, lines = (chunkBytes + 63) / 64 + 1;
            int fetch = nextRows > 0 ? nextRows * lines : 0;
            /* line `line` of row `ahead` is the next to fetch (the rows' lines in turn, spread over the passes) */
            const uint8_t *next = w + (size_t) nextRow * rowBytes + (size_t) nextBlock * Q4_K_BYTES;
            int fetched = 0, ahead = 0, line = 0;
            for (int v = 0; v < vectors;) {
                int step = vectors - v >= GEMM_VECS && use_chunk4() ? GEMM_VECS : 1;
                for (int until = (int) ((long) fetch * (v + step) / vectors); fetched < until; fetched++) {
                    _mm_prefetch((const char *) next + (size_t) ahead * rowBytes
                                 + (line + 1 < lines ? 64 * line : chunkBytes - 1), _MM_HINT_T0);
                    if (++line == lines) {
                        line = 0;
                        ahead++;
                    }
                }
                const uint8_t *a = act + (size_t) v * stride + (size_t) k0 * Q8_K_BYTES;
                const int32_t *gs = gsum + ((size_t) v * blocks + k0) * 4;
                if (step == GEMM_VECS) {
                    float *acc[GEMM_VECS];
                    for (int i = 0; i < GEMM_VECS; i++) acc[i] = partial + (size_t) (v + i) * 2 * GEMM_ROWS;
                    gemm_q4_K_chunk4(packed, kc, a, stride, gs, (long) blocks * 4, acc, k0 == 0);
                    v += GEMM_VECS;
                } else {
                    float *acc = partial + (size_t) v * 2 * GEMM_ROWS;
                    gemm_q4_K_chunk(packed, kc, a, gs, acc, acc + GEMM_ROWS, k0 == 0);
                    v++;
                }
            }
        }
        for (int v = 0; v < vectors; v++) {
            const float *acc = partial + (size_t) v * 2 * GEMM_ROWS;
            float *to = out + (size_t) v * ostride + r0;
            for (int i = 0; i < count; i++) to[i] = acc[i] - acc[GEMM_ROWS + i];
        }
    }
    gemm_close(&f);
    return 0;
}

/*
 * ---- Q4_K and Q6_K matrix-vector rows with AVX-512 (VNNI) ----
 *
 * The one-vector kernels above unpack 32 values a 256-bit register and scale each 32-bit pair sum with a vpmaddwd and
 * an add: with the weights in cache they ran at 19.5 (Q4_K) and 23 GB/s (Q6_K), below the 25 GB/s one core streams
 * from DRAM, so the product waited on the instructions, not the memory. Here 64 values go a 512-bit register and
 * vpdpwssd scales and adds in one instruction. Every 256-bit half holds one 32-value group in its natural order, so
 * once the block's two halves are added, 32-bit lane i holds exactly the integer sum the 256-bit kernel has in lane i
 * (integer sums are exact in any order): the float operations that follow are the tile's, and a row's result is the
 * same bits whichever kernel computed it (and so equal to the batched tiles').
 */

/*
 * Software prefetch AHEAD bytes on, as the 256-bit kernels. Alternated in one process on 4096 x 14336 (one core), the
 * answer changed with what the other processes were doing to DRAM: in one sitting no prefetch was 10-12 % faster for
 * Q8_0 (Q4_K, Q6_K the same within the noise); in a later one, with more contention, prefetching 2 KB ahead was 15-20 %
 * faster for all three, and the JMH product (Java 25, Q8_0) was faster with it in three rounds of three. Kept, as the
 * safer one. Two or four rows streamed at once (one activation load for all) made Q8_0 20-65 % slower: one row at a
 * time. AHEAD_VNNI=0 turns the near prefetches off for a trial.
 *
 * A second, farther prefetch, FAR_VNNI bytes on into L2 (prefetcht1), keeps enough lines in flight for DRAM's latency:
 * 2 KB (32 lines) alone is too few for one core to stream these rows as fast as it computes them (earlier trials went
 * up to 4 KB). rows_timing.c, 4096 x 14336 from DRAM, one thread's CPU time, alternated six rounds at load 3-7, median
 * us for 2 KB alone / 2 KB + 12 KB far / 16 KB alone into L1: Q4_K 1415 / 990 / 1085, Q6_K 2650 / 1510 / 1850, Q8_0
 * 2140 / 1840 / 1880 (a second sitting the same order, 8 KB far between); two threads' wall (loaded, direction only)
 * 20-30 % faster. The near prefetch stays: 16 KB into L1 alone was as fast from DRAM but 10-17 % slower with the
 * weights in L3 (1024 x 14336, Q6_K 218 -> 256 us, the far L1 lines evicting the activation's), 12 KB into L2 costs
 * 0-5 % there. FAR_VNNI=0 turns the far prefetch off for a trial.
 */
#ifndef AHEAD_VNNI
#define AHEAD_VNNI AHEAD
#endif
#ifndef FAR_VNNI
#define FAR_VNNI 12288
#endif

/* the lines of [p + AHEAD_VNNI, + bytes) into L1 and of [p + FAR_VNNI, + bytes) into L2 */
static inline __attribute__((always_inline)) void prefetch_vnni(const uint8_t *p, const int bytes) {
    if (AHEAD_VNNI) {
        prefetch_block(p + AHEAD_VNNI, bytes);
    }
    if (FAR_VNNI) {
        for (int o = 0; o < bytes; o += 64) {
            _mm_prefetch((const char *) p + FAR_VNNI + o, _MM_HINT_T1);
        }
    }
}

/* per thread, kept between calls (a decode step's products allocate nothing): the regrouped activation */
static __thread uint8_t *regroup_scratch;
static __thread size_t regroup_scratch_bytes;

static uint8_t *regroup_buffer(size_t bytes) {
    if (bytes > regroup_scratch_bytes) {
        free(regroup_scratch);
        regroup_scratch = aligned_alloc(64, (bytes + 63) / 64 * 64);
        regroup_scratch_bytes = regroup_scratch == NULL ? 0 : bytes;
    }
    return regroup_scratch;
}

/* Q4_K: quant bytes 64p..64p+63 hold groups 4p and 4p + 2 (low nibbles) and 4p + 1 and 4p + 3 (high nibbles), so the
 * activation's 32-value groups are regrouped once per call to 0 2 1 3 4 6 5 7 */
static void q4_K_regroup(const uint8_t *act, int blocks, uint8_t *out) {
    for (int b = 0; b < blocks; b++) {
        const uint8_t *q = act + (size_t) b * Q8_K_BYTES + Q8_K_QS;
        uint8_t *o = out + (size_t) b * 256;
        for (int p = 0; p < 2; p++) {
            memcpy(o + 128 * p, q + 128 * p, 32);
            memcpy(o + 128 * p + 32, q + 128 * p + 64, 32);
            memcpy(o + 128 * p + 64, q + 128 * p + 32, 32);
            memcpy(o + 128 * p + 96, q + 128 * p + 96, 32);
        }
    }
}

/* word j (of eight) of every 128-bit lane of the low 256 bits, word k of the high ones, by a byte shuffle */
__attribute__((target(VNNI_TARGET)))
static inline __m512i word_select(int j, int k) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short) ((2 * j + 1) << 8 | 2 * j))),
                              _mm256_set1_epi16((short) ((2 * k + 1) << 8 | 2 * k)), 1);
}

__attribute__((noinline, target(VNNI_TARGET)))
static void rows_q4_K_vnni(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, const uint8_t *regrouped,
                           int blocks, float *out) {
    const __m512i low = _mm512_set1_epi8(0x0f);
    const __m128i twice = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    const __m512i sel0 = word_select(0, 2), sel1 = word_select(1, 3), sel2 = word_select(4, 6), sel3 = word_select(5, 7);
    for (int r = 0; r < rows; r++) {
        const uint8_t *wr = w + r * rowBytes;
        __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
        for (int b = 0; b < blocks; b++) {
            const uint8_t *wb = wr + (size_t) b * Q4_K_BYTES;
            const uint8_t *ab = act + (size_t) b * Q8_K_BYTES;
            const uint8_t *aq = regrouped + (size_t) b * 256;
            prefetch_vnni(wb, Q4_K_BYTES);
            __m128i sm = q4_K_scale_bytes(wb + Q4_K_SCALES);
            __m512i sc16 = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(sm));
            __m256i mins16 = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm, twice));
            __m512i x0 = _mm512_loadu_si512((const void *) (wb + Q4_K_QS));
            __m512i x1 = _mm512_loadu_si512((const void *) (wb + Q4_K_QS + 64));
            __m512i p0 = _mm512_maddubs_epi16(_mm512_and_si512(x0, low), _mm512_loadu_si512((const void *) aq));
            __m512i p1 = _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(x0, 4), low),
                                              _mm512_loadu_si512((const void *) (aq + 64)));
            __m512i p2 = _mm512_maddubs_epi16(_mm512_and_si512(x1, low), _mm512_loadu_si512((const void *) (aq + 128)));
            __m512i p3 = _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(x1, 4), low),
                                              _mm512_loadu_si512((const void *) (aq + 192)));
            __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), p0, _mm512_shuffle_epi8(sc16, sel0));
            __m512i t = _mm512_dpwssd_epi32(_mm512_setzero_si512(), p1, _mm512_shuffle_epi8(sc16, sel1));
            s = _mm512_dpwssd_epi32(s, p2, _mm512_shuffle_epi8(sc16, sel2));
            t = _mm512_dpwssd_epi32(t, p3, _mm512_shuffle_epi8(sc16, sel3));
            s = _mm512_add_epi32(s, t);
            __m256i sum = _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1));
            __m256i m = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *) (ab + Q8_K_BSUMS)), mins16);
            __m128 dd = _mm_cvtph_ps(_mm_cvtsi32_si128((int) (u16_at(wb + Q4_K_D) | (uint32_t) u16_at(wb + Q4_K_DMIN) << 16)));
            __m128 da = _mm_mul_ps(dd, _mm_set1_ps(f32_at(ab + Q8_K_D)));
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_broadcastss_ps(da), acc);
            accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), _mm256_broadcastss_ps(_mm_movehdup_ps(da)), accm);
        }
        out[r] = hsum(_mm256_sub_ps(acc, accm));
    }
}

/* matrix-vector: the tile's one-vector case, row by row (AVX-512 VNNI: the kernel above); -2 when out of memory */
static int rows_q4_K(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, int blocks, float *out) {
    if (!use_vnni()) {
        for (int r = 0; r < rows; r++) tile_q4_K(w + r * rowBytes, act, 0, blocks, out + r, 1, 1, AHEAD);
        return 0;
    }
    uint8_t *regrouped = regroup_buffer((size_t) 256 * blocks);
    if (regrouped == NULL) {
        return -2;
    }
    q4_K_regroup(act, blocks, regrouped);
    rows_q4_K_vnni(w, rowBytes, rows, act, regrouped, blocks, out);
    return 0;
}

/*
 * Q6_K's offset: per block the sums of every 16 activation values (computed from the values, so the result never
 * depends on the bsums field), as 16-bit words in the order the kernel's scales take: the even groups' sums in the
 * low 128-bit lane, the odd groups' in the high one (|sum| <= 16 * 128 fits a word).
 */
static void q6_K_sums(const uint8_t *a, int blocks, int16_t *out) {
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *q = a + (size_t) b * Q8_K_BYTES + Q8_K_QS;
        __m256i s[8];
        for (int k = 0; k < 8; k++) {
            /* sums of four values: words 0-3 of a lane values 0-15 of these 32 (group 2k), words 4-7 values 16-31 */
            s[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, _mm256_loadu_si256((const __m256i *) (q + 32 * k))), ones16);
        }
        /* two rounds of pair sums: per lane the groups 2k (low) / 2k + 1 (high) of k = 0-3, then of k = 4-7 */
        __m256i lo = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
        __m256i hi = _mm256_hadd_epi32(_mm256_hadd_epi32(s[4], s[5]), _mm256_hadd_epi32(s[6], s[7]));
        _mm256_storeu_si256((__m256i *) (out + 16 * (size_t) b), _mm256_packs_epi32(lo, hi));
    }
}

/*
 * Q6_K x Q8_K: d d_a sum_j sc_j (sum q a - 32 sum_j a), q the 6-bit unsigned level, all in integers per block. The
 * sixteen signed scales go to words once per block, even groups' in the low lane and odd groups' in the high one: a
 * 32-value product (groups 2m and 2m + 1 in its two lanes) then takes its scales with one byte shuffle, and vpmaddwd
 * scales and sums lane pairs into 32 bits; the offset is one vpmaddwd of the same scales with the groups' sums. One
 * row against T vectors (T = 1: the matrix-vector kernel), every result with the same operations in the same order.
 */
static inline __attribute__((always_inline)) void tile_q6_K(const uint8_t *w, const uint8_t *act, long stride,
        int blocks, const int16_t *sums16, float *out, long ostride, const int T, const int ahead) {
    __m256 acc[TILE];
    for (int t = 0; t < T; t++) {
        acc[t] = _mm256_setzero_ps();
    }
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i two = _mm256_set1_epi8(0x30);
    const __m128i evenOdd = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *wb = w + (size_t) b * Q6_K_BYTES;
        if (ahead) {
            prefetch_block(wb + ahead, Q6_K_BYTES + 64);
        }
        __m256i sc = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (wb + Q6_K_SCALES)), evenOdd));
        __m256i q[8], s[8];
        for (int h = 0; h < 2; h++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *) (wb + Q6_K_QL + 64 * h));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *) (wb + Q6_K_QL + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *) (wb + Q6_K_QH + 32 * h));
            q[4 * h] = _mm256_or_si256(_mm256_and_si256(ql0, low), _mm256_and_si256(_mm256_slli_epi16(qh, 4), two));
            q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(ql1, low), _mm256_and_si256(_mm256_slli_epi16(qh, 2), two));
            q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low), _mm256_and_si256(qh, two));
            q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low),
                                           _mm256_and_si256(_mm256_srli_epi16(qh, 2), two));
        }
        for (int m = 0; m < 8; m++) {
            /* word m of each lane: scale 2m (low lane), 2m + 1 (high lane) */
            s[m] = _mm256_shuffle_epi8(sc, _mm256_set1_epi16((short) ((2 * m + 1) << 8 | 2 * m)));
        }
        float dw = half(wb + Q6_K_D);
        for (int t = 0; t < T; t++) {
            const uint8_t *aq = act + (size_t) t * stride + (size_t) b * Q8_K_BYTES + Q8_K_QS;
            __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
            for (int m = 0; m < 8; m += 2) {
                __m256i p0 = _mm256_maddubs_epi16(q[m], _mm256_loadu_si256((const __m256i *) (aq + 32 * m)));
                __m256i p1 = _mm256_maddubs_epi16(q[m + 1], _mm256_loadu_si256((const __m256i *) (aq + 32 * m + 32)));
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(p0, s[m]));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(p1, s[m + 1]));
            }
            __m256i offset = _mm256_madd_epi16(sc, _mm256_loadu_si256((const __m256i *) (sums16 + ((size_t) t * blocks + b) * 16)));
            __m256i sum = _mm256_sub_epi32(_mm256_add_epi32(s0, s1), _mm256_slli_epi32(offset, 5));
            float d = dw * f32_at(act + (size_t) t * stride + (size_t) b * Q8_K_BYTES + Q8_K_D);
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(d), acc[t]);
        }
    }
    for (int t = 0; t < T; t++) {
        out[(size_t) t * ostride] = hsum(acc[t]);
    }
}

/*
 * Q6_K with AVX-512 VNNI (see the Q4_K kernel's note): quant bytes 64h..64h+63 (low bits) and the 32 high-bit bytes
 * of half h give values 128h..128h+63 in one register (the high bits shifted by 4 for the first 32, by 2 for the
 * next) and values 128h+64..128h+127 in another, each against 64 consecutive activation bytes: no regrouping.
 */
__attribute__((noinline, target(VNNI_TARGET)))
static void rows_q6_K_vnni(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, int blocks,
                           const int16_t *sums16, float *out) {
    const __m512i low = _mm512_set1_epi8(0x0f);
    const __m512i two = _mm512_set1_epi8(0x30);
    const __m512i up = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i down = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m128i evenOdd = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    /* lane l (of four 128-bit lanes) takes scale 2m + l: even groups' words are in lanes 0 and 2, odd in 1 and 3 */
    const __m512i sel0 = word_select(0, 1), sel1 = word_select(2, 3), sel2 = word_select(4, 5), sel3 = word_select(6, 7);
    for (int r = 0; r < rows; r++) {
        const uint8_t *wr = w + r * rowBytes;
        __m256 acc = _mm256_setzero_ps();
        for (int b = 0; b < blocks; b++) {
            const uint8_t *wb = wr + (size_t) b * Q6_K_BYTES;
            const uint8_t *ab = act + (size_t) b * Q8_K_BYTES;
            prefetch_vnni(wb, Q6_K_BYTES + 64);
            __m256i sc = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (wb + Q6_K_SCALES)), evenOdd));
            __m512i sc2 = _mm512_broadcast_i64x4(sc);
            __m512i s = _mm512_setzero_si512(), t = _mm512_setzero_si512();
            for (int h = 0; h < 2; h++) {
                __m512i ql = _mm512_loadu_si512((const void *) (wb + Q6_K_QL + 64 * h));
                __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) (wb + Q6_K_QH + 32 * h)));
                __m512i q0 = _mm512_or_si512(_mm512_and_si512(ql, low), _mm512_and_si512(_mm512_sllv_epi16(qh, up), two));
                __m512i q1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low),
                                             _mm512_and_si512(_mm512_srlv_epi16(qh, down), two));
                const uint8_t *aq = ab + Q8_K_QS + 128 * h;
                __m512i p0 = _mm512_maddubs_epi16(q0, _mm512_loadu_si512((const void *) aq));
                __m512i p1 = _mm512_maddubs_epi16(q1, _mm512_loadu_si512((const void *) (aq + 64)));
                s = _mm512_dpwssd_epi32(s, p0, _mm512_shuffle_epi8(sc2, h == 0 ? sel0 : sel2));
                t = _mm512_dpwssd_epi32(t, p1, _mm512_shuffle_epi8(sc2, h == 0 ? sel1 : sel3));
            }
            s = _mm512_add_epi32(s, t);
            __m256i offset = _mm256_madd_epi16(sc, _mm256_loadu_si256((const __m256i *) (sums16 + (size_t) b * 16)));
            __m256i sum = _mm256_sub_epi32(_mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1)),
                                           _mm256_slli_epi32(offset, 5));
            float d = half(wb + Q6_K_D) * f32_at(ab + Q8_K_D);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(d), acc);
        }
        out[r] = hsum(acc);
    }
}

/*
 * Q8_0 with AVX-512 VNNI: two blocks a 512-bit register, the sign trick of dot_q8_0 with a mask (|w| unsigned by a
 * negated where w < 0) and vpdpbusd for the four-product sums: lane i of each half holds the integer dot_q8_0 has in
 * lane i for that block, and the register's halves are dot_q8_0's two accumulators (even blocks, odd blocks), so
 * the result is dot_q8_0's bit for bit. The activation's quants are copied once per call to 32 bytes a block (one
 * aligned load serves two blocks) and its scales to floats.
 */
__attribute__((noinline, target(VNNI_TARGET)))
static void rows_q8_0_vnni(const uint8_t *w, long rowBytes, int rows, const uint8_t *aq, const float *as, int blocks,
                           float *out) {
    for (int r = 0; r < rows; r++) {
        const uint8_t *wr = w + r * rowBytes;
        __m512 acc = _mm512_setzero_ps();
        int b = 0;
        for (; b + 1 < blocks; b += 2) {
            const uint8_t *w0 = wr + (size_t) b * Q8_0_BYTES;
            prefetch_vnni(w0, 2 * Q8_0_BYTES);
            __m512i x = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *) (w0 + Q8_0_QS))),
                                           _mm256_loadu_si256((const __m256i *) (w0 + Q8_0_BYTES + Q8_0_QS)), 1);
            __m512i a = _mm512_load_si512((const void *) (aq + 32 * (size_t) b));
            __m512i sa = _mm512_mask_sub_epi8(a, _mm512_movepi8_mask(x), _mm512_setzero_si512(), a);
            __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(x), sa);
            __m512 d = _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(half(w0 + Q8_0_D) * as[b]),
                                            _mm512_set1_ps(half(w0 + Q8_0_BYTES + Q8_0_D) * as[b + 1]));
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), d, acc);
        }
        __m256 acc0 = _mm512_castps512_ps256(acc);
        __m256 acc1 = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1));
        for (; b < blocks; b++) {
            const uint8_t *w0 = wr + (size_t) b * Q8_0_BYTES;
            __m256i x0 = _mm256_loadu_si256((const __m256i *) (w0 + Q8_0_QS));
            __m256i y0 = _mm256_load_si256((const __m256i *) (aq + 32 * (size_t) b));
            __m256i p0 = sum_pairs16(_mm256_maddubs_epi16(_mm256_sign_epi8(x0, x0), _mm256_sign_epi8(y0, x0)));
            acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(half(w0 + Q8_0_D) * as[b]), acc0);
        }
        out[r] = hsum(_mm256_add_ps(acc0, acc1));
    }
}

/*
 * The activation as the VNNI Q8_0 rows read it, in the regroup buffer: every block's 32 quants one after another, then
 * the blocks' scales as floats (from the returned pointer + 32 * blocks); NULL when out of memory.
 */
static uint8_t *q8_0_vnni_activation(const uint8_t *act, int blocks) {
    uint8_t *aq = regroup_buffer((size_t) blocks * (32 + sizeof(float)));
    if (aq == NULL) {
        return NULL;
    }
    float *as = (float *) (aq + 32 * (size_t) blocks);
    for (int b = 0; b < blocks; b++) {
        memcpy(aq + 32 * (size_t) b, act + (size_t) b * Q8_0_BYTES + Q8_0_QS, 32);
        as[b] = half(act + (size_t) b * Q8_0_BYTES + Q8_0_D);
    }
    return aq;
}

/* matrix-vector Q8_0 rows (AVX-512 VNNI: the kernel above); -2 when out of memory */
static int rows_q8_0(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, int blocks, float *out) {
    if (!use_vnni()) {
        for (int r = 0; r < rows; r++) out[r] = dot_q8_0(w + r * rowBytes, act, blocks);
        return 0;
    }
    uint8_t *aq = q8_0_vnni_activation(act, blocks);
    if (aq == NULL) {
        return -2;
    }
    rows_q8_0_vnni(w, rowBytes, rows, aq, (const float *) (aq + 32 * (size_t) blocks), blocks, out);
    return 0;
}

/* Q6_K rows once the activation's sums are there (q6_K_sums): the VNNI kernel above, else the tile row by row */
static void rows_q6_K_summed(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, int blocks,
                             const int16_t *sums, float *out) {
    if (use_vnni()) {
        rows_q6_K_vnni(w, rowBytes, rows, act, blocks, sums, out);
    } else {
        for (int r = 0; r < rows; r++) tile_q6_K(w + r * rowBytes, act, 0, blocks, sums, out + r, 1, 1, AHEAD);
    }
}

/* matrix-vector: the tile's one-vector case, row by row (AVX-512 VNNI: the kernel above); -2 when out of memory */
static int rows_q6_K(const uint8_t *w, long rowBytes, int rows, const uint8_t *act, int blocks, float *out) {
    int16_t stack[16 * 256];
    int16_t *sums = blocks <= 256 ? stack : malloc(sizeof(int16_t) * 16 * (size_t) blocks);
    if (sums == NULL) {
        return -2;
    }
    q6_K_sums(act, blocks, sums);
    rows_q6_K_summed(w, rowBytes, rows, act, blocks, sums, out);
    if (sums != stack) {
        free(sums);
    }
    return 0;
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
        if (vectors >= GEMM_MIN_VECTORS && use_vnni()) {
            return q8_0_gemm(w, rowBytes, rows, act, stride, n, vectors, out, ostride);
        }
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
    case T_Q4_1: {
        int blocks = n / 32;
        size_t vstride = q4_1_scratch(blocks);
        uint8_t *scratch = gemm_buffer(vstride * vectors); /* kept by the thread: see q4_0_rows */
        if (scratch == NULL) {
            return -2;
        }
        for (int v = 0; v < vectors; v++) {
            q4_1_activation(act + (size_t) v * stride, blocks, scratch + v * vstride,
                            (float *) (scratch + v * vstride + (size_t) blocks * 32));
        }
        for (int r = 0; r < rows; r++) {
            const uint8_t *wr = w + r * rowBytes;
#define Q41(T) tile_q4_1(wr, act + (size_t) v * stride, stride, scratch + v * vstride, \
                         (const float *) (scratch + v * vstride + (size_t) blocks * 32), (long) vstride, blocks, \
                         out + (size_t) v * ostride + r, ostride, T, 0)
            GROUPS(Q41)
#undef Q41
        }
        return 0;
    }
    case T_Q4_K:
        if (vectors >= GEMM_MIN_VECTORS && use_vnni()) {
            return q4_K_gemm(w, rowBytes, rows, act, stride, n, vectors, out, ostride);
        }
        for (int r = 0; r < rows; r++) {
            const uint8_t *wr = w + r * rowBytes;
#define Q4K(T) tile_q4_K(wr, act + (size_t) v * stride, stride, n / 256, out + (size_t) v * ostride + r, ostride, T, 0)
            GROUPS(Q4K)
#undef Q4K
        }
        return 0;
    case T_Q6_K: {
        int blocks = n / 256;
        int16_t *sums = gemm_buffer(sizeof(int16_t) * 16 * (size_t) blocks * vectors);
        if (sums == NULL) {
            return -2;
        }
        for (int v = 0; v < vectors; v++) {
            q6_K_sums(act + (size_t) v * stride, blocks, sums + (size_t) v * blocks * 16);
        }
        for (int r = 0; r < rows; r++) {
            const uint8_t *wr = w + r * rowBytes;
#define Q6K(T) tile_q6_K(wr, act + (size_t) v * stride, stride, blocks, sums + (size_t) v * blocks * 16, \
                         out + (size_t) v * ostride + r, ostride, T, 0)
            GROUPS(Q6K)
#undef Q6K
        }
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

/*
 * ---- One product on several threads: a persistent pool of native workers ----
 *
 * A matrix-vector product split by the JVM (RowExecutor) crosses JNI once per row chunk (about 40 a product on two
 * threads), pins the arrays and prepares the activation (Q8_0's copy, Q6_K's group sums, Q4_K's regrouping) in every
 * one of them, and each thread starts every chunk's weight stream cold. Here the caller makes one JNI call: the
 * activation is prepared once, then the caller and threads - 1 workers of this pool take chunks of rows (the same
 * guided sizes as RowExecutor: a share of the rows left, at most 1/16 of a thread's, at least 16 rows) until none is
 * left. Every row is computed by the same kernel as in a one-thread call, so the results are the same bits.
 *
 * A worker waits for the next call spinning (then yielding) for SPIN_NANOS, as RowExecutor's helpers do, then sleeps
 * on a futex. One call at a time: a call that finds the pool busy (another card's product) or stopped returns
 * "not handled" and the JVM splits its rows as before. pool_stop (the bundle's deactivation, and JNI_OnUnload) waits
 * for a running call and joins every worker, so no thread is left running this library's code when it is unloaded.
 */
#define POOL_MAX_WORKERS 63
#define POOL_SMALLEST_CHUNK 16
#define POOL_CHUNKS_PER_THREAD 16
#define POOL_SPIN_NANOS 20000L
#define POOL_CLOSED_CALL 0x7fffffffu

typedef struct {
    int type;
    const uint8_t *w;
    long rowBytes;
    int rows;
    const uint8_t *act;
    const float *x;
    int n;
    float *out;
    int sharing;           /* threads taking part, the caller's included */
    int largest;           /* largest chunk in rows */
    /* the activation prepared once for the call (NULL where the type's kernel prepares its own per chunk) */
    const uint8_t *q8_values;
    const float *q8_scales;
    const uint8_t *q4k_regrouped;
    const int16_t *q6k_sums;
} pool_task;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t pool_threads[POOL_MAX_WORKERS];
static int pool_workers;           /* started and not joined (under pool_lock) */
static int pool_closed;            /* under pool_lock: set by pool_stop, cleared by pool_open */
static atomic_uint pool_generation; /* the futex word: bumped by every call and by pool_stop */
static atomic_int pool_stopping;
static atomic_int pool_sleepers;
static _Atomic uint64_t pool_state; /* the call's number (high half) and its next untaken row (low half) */
static atomic_int pool_done;       /* rows of the current call that have run (the caller's futex word) */
static atomic_int pool_caller_asleep;
static atomic_int pool_failed;     /* a chunk's return code when not 0 */
static atomic_int pool_participants; /* threads that ran at least one chunk of the last call (tests) */
static pool_task pool_current;
static unsigned pool_start_generation[POOL_MAX_WORKERS];

static long pool_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int pool_chunk_end(int from, int total, int largest, int sharing) {
    int left = total - from;
    int size = left / (2 * sharing);
    if (size > largest) size = largest;
    if (size < POOL_SMALLEST_CHUNK) size = POOL_SMALLEST_CHUNK;
    return total - from < size ? total : from + size;
}

/* rows [from, to) of the call, on the activation prepared for it */
static int pool_rows(const pool_task *t, int from, int to) {
    const uint8_t *w = t->w + from * t->rowBytes;
    int rows = to - from;
    float *out = t->out + from;
    if (t->q8_values != NULL) {
        rows_q8_0_vnni(w, t->rowBytes, rows, t->q8_values, t->q8_scales, t->n / 32, out);
        return 0;
    }
    if (t->q4k_regrouped != NULL) {
        rows_q4_K_vnni(w, t->rowBytes, rows, t->act, t->q4k_regrouped, t->n / 256, out);
        return 0;
    }
    if (t->q6k_sums != NULL) {
        rows_q6_K_summed(w, t->rowBytes, rows, t->act, t->n / 256, t->q6k_sums, out);
        return 0;
    }
    return dot_rows(t->type, w, t->rowBytes, rows, t->act, t->x, t->n, out);
}

/* takes chunks of call `call` until none is left; worker `index` only while the call has that many helpers (-1: the
 * caller) */
static void pool_drain(uint64_t call, int index) {
    int took = 0;
    uint64_t s = atomic_load(&pool_state);
    while ((s >> 32) == call) {
        int from = (int) (uint32_t) s;
        const pool_task *t = &pool_current;
        int total = t->rows;
        /* fields read after the call's number: if the CAS below succeeds they were this call's */
        if ((uint32_t) from == POOL_CLOSED_CALL || from >= total || index >= t->sharing - 1) {
            break;
        }
        int to = pool_chunk_end(from, total, t->largest, t->sharing);
        if (!atomic_compare_exchange_weak(&pool_state, &s, call << 32 | (uint32_t) to)) {
            continue;
        }
        /* the call cannot end before this chunk is counted done, so its fields stay as read */
        if (!took) {
            took = 1;
            atomic_fetch_add(&pool_participants, 1);
        }
        int rc = pool_rows(t, from, to);
        if (rc != 0) {
            atomic_store(&pool_failed, rc);
        }
        if (atomic_fetch_add(&pool_done, to - from) + (to - from) >= total && index >= 0
                && atomic_load(&pool_caller_asleep)) {
            syscall(SYS_futex, &pool_done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        }
        s = atomic_load(&pool_state);
    }
}

static void pool_free_scratch(void) {
    free(regroup_scratch);
    regroup_scratch = NULL;
    regroup_scratch_bytes = 0;
    free(gemm_scratch);
    gemm_scratch = NULL;
    gemm_scratch_bytes = 0;
}

/* one wait round: the CPU's spin hint for the first quarter of the spin, then yields (a loaded core's other thread) */
static void pool_pause(long waited) {
    if (waited < POOL_SPIN_NANOS / 4) {
        for (int i = 0; i < 16; i++) _mm_pause();
    } else {
        sched_yield();
    }
}

static void *pool_worker(void *arg) {
    int index = (int) (intptr_t) arg;
    unsigned seen = pool_start_generation[index];
    while (1) {
        unsigned g = atomic_load(&pool_generation);
        if (g == seen) {
            long start = pool_now();
            for (long waited = 0; (g = atomic_load(&pool_generation)) == seen && waited < POOL_SPIN_NANOS;
                 waited = pool_now() - start) {
                pool_pause(waited);
            }
        }
        while (g == seen) {
            atomic_fetch_add(&pool_sleepers, 1);
            syscall(SYS_futex, &pool_generation, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
            atomic_fetch_sub(&pool_sleepers, 1);
            g = atomic_load(&pool_generation);
        }
        seen = g;
        if (atomic_load(&pool_stopping)) {
            break;
        }
        pool_drain(atomic_load(&pool_state) >> 32, index);
    }
    pool_free_scratch();
    return NULL;
}

/*
 * Rows [0, rows) of one product on `threads` threads (the caller and threads - 1 workers). Returns 1 when the pool
 * was busy or stopped (nothing done: the caller splits the rows itself), else dot_rows' code (0, or -1, -2).
 */
static int pool_dot_rows(int type, const uint8_t *w, long rowBytes, int rows, const uint8_t *act, const float *x, int n,
                         float *out, int threads) {
    if (threads < 2 || pthread_mutex_trylock(&pool_lock) != 0) {
        return 1;
    }
    if (pool_closed) {
        pthread_mutex_unlock(&pool_lock);
        return 1;
    }
    int helpers = threads - 1;
    if (helpers > POOL_MAX_WORKERS) helpers = POOL_MAX_WORKERS;
    int chunks = (rows + POOL_SMALLEST_CHUNK - 1) / POOL_SMALLEST_CHUNK;
    if (helpers > chunks - 1) helpers = chunks - 1;
    if (helpers < 1) {
        pthread_mutex_unlock(&pool_lock);
        return 1;
    }
    unsigned generation = atomic_load(&pool_generation);
    while (pool_workers < helpers) {
        pool_start_generation[pool_workers] = generation;
        if (pthread_create(&pool_threads[pool_workers], NULL, pool_worker, (void *) (intptr_t) pool_workers) != 0) {
            break;
        }
        /* named here, not by the worker: the name is there when this call returns (thread listings, tests) */
        char name[16]; /* at most 15 characters: the kernel's limit */
        snprintf(name, sizeof name, "spanker-nat-%u", (unsigned) (pool_workers + 1) % 100u);
        pthread_setname_np(pool_threads[pool_workers], name);
        pool_workers++;
    }
    if (helpers > pool_workers) helpers = pool_workers;
    if (helpers < 1) {
        pthread_mutex_unlock(&pool_lock);
        return 1;
    }
    pool_task t = {type, w, rowBytes, rows, act, x, n, out, helpers + 1, 0, NULL, NULL, NULL, NULL};
    t.largest = rows / (POOL_CHUNKS_PER_THREAD * t.sharing);
    if (t.largest < 1) t.largest = 1;
    int16_t stackSums[16 * 256];
    int16_t *sums = NULL;
    int rc = 0;
    if (type == T_Q8_0 && use_vnni()) {
        uint8_t *aq = q8_0_vnni_activation(act, n / 32);
        if (aq == NULL) {
            rc = -2;
        } else {
            t.q8_values = aq;
            t.q8_scales = (const float *) (aq + 32 * (size_t) (n / 32));
        }
    } else if (type == T_Q4_K && use_vnni()) {
        uint8_t *regrouped = regroup_buffer((size_t) 256 * (n / 256));
        if (regrouped == NULL) {
            rc = -2;
        } else {
            q4_K_regroup(act, n / 256, regrouped);
            t.q4k_regrouped = regrouped;
        }
    } else if (type == T_Q6_K) {
        int blocks = n / 256;
        sums = blocks <= 256 ? stackSums : malloc(sizeof(int16_t) * 16 * (size_t) blocks);
        if (sums == NULL) {
            rc = -2;
        } else {
            q6_K_sums(act, blocks, sums);
            t.q6k_sums = sums;
        }
    }
    if (rc == 0) {
        uint64_t call = (uint64_t) (generation + 1);
        atomic_store(&pool_state, call << 32 | POOL_CLOSED_CALL);
        pool_current = t;
        atomic_store(&pool_done, 0);
        atomic_store(&pool_failed, 0);
        atomic_store(&pool_participants, 0);
        atomic_store(&pool_state, call << 32);
        atomic_store(&pool_generation, generation + 1);
        if (atomic_load(&pool_sleepers) > 0) {
            syscall(SYS_futex, &pool_generation, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
        }
        pool_drain(call, -1);
        /* a worker's last chunk: spin, then yield (a worker descheduled on this core), then sleep until it is done */
        if (atomic_load(&pool_done) < rows) {
            long start = pool_now();
            for (long waited = 0; atomic_load(&pool_done) < rows && waited < POOL_SPIN_NANOS; waited = pool_now() - start) {
                pool_pause(waited);
            }
            int done;
            while ((done = atomic_load(&pool_done)) < rows) {
                atomic_store(&pool_caller_asleep, 1);
                if (atomic_load(&pool_done) == done) {
                    syscall(SYS_futex, &pool_done, FUTEX_WAIT_PRIVATE, done, NULL, NULL, 0);
                }
                atomic_store(&pool_caller_asleep, 0);
            }
        }
        atomic_store(&pool_state, call << 32 | POOL_CLOSED_CALL);
        rc = atomic_load(&pool_failed);
    }
    if (sums != NULL && sums != stackSums) {
        free(sums);
    }
    pthread_mutex_unlock(&pool_lock);
    return rc;
}

/* Joins every worker after the running call (if any); later calls return "not handled" until pool_open. */
static void pool_stop(void) {
    pthread_mutex_lock(&pool_lock);
    pool_closed = 1;
    if (pool_workers > 0) {
        atomic_store(&pool_stopping, 1);
        atomic_fetch_add(&pool_generation, 1);
        syscall(SYS_futex, &pool_generation, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
        for (int i = 0; i < pool_workers; i++) {
            pthread_join(pool_threads[i], NULL);
        }
        pool_workers = 0;
        atomic_store(&pool_stopping, 0);
    }
    pthread_mutex_unlock(&pool_lock);
}

static void pool_open(void) {
    pthread_mutex_lock(&pool_lock);
    pool_closed = 0;
    pthread_mutex_unlock(&pool_lock);
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
                 jint rows, jbyteArray act, jfloatArray x, jint n, jfloatArray out, jint outAt, jint threads) {
    uint8_t *w = weightArray != NULL ? (*env)->GetPrimitiveArrayCritical(env, weightArray, NULL) : (uint8_t *) weightAddress;
    void *a = act != NULL ? (*env)->GetPrimitiveArrayCritical(env, act, NULL) : NULL;
    void *f = x != NULL ? (*env)->GetPrimitiveArrayCritical(env, x, NULL) : NULL;
    float *o = (*env)->GetPrimitiveArrayCritical(env, out, NULL);
    jint rc = w == NULL || o == NULL || (act != NULL && a == NULL) || (x != NULL && f == NULL)
            ? -2 : threads > 1 ? pool_dot_rows(type, w + at, rowBytes, rows, a, f, n, o + outAt, threads)
            : dot_rows(type, w + at, rowBytes, rows, a, f, n, o + outAt);
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
    return call(env, type, weights, NULL, at, rowBytes, rows, act, x, n, out, outAt, 1);
}

JNIEXPORT jint JNICALL Java_org_popsolutions_spanker_kernels_avx2_NativeKernels_dotRowsDirect(
    JNIEnv *env, jclass c, jint type, jobject weights, jint at, jint rowBytes, jint rows, jbyteArray act,
    jfloatArray x, jint n, jfloatArray out, jint outAt) {
    (void) c;
    uint8_t *w = (*env)->GetDirectBufferAddress(env, weights);
    if (w == NULL) {
        return -3;
    }
    return call(env, type, NULL, w, at, rowBytes, rows, act, x, n, out, outAt, 1);
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

/*
 * As dotRowsHeap / dotRowsDirect, the rows split among the caller and threads - 1 workers of the native pool; 1 when the
 * pool is busy or stopped (nothing done). The caller's critical regions stay open until every worker's rows are done.
 */
JNIEXPORT jint JNICALL Java_org_popsolutions_spanker_kernels_avx2_NativeKernels_dotRowsThreadsHeap(
    JNIEnv *env, jclass c, jint type, jbyteArray weights, jint at, jint rowBytes, jint rows, jbyteArray act,
    jfloatArray x, jint n, jfloatArray out, jint outAt, jint threads) {
    (void) c;
    return call(env, type, weights, NULL, at, rowBytes, rows, act, x, n, out, outAt, threads < 2 ? 2 : threads);
}

JNIEXPORT jint JNICALL Java_org_popsolutions_spanker_kernels_avx2_NativeKernels_dotRowsThreadsDirect(
    JNIEnv *env, jclass c, jint type, jobject weights, jint at, jint rowBytes, jint rows, jbyteArray act,
    jfloatArray x, jint n, jfloatArray out, jint outAt, jint threads) {
    (void) c;
    uint8_t *w = (*env)->GetDirectBufferAddress(env, weights);
    if (w == NULL) {
        return -3;
    }
    return call(env, type, NULL, w, at, rowBytes, rows, act, x, n, out, outAt, threads < 2 ? 2 : threads);
}

JNIEXPORT void JNICALL Java_org_popsolutions_spanker_kernels_avx2_NativeKernels_stopWorkers(JNIEnv *env, jclass c) {
    (void) env; (void) c;
    pool_stop();
}

JNIEXPORT void JNICALL Java_org_popsolutions_spanker_kernels_avx2_NativeKernels_openWorkers(JNIEnv *env, jclass c) {
    (void) env; (void) c;
    pool_open();
}

JNIEXPORT jint JNICALL Java_org_popsolutions_spanker_kernels_avx2_NativeKernels_workers(JNIEnv *env, jclass c) {
    (void) env; (void) c;
    pthread_mutex_lock(&pool_lock);
    int count = pool_workers;
    pthread_mutex_unlock(&pool_lock);
    return count;
}

JNIEXPORT jint JNICALL Java_org_popsolutions_spanker_kernels_avx2_NativeKernels_lastCallThreads(JNIEnv *env, jclass c) {
    (void) env; (void) c;
    return atomic_load(&pool_participants);
}

/* the class loader that loaded the library is gone: no worker may outlive the code it runs */
JNIEXPORT void JNICALL JNI_OnUnload(JavaVM *vm, void *reserved) {
    (void) vm; (void) reserved;
    pool_stop();
}
