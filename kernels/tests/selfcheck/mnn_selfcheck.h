/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A self-check of the mnn library that runs the same way on the host and on every simulated
 * core: pseudo-random cases of every operator (shapes, strides, paddings, offsets, multipliers
 * from a seeded generator), each optimised variant compared with the reference kernel, and a
 * hash of all reference outputs. Equal hashes across machines mean equal bytes.
 */
#ifndef MNN_SELFCHECK_H
#define MNN_SELFCHECK_H

#include <stdint.h>

typedef struct {
    uint32_t hash;       /* FNV-1a over every reference output byte */
    int32_t cases;       /* cases run */
    int32_t mismatches;  /* variant outputs that differ from the reference */
    int32_t first_bad;   /* the first mismatching case, or -1 */
} mnn_selfcheck_result;

mnn_selfcheck_result mnn_selfcheck(uint32_t seed, int32_t cases);

#endif
