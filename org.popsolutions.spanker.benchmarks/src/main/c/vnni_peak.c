/*
 * The arithmetic ceiling of an int8 matrix product on this CPU: how many AVX-512 VNNI vpdpbusd (64 multiply-adds of
 * unsigned by signed bytes into 32-bit lanes, one zmm register) one thread issues per second of its CPU time, with
 * twelve independent accumulators (more than the instruction's latency times its issue rate) and register operands
 * only: no loads, no other work. Every batched product of the native kernels (Q4_0, Q8_0, Q4_K) is made of these, so
 * no prompt can run faster than its multiply-adds at this rate. Prints one JSON line per thread count given:
 * {"threads", "vpdpbusdPerCpuSecond", "macsPerCpuSecond", "macsPerSecond"} (the last: all threads, per wall second).
 * Prints nothing (exit 3) where the CPU lacks AVX-512 VNNI. Built and run by prefill.sh; no part of the project.
 *
 * usage: vnni_peak THREADS...   (gcc -O2 -pthread -o vnni_peak vnni_peak.c)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 40000000L

static double seconds(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *issue(void *result) {
    double start = seconds(CLOCK_THREAD_CPUTIME_ID);
    for (long i = 0; i < ROUNDS; i++) {
        /* written as instructions: a compiler folds identical intrinsic calls into one */
        __asm__ volatile(
            "vpdpbusd %%zmm14, %%zmm15, %%zmm0\n\t vpdpbusd %%zmm14, %%zmm15, %%zmm1\n\t"
            "vpdpbusd %%zmm14, %%zmm15, %%zmm2\n\t vpdpbusd %%zmm14, %%zmm15, %%zmm3\n\t"
            "vpdpbusd %%zmm14, %%zmm15, %%zmm4\n\t vpdpbusd %%zmm14, %%zmm15, %%zmm5\n\t"
            "vpdpbusd %%zmm14, %%zmm15, %%zmm6\n\t vpdpbusd %%zmm14, %%zmm15, %%zmm7\n\t"
            "vpdpbusd %%zmm14, %%zmm15, %%zmm8\n\t vpdpbusd %%zmm14, %%zmm15, %%zmm9\n\t"
            "vpdpbusd %%zmm14, %%zmm15, %%zmm10\n\t vpdpbusd %%zmm14, %%zmm15, %%zmm11\n\t"
            ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11");
    }
    *(double *) result = 12.0 * ROUNDS / (seconds(CLOCK_THREAD_CPUTIME_ID) - start);
    return NULL;
}

int main(int argc, char **argv) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512vnni")) {
        fprintf(stderr, "vnni_peak: this CPU has no AVX-512 VNNI\n");
        return 3;
    }
    for (int a = 1; a < argc; a++) {
        int threads = atoi(argv[a]);
        if (threads < 1 || threads > 256) {
            fprintf(stderr, "vnni_peak: a thread count is 1 to 256, not '%s'\n", argv[a]);
            return 2;
        }
        pthread_t *ids = malloc(sizeof(pthread_t) * threads);
        double *rates = malloc(sizeof(double) * threads);
        double start = seconds(CLOCK_MONOTONIC);
        for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, issue, &rates[t]);
        for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
        double wall = seconds(CLOCK_MONOTONIC) - start, perThread = 0;
        for (int t = 0; t < threads; t++) perThread += rates[t] / threads;
        printf("{\"threads\": %d, \"vpdpbusdPerCpuSecond\": %.4g, \"macsPerCpuSecond\": %.4g, \"macsPerSecond\": %.4g}\n",
               threads, perThread, 64 * perThread, 64 * 12.0 * ROUNDS * threads / wall);
        free(ids);
        free(rates);
    }
    return 0;
}
