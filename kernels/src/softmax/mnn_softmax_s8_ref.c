/* SPDX-License-Identifier: Apache-2.0 */
/* SOFTMAX reference: TFLite's reference_ops::Softmax for int8 in and out. Differences from
 * the row maximum are scaled to Q5.26, exponentiated with gemmlowp's exp, summed in Q12.19,
 * and divided by the sum with gemmlowp's Newton-Raphson reciprocal. */
#include "mnn_functions.h"
#include "mnn_support.h"

#define SCALED_DIFF_INTEGER_BITS 5
#define ACCUMULATION_INTEGER_BITS 12

mnn_status mnn_softmax_s8_ref(const mnn_softmax_params *params, int32_t rows, int32_t row_size,
                              const int8_t *input, int8_t *output) {
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *in = input + r * row_size;
        int8_t *out = output + r * row_size;
        int32_t max = INT8_MIN;
        for (int32_t c = 0; c < row_size; c++) {
            max = mnn_max(max, in[c]);
        }
        int32_t sum_of_exps = 0;
        for (int32_t c = 0; c < row_size; c++) {
            const int32_t diff = in[c] - max;
            if (diff >= params->diff_min) {
                const int32_t scaled =
                    mnn_doubling_high_mult(mnn_shl_wrap(diff, params->input_left_shift), params->input_multiplier);
                const int32_t e = mnn_exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS);
                sum_of_exps += mnn_fixed_rescale(e, 0, ACCUMULATION_INTEGER_BITS);
            }
        }
        int32_t bits_over_unit;
        const int32_t shifted_scale = mnn_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS, &bits_over_unit);
        const int32_t exponent = bits_over_unit + 31 - 8;
        if (exponent < 0 || exponent > 31) {
            return MNN_ARG_ERROR;
        }
        for (int32_t c = 0; c < row_size; c++) {
            const int32_t diff = in[c] - max;
            if (diff >= params->diff_min) {
                const int32_t scaled =
                    mnn_doubling_high_mult(mnn_shl_wrap(diff, params->input_left_shift), params->input_multiplier);
                const int32_t e = mnn_exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS);
                const int32_t unsat = mnn_divide_by_power_of_two(mnn_doubling_high_mult(shifted_scale, e), exponent);
                out[c] = (int8_t)mnn_clamp(unsat - 128, INT8_MIN, INT8_MAX);
            } else {
                out[c] = INT8_MIN;
            }
        }
    }
    return MNN_SUCCESS;
}
