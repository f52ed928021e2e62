/* SPDX-License-Identifier: Apache-2.0 */
/* LOGISTIC and TANH references: TFLite's reference_integer_ops::Logistic and ::Tanh for int8.
 * The input is rescaled to Q4.27 and the gemmlowp fixed-point function applied; outputs are
 * Q0.7 rounded (tanh) or Q0.8 rounded and shifted by the -128 zero point (logistic). */
#include "mnn_functions.h"
#include "mnn_support.h"

mnn_status mnn_logistic_s8_ref(const mnn_activation_fn_params *params, int32_t size, const int8_t *input,
                               int8_t *output) {
    for (int32_t i = 0; i < size; i++) {
        const int32_t x = input[i] + params->input_offset;
        if (x <= -params->input_range_radius) {
            output[i] = INT8_MIN;
        } else if (x >= params->input_range_radius) {
            output[i] = INT8_MAX;
        } else {
            const int32_t q4 = mnn_requantize_ref(x, params->input_multiplier, params->input_left_shift);
            const int32_t q0 = mnn_logistic_q4(q4);
            const int32_t out = mnn_divide_by_power_of_two(q0, 31 - 8) - 128;
            output[i] = (int8_t)mnn_clamp(out, INT8_MIN, INT8_MAX);
        }
    }
    return MNN_SUCCESS;
}

mnn_status mnn_tanh_s8_ref(const mnn_activation_fn_params *params, int32_t size, const int8_t *input,
                           int8_t *output) {
    for (int32_t i = 0; i < size; i++) {
        const int32_t x = input[i] + params->input_offset;
        if (x <= -params->input_range_radius) {
            output[i] = INT8_MIN;
        } else if (x >= params->input_range_radius) {
            output[i] = INT8_MAX;
        } else {
            const int32_t q4 = mnn_requantize_ref(x, params->input_multiplier, params->input_left_shift);
            const int32_t q0 = mnn_tanh_q4(q4);
            const int32_t out = mnn_divide_by_power_of_two(q0, 31 - 7);
            output[i] = (int8_t)mnn_clamp(out, INT8_MIN, INT8_MAX);
        }
    }
    return MNN_SUCCESS;
}
