/*
 * What the native timing harnesses (rows_timing.c, gemm_timing.c) share: a clock in microseconds, the random bytes
 * their weights and activations are made of (xorshift, the same sequence in every run, so two builds see the same
 * data), and the comparison their medians are sorted by. Included after spanker_kernels.c.
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

#endif
