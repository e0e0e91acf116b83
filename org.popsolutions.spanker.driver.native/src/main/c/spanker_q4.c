#include "spanker_q4.h"

#include <string.h>

#define LANES 8

float spanker_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t) (h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13); /* infinity or NaN, payload kept */
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {
        /* subnormal half: normalise into a float */
        int shift = 0;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            shift++;
        }
        bits = sign | ((uint32_t) (113 - shift) << 23) | ((mantissa & 0x3ffu) << 13);
    }
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static uint16_t le16(const uint8_t *p) {
    return (uint16_t) (p[0] | (p[1] << 8));
}

/* 6-bit scale and min of sub-block j from the 12 packed bytes. */
static int k_scale(const uint8_t *packed, int j) {
    return j < 4 ? packed[j] & 63 : (packed[j + 4] & 0xf) | ((packed[j - 4] >> 6) << 4);
}

static int k_min(const uint8_t *packed, int j) {
    return j < 4 ? packed[j + 4] & 63 : (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
}

void spanker_q4_k_decode(const uint8_t *row, uint64_t k, float *out) {
    for (uint64_t b = 0; b < k / Q4_K_VALUES; b++) {
        const uint8_t *block = row + Q4_K_BYTES * b;
        float d = spanker_half_to_float(le16(block));
        float dmin = spanker_half_to_float(le16(block + 2));
        for (int quarter = 0; quarter < 4; quarter++) {
            float d1 = d * k_scale(block + 4, 2 * quarter);
            float m1 = dmin * k_min(block + 4, 2 * quarter);
            float d2 = d * k_scale(block + 4, 2 * quarter + 1);
            float m2 = dmin * k_min(block + 4, 2 * quarter + 1);
            const uint8_t *qs = block + 16 + 32 * quarter;
            float *y = out + Q4_K_VALUES * b + 64 * quarter;
            for (int l = 0; l < 32; l++) {
                y[l] = d1 * (qs[l] & 0xf) - m1;
                y[32 + l] = d2 * (qs[l] >> 4) - m2;
            }
        }
    }
}

void spanker_q4_0_decode(const uint8_t *row, uint64_t k, float *out) {
    for (uint64_t b = 0; b < k / Q4_0_VALUES; b++) {
        const uint8_t *block = row + Q4_0_BYTES * b;
        float d = spanker_half_to_float(le16(block));
        for (int j = 0; j < 16; j++) {
            out[Q4_0_VALUES * b + j] = ((block[2 + j] & 0xf) - 8) * d;
            out[Q4_0_VALUES * b + 16 + j] = ((block[2 + j] >> 4) - 8) * d;
        }
    }
}

/*
 * Decoding first and multiplying after gives the same bits as the host's fused loops: each weight is rounded to a
 * float before its product either way, and element i goes to lane i mod 8 in element order.
 */
float spanker_dot(const float *a, const float *b, uint64_t k) {
    float acc[LANES] = {0};
    for (uint64_t i = 0; i < k; i++) {
        acc[i & 7] += a[i] * b[i];
    }
    float sum = 0;
    for (int l = 0; l < LANES; l++) {
        sum += acc[l];
    }
    return sum;
}
