/* SPDX-License-Identifier: Apache-2.0 */
/* SOFTMAX, optimised: the exponential of a difference depends only on that difference (one of
 * at most 256 values), so each row's exps are computed once per distinct difference into a
 * table rather than twice per element; the table comes from the same function, so it is exact.
 * Rows shorter than 64 take the reference kernel (the table would cost more than it saves). */
#include "mnn_functions.h"
#include "mnn_support.h"

mnn_status mnn_softmax_s8(const mnn_softmax_params *params, int32_t rows, int32_t row_size, const int8_t *input,
                          int8_t *output) {
    if (row_size < 64) {
        return mnn_softmax_s8_ref(params, rows, row_size, input, output);
    }
    int32_t exps[256]; /* exps[d] = exp(-d scaled), Q0.31, for differences -d >= diff_min */
    int32_t have = -1; /* exps[0 .. have] are valid */
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *in = input + r * row_size;
        int8_t *out = output + r * row_size;
        int32_t max = INT8_MIN;
        for (int32_t c = 0; c < row_size; c++) {
            max = mnn_max(max, in[c]);
        }
        const int32_t needed = max - INT8_MIN;
        for (; have < needed; have++) {
            const int32_t diff = -(have + 1);
            if (diff >= params->diff_min) {
                const int32_t scaled =
                    mnn_doubling_high_mult(mnn_shl_wrap(diff, params->input_left_shift), params->input_multiplier);
                exps[have + 1] = mnn_exp_on_negative_values(scaled, 5);
            } else {
                exps[have + 1] = 0;
            }
        }
        int32_t sum_of_exps = 0;
        for (int32_t c = 0; c < row_size; c++) {
            const int32_t diff = in[c] - max;
            if (diff >= params->diff_min) {
                sum_of_exps += mnn_fixed_rescale(exps[-diff], 0, 12);
            }
        }
        int32_t bits_over_unit;
        const int32_t shifted_scale = mnn_reciprocal(sum_of_exps, 12, &bits_over_unit);
        const int32_t exponent = bits_over_unit + 31 - 8;
        if (exponent < 0 || exponent > 31) {
            return MNN_ARG_ERROR;
        }
        for (int32_t c = 0; c < row_size; c++) {
            const int32_t diff = in[c] - max;
            if (diff >= params->diff_min) {
                const int32_t unsat =
                    mnn_divide_by_power_of_two(mnn_doubling_high_mult(shifted_scale, exps[-diff]), exponent);
                out[c] = (int8_t)mnn_clamp(unsat - 128, INT8_MIN, INT8_MAX);
            } else {
                out[c] = INT8_MIN;
            }
        }
    }
    return MNN_SUCCESS;
}
