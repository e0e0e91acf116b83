/*
 * Times the native matrix-matrix product (dot_rows_batch, a prompt pass's products) on the calling thread, in thread
 * CPU time, for Q4_0 or Q4_K weights of random bytes against `vectors` random activations (Q8_0 or Q8_K, with their
 * block sums), and prints the best and median microseconds, the multiply-adds per second at the median and a hash of
 * the outputs' bits (two builds that should give the same bits print the same hash). Not built by Maven. Build (from
 * this directory):
 *
 *   gcc -O3 -std=gnu11 -Wall -I$JAVA_HOME/include -I$JAVA_HOME/include/linux -I../../main/c -o /tmp/gemm_timing \
 *       gemm_timing.c -lpthread
 *
 * then e.g. `/tmp/gemm_timing Q4_K 5632 2048 64 30` (type, rows, columns, vectors, products). Compare two builds
 * alternately, several rounds (session 16 ran them under `chrt -f 10` on the shared machine: medians within 1-2 %).
 */
#include "spanker_kernels.c"

#include "timing_common.h"

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s Q4_0|Q4_K rows columns vectors products\n", argv[0]);
        return 2;
    }
    int type = strcmp(argv[1], "Q4_0") == 0 ? T_Q4_0 : strcmp(argv[1], "Q4_K") == 0 ? T_Q4_K : -1;
    int rows = atoi(argv[2]), n = atoi(argv[3]), vectors = atoi(argv[4]), reps = atoi(argv[5]);
    int block = type == T_Q4_0 ? 32 : 256;
    if (type < 0 || rows < 1 || n < block || n % block != 0 || vectors < 1 || reps < 1) {
        fprintf(stderr, "%s: bad arguments (types Q4_0, Q4_K; columns a multiple of the block)\n", argv[0]);
        return 2;
    }
    int blockBytes = type == T_Q4_0 ? Q4_0_BYTES : Q4_K_BYTES, blocks = n / block;
    long rowBytes = (long) blocks * blockBytes;
    size_t bytes = (size_t) rowBytes * rows;
    uint8_t *w = aligned_alloc(64, (bytes + 4095) / 4096 * 4096);
    for (size_t i = 0; i < bytes; i++) w[i] = next_byte();
    for (int r = 0; r < rows; r++) {
        for (int b = 0; b < blocks; b++) { /* scales that stay finite: fp16 in [2^-7, 2^-6) */
            uint16_t h = 0x2000 | (next_byte() & 0xff);
            uint8_t *p = w + r * rowBytes + (size_t) b * blockBytes;
            memcpy(p, &h, 2);
            if (type == T_Q4_K) memcpy(p + Q4_K_DMIN, &h, 2);
        }
    }
    int actBytes = type == T_Q4_0 ? Q8_0_BYTES : Q8_K_BYTES;
    long stride = (long) blocks * actBytes;
    uint8_t *act = aligned_alloc(64, ((size_t) stride * vectors + 4095) / 4096 * 4096);
    for (size_t i = 0; i < (size_t) stride * vectors; i++) act[i] = next_byte();
    for (int v = 0; v < vectors; v++) {
        for (int b = 0; b < blocks; b++) {
            uint8_t *p = act + v * stride + (size_t) b * actBytes;
            scale_activation_block(p, type == T_Q4_K);
            if (type == T_Q4_0) {
                for (int i = 0; i < 32; i++) if (p[Q8_0_QS + i] == 0x80) p[Q8_0_QS + i] = 0x81; /* no -128 */
            }
        }
    }
    float *out = malloc(sizeof(float) * rows * vectors);
    double *took = malloc(sizeof(double) * reps);
    for (int i = 0; i < reps; i++) {
        double t0 = micros(CLOCK_THREAD_CPUTIME_ID);
        int rc = dot_rows_batch(type, w, rowBytes, rows, act, stride, NULL, n, vectors, out, rows);
        took[i] = micros(CLOCK_THREAD_CPUTIME_ID) - t0;
        if (rc != 0) {
            fprintf(stderr, "product %d: code %d\n", i, rc);
            return 1;
        }
    }
    uint64_t hash = 1469598103934665603ULL; /* FNV-1a over the outputs' bits */
    for (size_t i = 0; i < (size_t) rows * vectors; i++) {
        uint32_t u;
        memcpy(&u, out + i, 4);
        hash = (hash ^ u) * 1099511628211ULL;
    }
    qsort(took, reps, sizeof(double), by_value);
    printf("%s %dx%d x %d vectors: best %.0f us, median %.0f us (thread CPU), %.1f GMAC/s at the median, hash %016llx\n",
           argv[1], rows, n, vectors, took[0], took[reps / 2], (double) rows * n * vectors / took[reps / 2] / 1e3,
           (unsigned long long) hash);
    pool_stop();
    return 0;
}
