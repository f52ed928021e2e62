/* SPDX-License-Identifier: Apache-2.0 */
#include "mnn_support.h"

/* Shifts of -1 and above (multipliers above a quarter) are rare: kept out of the loop's
 * registers. */
static __attribute__((noinline)) int32_t requantize_rare(int32_t x, int32_t multiplier, int32_t shift) {
    return mnn_requantize(x, multiplier, shift);
}

static inline int32_t requantize(int32_t x, int32_t multiplier, int32_t shift) {
    if (__builtin_expect(shift >= -1, 0)) {
        return requantize_rare(x, multiplier, shift);
    }
    const int32_t r = -shift;
    const int32_t s = x >> 31;
    const uint32_t lo = 0x40000000u | ((uint32_t)s << 31);
    const int32_t hi = (1 << (r - 2)) + s;
    const int64_t z = (int64_t)(((uint64_t)(uint32_t)hi << 32) | lo) + (int64_t)x * multiplier;
    return (int32_t)(z >> 32) >> (r - 1);
}

void mnn_requantize_row(const int32_t *acc, int32_t n, const int32_t *multiplier, const int32_t *shift,
                        int32_t out_offset, mnn_activation act, int8_t *out) {
    if (act.min == INT8_MIN && act.max == INT8_MAX) {
        /* The full int8 range: one saturation (SSAT on Armv7E-M). */
        for (int32_t i = 0; i < n; i++) {
            const int32_t v = requantize(acc[i], multiplier[i], shift[i]) + out_offset;
            out[i] = (int8_t)(v < INT8_MIN ? INT8_MIN : v > INT8_MAX ? INT8_MAX : v);
        }
        return;
    }
    const int32_t lo = act.min, hi = act.max;
    for (int32_t i = 0; i < n; i++) {
        int32_t v = requantize(acc[i], multiplier[i], shift[i]) + out_offset;
        v = v < lo ? lo : v;
        v = v > hi ? hi : v;
        out[i] = (int8_t)v;
    }
}
