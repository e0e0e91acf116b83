/*
 * Reference int4 matmul kernels of the driver double: OUT = A·Bᵀ over ggml Q4_K / Q4_0 rows (SPEC §7), with the
 * summation order the project's host kernels define (eight float lanes, element i in lane i mod 8, lanes added in
 * order), so the card's OUT bytes equal the host's for the same operands. Plain float arithmetic; compile with
 * -ffp-contract=off (no fused multiply-add).
 */
#ifndef SPANKER_Q4_H
#define SPANKER_Q4_H

#include <stdint.h>

#define Q4_K_VALUES 256
#define Q4_K_BYTES 144
#define Q4_0_VALUES 32
#define Q4_0_BYTES 18

float spanker_half_to_float(uint16_t bits);

/* B row of k values (k a multiple of 256) decoded to floats. */
void spanker_q4_k_decode(const uint8_t *row, uint64_t k, float *out);
float spanker_q4_k_dot(const uint8_t *row, uint64_t k, const float *x);

void spanker_q4_0_decode(const uint8_t *row, uint64_t k, float *out);
float spanker_q4_0_dot(const uint8_t *row, uint64_t k, const float *x);

#endif
