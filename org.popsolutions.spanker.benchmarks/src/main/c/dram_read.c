/*
 * This machine's DRAM read ceiling, the denominator of every "fraction of DRAM" in docs/performance.md (issue 12).
 *
 * A streaming read in C: one buffer far larger than the last-level cache, on transparent huge pages the way the
 * launcher gets them for the cards' weights (glibc.malloc.hugetlb=1 is madvise(MADV_HUGEPAGE) on malloc's mappings),
 * split into one contiguous part per thread like the matrix-vector rows, each part summed with the widest integer
 * loads the CPU has (512-bit with AVX-512F, else 256-bit AVX2; both are timed where both exist, and the faster one
 * counts). The sum of the data is checked against the value written, so no load can be dropped by the compiler.
 * The JMH DramBandwidthBenchmark (a Java Vector API sum) read below what the native F16/BF16 kernels stream, so it
 * could not be the ceiling.
 *
 * Several timed passes per width after one untimed pass; the ceiling is the fastest pass of the faster width (a
 * ceiling is what the memory system can deliver; on a shared machine slower passes are other processes' minutes),
 * the median pass is printed beside it. bestCpuBytesPerSecond (the buffer over the slowest thread's CPU time, best
 * pass) says what the threads read while they ran: on a loaded machine wall time also counts the minutes they waited.
 *
 * usage: dram_read [--threads N] [--mib M] [--passes P]   (defaults 1, 1024, 10); prints one JSON object on stdout.
 * Built by the benchmark scripts (lib.sh: gcc -O2 -pthread), never by the reactor.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define HUGE_PAGE (2UL << 20)
#define MAX_THREADS 64
#define MAX_PASSES 1000

typedef uint64_t (*sum_fn)(const uint8_t *p, size_t bytes);

/* eight independent accumulators: enough loads in flight that the adds never wait on one another */
__attribute__((target("avx512f"))) static uint64_t sum512(const uint8_t *p, size_t bytes) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t i = 0; i < bytes; i += 512) {
        a0 = _mm512_add_epi64(a0, _mm512_load_si512((const void *) (p + i)));
        a1 = _mm512_add_epi64(a1, _mm512_load_si512((const void *) (p + i + 64)));
        a2 = _mm512_add_epi64(a2, _mm512_load_si512((const void *) (p + i + 128)));
        a3 = _mm512_add_epi64(a3, _mm512_load_si512((const void *) (p + i + 192)));
        a4 = _mm512_add_epi64(a4, _mm512_load_si512((const void *) (p + i + 256)));
        a5 = _mm512_add_epi64(a5, _mm512_load_si512((const void *) (p + i + 320)));
        a6 = _mm512_add_epi64(a6, _mm512_load_si512((const void *) (p + i + 384)));
        a7 = _mm512_add_epi64(a7, _mm512_load_si512((const void *) (p + i + 448)));
    }
    __m512i s = _mm512_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)),
                                 _mm512_add_epi64(_mm512_add_epi64(a4, a5), _mm512_add_epi64(a6, a7)));
    return (uint64_t) _mm512_reduce_add_epi64(s);
}

__attribute__((target("avx2"))) static uint64_t sum256(const uint8_t *p, size_t bytes) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t i = 0; i < bytes; i += 256) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *) (p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *) (p + i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *) (p + i + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *) (p + i + 96)));
        a4 = _mm256_add_epi64(a4, _mm256_load_si256((const __m256i *) (p + i + 128)));
        a5 = _mm256_add_epi64(a5, _mm256_load_si256((const __m256i *) (p + i + 160)));
        a6 = _mm256_add_epi64(a6, _mm256_load_si256((const __m256i *) (p + i + 192)));
        a7 = _mm256_add_epi64(a7, _mm256_load_si256((const __m256i *) (p + i + 224)));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)),
                                 _mm256_add_epi64(_mm256_add_epi64(a4, a5), _mm256_add_epi64(a6, a7)));
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *) lanes, s);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

struct worker {
    pthread_t thread;
    const uint8_t *part;
    size_t bytes;
    sum_fn sum;
    uint64_t result;
    double cpu_seconds;
};

static pthread_barrier_t start, done;
static volatile int stop;

static double seconds_of(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *work(void *arg) {
    struct worker *w = arg;
    for (;;) {
        pthread_barrier_wait(&start);
        if (stop) {
            return NULL;
        }
        double cpu = seconds_of(CLOCK_THREAD_CPUTIME_ID);
        w->result = w->sum(w->part, w->bytes);
        w->cpu_seconds = seconds_of(CLOCK_THREAD_CPUTIME_ID) - cpu;
        pthread_barrier_wait(&done);
    }
}

static double now(void) {
    return seconds_of(CLOCK_MONOTONIC);
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* kB of the mapping at addr on transparent huge pages (AnonHugePages in /proc/self/smaps), -1 when unreadable */
static long huge_kib(const void *addr) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL) {
        return -1;
    }
    char line[256];
    int inside = 0;
    long kib = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long from, to;
        if (sscanf(line, "%lx-%lx ", &from, &to) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = (uintptr_t) addr >= from && (uintptr_t) addr < to;
        } else if (inside && sscanf(line, "AnonHugePages: %ld kB", &kib) == 1) {
            break;
        }
    }
    fclose(f);
    return kib;
}

static int usage(const char *why) {
    fprintf(stderr, "dram_read: %s\nusage: dram_read [--threads 1..%d] [--mib M>=64] [--passes 1..%d]\n", why,
            MAX_THREADS, MAX_PASSES);
    return 2;
}

int main(int argc, char **argv) {
    long threads = 1, mib = 1024, passes = 10;
    for (int i = 1; i < argc; i++) {
        long *target = strcmp(argv[i], "--threads") == 0 ? &threads
                     : strcmp(argv[i], "--mib") == 0 ? &mib
                     : strcmp(argv[i], "--passes") == 0 ? &passes : NULL;
        char *end;
        if (target == NULL || i + 1 == argc) {
            return usage("unknown or incomplete option");
        }
        *target = strtol(argv[++i], &end, 10);
        if (*end != '\0') {
            return usage("not a number");
        }
    }
    if (threads < 1 || threads > MAX_THREADS || mib < 64 || passes < 1 || passes > MAX_PASSES) {
        return usage("value out of range");
    }
    /* whole 2 MiB pages, and every thread's part a multiple of 512 bytes (one unrolled step of either width) */
    size_t bytes = (size_t) mib << 20;
    bytes -= bytes % (HUGE_PAGE * threads);
    if (bytes == 0) {
        return usage("--mib too small for 2 MiB pages on every thread");
    }
    uint8_t *data = mmap(NULL, bytes + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data == MAP_FAILED) {
        fprintf(stderr, "dram_read: cannot map %zu bytes\n", bytes);
        return 1;
    }
    data = (uint8_t *) (((uintptr_t) data + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
    madvise(data, bytes, MADV_HUGEPAGE);
    /* every 64-bit word holds its index: the sum of a part is known without reading it */
    uint64_t *words = (uint64_t *) data;
    for (size_t i = 0; i < bytes / 8; i++) {
        words[i] = i;
    }
    long huge = huge_kib(data);

    __builtin_cpu_init();
    struct { const char *name; sum_fn fn; int ok; } widths[] = {
        {"avx512", sum512, __builtin_cpu_supports("avx512f")},
        {"avx2", sum256, __builtin_cpu_supports("avx2")},
    };
    struct worker workers[MAX_THREADS];
    size_t part = bytes / threads;
    pthread_barrier_init(&start, NULL, threads + 1);
    pthread_barrier_init(&done, NULL, threads + 1);
    for (long t = 0; t < threads; t++) {
        workers[t].part = data + t * part;
        workers[t].bytes = part;
        pthread_create(&workers[t].thread, NULL, work, &workers[t]);
    }
    printf("{\"benchmark\": \"dram_read\", \"threads\": %ld, \"bufferBytes\": %zu, \"hugePageBytes\": %ld, "
           "\"passes\": %ld, \"widths\": [", threads, bytes, huge < 0 ? -1L : huge * 1024, passes);
    double best = 0, best_median = 0;
    const char *best_name = NULL;
    int first = 1, failed = 0;
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        if (!widths[w].ok) {
            continue;
        }
        double rates[MAX_PASSES], cpu_best = 0;
        for (long p = -1; p < passes; p++) { /* pass -1: untimed, warms the TLB and the threads */
            for (long t = 0; t < threads; t++) {
                workers[t].sum = widths[w].fn;
            }
            double t0 = now();
            pthread_barrier_wait(&start);
            pthread_barrier_wait(&done);
            double seconds = now() - t0;
            double slowest_cpu = 0;
            for (long t = 0; t < threads; t++) {
                if (workers[t].cpu_seconds > slowest_cpu) {
                    slowest_cpu = workers[t].cpu_seconds;
                }
                uint64_t n = workers[t].bytes / 8, from = (uint64_t) (workers[t].part - data) / 8;
                uint64_t expected = n * from + n * (n - 1) / 2; /* wraps like the sum: both are modulo 2^64 */
                if (workers[t].result != expected) {
                    failed = 1;
                }
            }
            if (p >= 0) {
                rates[p] = bytes / seconds;
                if (slowest_cpu > 0 && bytes / slowest_cpu > cpu_best) {
                    cpu_best = bytes / slowest_cpu;
                }
            }
        }
        qsort(rates, passes, sizeof rates[0], by_value);
        double top = rates[passes - 1], median = passes % 2 ? rates[passes / 2]
                                                            : (rates[passes / 2 - 1] + rates[passes / 2]) / 2;
        printf("%s{\"loads\": \"%s\", \"bestBytesPerSecond\": %.0f, \"medianBytesPerSecond\": %.0f, "
               "\"bestCpuBytesPerSecond\": %.0f}", first ? "" : ", ", widths[w].name, top, median, cpu_best);
        first = 0;
        if (top > best) {
            best = top;
            best_median = median;
            best_name = widths[w].name;
        }
    }
    stop = 1;
    pthread_barrier_wait(&start);
    for (long t = 0; t < threads; t++) {
        pthread_join(workers[t].thread, NULL);
    }
    if (best_name == NULL) {
        printf("]}\n");
        fprintf(stderr, "dram_read: this CPU has neither AVX2 nor AVX-512F\n");
        return 1;
    }
    printf("], \"loads\": \"%s\", \"bytesPerSecond\": %.0f, \"medianBytesPerSecond\": %.0f}\n", best_name, best,
           best_median);
    if (failed) {
        fprintf(stderr, "dram_read: a part's sum differs from the data written (a load was lost)\n");
        return 1;
    }
    return 0;
}
