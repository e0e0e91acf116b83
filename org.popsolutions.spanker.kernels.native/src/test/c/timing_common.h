/*
 * What the native timing harnesses (rows_timing.c, gemm_timing.c) share: a clock in microseconds, the random bytes
 * their weights and activations are made of (xorshift, the same sequence in every run, so two builds see the same
 * data), the scales of random activation blocks, and the comparison their medians are sorted by. Included after spanker_kernels.c.
 */
#ifndef SPANKER_TIMING_COMMON_H
#define SPANKER_TIMING_COMMON_H

static double micros(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static uint64_t state = 88172645463325252ULL;

static uint8_t next_byte(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint8_t) state;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/*
 * The scale of the activation block at p whose quants are random bytes: Q8_0's half d (a random one near 0.008), or
 * Q8_K's float d and its 16 block sums, each the sum of the 16 quants it stands for, as the kernels expect.
 */
static void scale_activation_block(uint8_t *p, int q8_k) {
    if (!q8_k) {
        uint16_t h = 0x2000 | (next_byte() & 0xff);
        memcpy(p, &h, 2);
        return;
    }
    float d = 0.01f;
    memcpy(p + Q8_K_D, &d, 4);
    for (int g = 0; g < 16; g++) {
        int s = 0;
        for (int i = 0; i < 16; i++) s += (int8_t) p[Q8_K_QS + 16 * g + i];
        int16_t sum = (int16_t) s;
        memcpy(p + Q8_K_BSUMS + 2 * g, &sum, 2);
    }
}

#endif
