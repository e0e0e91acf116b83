/*
 * Reference int4 matmul of the driver double: ggml Q4_K / Q4_0 rows (SPEC §7) decoded to float32 as ggml decodes
 * them, and dot products with the summation order the project's host kernels define (eight float lanes, element i
 * in lane i mod 8, lanes added in order), so the card's OUT bytes equal the host's for the same operands. Plain
 * float arithmetic; compile with -ffp-contract=off (no fused multiply-add).
 */
#ifndef SPANKER_Q4_H
#define SPANKER_Q4_H

#include <stdint.h>

#define Q4_K_VALUES 256
#define Q4_K_BYTES 144
#define Q4_0_VALUES 32
#define Q4_0_BYTES 18

float spanker_half_to_float(uint16_t bits);

/* A row of k values (k a multiple of the block) decoded to floats. */
void spanker_q4_k_decode(const uint8_t *row, uint64_t k, float *out);
void spanker_q4_0_decode(const uint8_t *row, uint64_t k, float *out);

/* Σ a[i]·b[i] over eight lanes. */
float spanker_dot(const float *a, const float *b, uint64_t k);

#endif
