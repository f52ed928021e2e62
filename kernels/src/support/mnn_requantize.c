/* SPDX-License-Identifier: Apache-2.0 */
#include "mnn_support.h"

void mnn_requantizer_init(mnn_requantizer *rq, const mnn_per_channel_quant *quant, int32_t n, int32_t out_offset,
                          mnn_activation act, mnn_requant_channel *table) {
    rq->multiplier = quant->multiplier;
    rq->shift = quant->shift;
    rq->out_offset = out_offset;
    rq->act = act;
    rq->prepared = table;
    for (int32_t i = 0; i < n; i++) {
        const int32_t shift = quant->shift[i];
        if (shift >= -1 || shift < -31 || quant->multiplier[i] < 0) {
            rq->prepared = NULL;
            return;
        }
        table[i].multiplier = quant->multiplier[i];
        table[i].rounding_hi = 1 << (-shift - 2);
        table[i].shift_minus_one = -shift - 1;
    }
}

static inline int8_t clamp_full(int32_t v) { return (int8_t)mnn_ssat8(v); }

void mnn_requantize_row(const mnn_requantizer *rq, const int32_t *acc, int32_t n, int8_t *out) {
    mnn_requantize_row_from(rq, 0, acc, n, out);
}

void mnn_requantize_row_from(const mnn_requantizer *rq, int32_t first, const int32_t *acc, int32_t n, int8_t *out) {
    const int32_t offset = rq->out_offset;
    const int32_t lo = rq->act.min, hi = rq->act.max;
    const int32_t full = lo == INT8_MIN && hi == INT8_MAX;
    if (rq->prepared) {
        const mnn_requant_channel *ch = rq->prepared + first;
        if (full) {
            /* The full int8 range: one saturation (SSAT on Armv7E-M). */
            for (int32_t i = 0; i < n; i++) {
                out[i] = clamp_full(mnn_requantize_prepared(acc[i], &ch[i]) + offset);
            }
        } else {
            for (int32_t i = 0; i < n; i++) {
                const int32_t v = mnn_requantize_prepared(acc[i], &ch[i]) + offset;
                out[i] = (int8_t)mnn_clamp(v, lo, hi);
            }
        }
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const int32_t v = mnn_requantize(acc[i], rq->multiplier[first + i], rq->shift[first + i]) + offset;
        out[i] = (int8_t)mnn_clamp(v, lo, hi);
    }
}
