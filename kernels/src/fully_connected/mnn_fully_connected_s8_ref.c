/* SPDX-License-Identifier: Apache-2.0 */
/* FULLY_CONNECTED reference: TFLite's reference_integer_ops::FullyConnected (per tensor) and
 * its per-channel form. */
#include "mnn_functions.h"
#include "mnn_support.h"

mnn_status mnn_fully_connected_s8_ref(const mnn_fc_params *params, const mnn_per_channel_quant *quant,
                                      int32_t per_channel, const mnn_dims *input_dims, const int8_t *input,
                                      const mnn_dims *filter_dims, const int8_t *weights, const int32_t *bias,
                                      int8_t *output) {
    const int32_t batches = input_dims->n;
    const int32_t depth = filter_dims->c;
    const int32_t out_features = filter_dims->n;
    if (input_dims->c != depth) {
        return MNN_ARG_ERROR;
    }
    for (int32_t b = 0; b < batches; b++) {
        for (int32_t o = 0; o < out_features; o++) {
            int32_t acc = 0;
            for (int32_t d = 0; d < depth; d++) {
                const int32_t x = input[b * depth + d];
                const int32_t w = weights[o * depth + d];
                acc += (w + params->filter_offset) * (x + params->input_offset);
            }
            if (bias) {
                acc += bias[o];
            }
            const int32_t q = per_channel ? o : 0;
            acc = mnn_requantize_ref(acc, quant->multiplier[q], quant->shift[q]);
            acc += params->output_offset;
            acc = mnn_clamp(acc, params->activation.min, params->activation.max);
            output[b * out_features + o] = (int8_t)acc;
        }
    }
    return MNN_SUCCESS;
}
