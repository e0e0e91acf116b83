/*
 * Times the native matrix-vector rows outside the JVM: dot_rows on the calling thread (thread CPU time, which a loaded
 * machine disturbs less than wall time) or pool_dot_rows on N threads (wall time), on random weights of a ggml type,
 * read from DRAM (enough copies to pass the last-level cache, used in turn) or from cache (one small copy). Prints the
 * best and median microseconds per product and the weight bytes per second at the median; a two-thread run first
 * checks that its rows equal the one-thread rows bit for bit. Not built by Maven. Build (from this directory):
 *
 *   gcc -O3 -std=gnu11 -Wall -I$JAVA_HOME/include -I$JAVA_HOME/include/linux -I../../main/c -o /tmp/rows_timing \
 *       rows_timing.c -lpthread
 *
 * then e.g. `/tmp/rows_timing Q6_K 4096 14336 40 1 3` (type, rows, columns, products, threads, copies; 128 rows and
 * 1 copy stay in cache). To compare two builds (say -DAHEAD_VNNI=0 against the default), build both and run them
 * alternately, several rounds: one run is not a measurement on a shared machine.
 */
#include "spanker_kernels.c"

#include "timing_common.h"

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s Q8_0|Q4_K|Q6_K rows columns products threads copies\n", argv[0]);
        return 2;
    }
    int type = strcmp(argv[1], "Q8_0") == 0 ? T_Q8_0 : strcmp(argv[1], "Q4_K") == 0 ? T_Q4_K
             : strcmp(argv[1], "Q6_K") == 0 ? T_Q6_K : -1;
    int rows = atoi(argv[2]), n = atoi(argv[3]), reps = atoi(argv[4]), threads = atoi(argv[5]), copies = atoi(argv[6]);
    int block = type == T_Q8_0 ? 32 : 256;
    if (type < 0 || rows < 1 || n < block || n % block != 0 || reps < 1 || threads < 1 || copies < 1 || copies > 64) {
        fprintf(stderr, "%s: bad arguments (types Q8_0, Q4_K, Q6_K; columns a multiple of the block; 1-64 copies)\n",
                argv[0]);
        return 2;
    }
    int blockBytes = type == T_Q8_0 ? Q8_0_BYTES : type == T_Q4_K ? Q4_K_BYTES : Q6_K_BYTES;
    int blocks = n / block;
    long rowBytes = (long) blocks * blockBytes;
    size_t bytes = (size_t) rowBytes * rows;
    uint8_t *w[64];
    for (int c = 0; c < copies; c++) {
        w[c] = aligned_alloc(64, (bytes + 4095) / 4096 * 4096 + 4096);
        for (size_t i = 0; i < bytes; i++) w[c][i] = next_byte();
        /* scales that stay finite: fp16 in [2^-7, 2^-6) */
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < blocks; b++) {
                uint16_t h = 0x2000 | (next_byte() & 0xff);
                uint8_t *p = w[c] + r * rowBytes + (size_t) b * blockBytes;
                memcpy(p + (type == T_Q6_K ? Q6_K_D : 0), &h, 2);
                if (type == T_Q4_K) memcpy(p + Q4_K_DMIN, &h, 2);
            }
        }
    }
    int actBytes = type == T_Q8_0 ? Q8_0_BYTES : Q8_K_BYTES, actBlocks = n / (type == T_Q8_0 ? 32 : 256);
    uint8_t *act = aligned_alloc(64, (size_t) actBlocks * actBytes + 64);
    for (size_t i = 0; i < (size_t) actBlocks * actBytes; i++) act[i] = next_byte();
    for (int b = 0; b < actBlocks; b++) {
        scale_activation_block(act + (size_t) b * actBytes, type != T_Q8_0);
    }
    float *one = malloc(sizeof(float) * rows), *out = malloc(sizeof(float) * rows);
    if (dot_rows(type, w[0], rowBytes, rows, act, NULL, n, one) != 0) {
        fprintf(stderr, "dot_rows failed\n");
        return 1;
    }
    if (threads > 1) {
        if (pool_dot_rows(type, w[0], rowBytes, rows, act, NULL, n, out, threads) != 0) {
            fprintf(stderr, "pool_dot_rows declined or failed\n");
            return 1;
        }
        for (int r = 0; r < rows; r++) {
            if (memcmp(one + r, out + r, sizeof(float)) != 0) {
                fprintf(stderr, "row %d: %d threads %g, one thread %g\n", r, threads, out[r], one[r]);
                return 1;
            }
        }
    }
    double *took = malloc(sizeof(double) * reps);
    clockid_t clock = threads > 1 ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID;
    for (int i = 0; i < reps; i++) {
        const uint8_t *m = w[i % copies];
        double t0 = micros(clock);
        int rc = threads > 1 ? pool_dot_rows(type, m, rowBytes, rows, act, NULL, n, out, threads)
                             : dot_rows(type, m, rowBytes, rows, act, NULL, n, out);
        took[i] = micros(clock) - t0;
        if (rc != 0) {
            fprintf(stderr, "product %d: code %d\n", i, rc);
            return 1;
        }
    }
    qsort(took, reps, sizeof(double), by_value);
    printf("%s %dx%d, %d thread(s) (%s), %d copies: best %.0f us, median %.0f us, %.1f GB/s at the median\n", argv[1],
           rows, n, threads, threads > 1 ? "wall" : "thread CPU", copies, took[0], took[reps / 2],
           bytes / took[reps / 2] / 1e3);
    pool_stop();
    return 0;
}
