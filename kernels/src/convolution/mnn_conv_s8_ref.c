/* SPDX-License-Identifier: Apache-2.0 */
/* CONV_2D reference: TFLite's reference_integer_ops::ConvPerChannel, loop for loop. */
#include "mnn_functions.h"
#include "mnn_support.h"

mnn_status mnn_conv_s8_ref(const mnn_conv_params *params, const mnn_per_channel_quant *quant,
                           const mnn_dims *input_dims, const int8_t *input, const mnn_dims *filter_dims,
                           const int8_t *filter, const int32_t *bias, const mnn_dims *output_dims, int8_t *output) {
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    if (filter_dims->c <= 0 || in_c % filter_dims->c != 0 || filter_dims->n != out_c) {
        return MNN_ARG_ERROR;
    }
    /* Grouped convolution: filter_dims->c input channels per group. */
    const int32_t group_c = filter_dims->c;
    const int32_t out_per_group = out_c / (in_c / group_c);
    for (int32_t b = 0; b < input_dims->n; b++) {
        for (int32_t oy = 0; oy < out_h; oy++) {
            const int32_t in_y0 = oy * params->stride_h - params->pad_h;
            for (int32_t ox = 0; ox < out_w; ox++) {
                const int32_t in_x0 = ox * params->stride_w - params->pad_w;
                for (int32_t oc = 0; oc < out_c; oc++) {
                    const int32_t group = oc / out_per_group;
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < k_h; ky++) {
                        const int32_t iy = in_y0 + params->dilation_h * ky;
                        for (int32_t kx = 0; kx < k_w; kx++) {
                            const int32_t ix = in_x0 + params->dilation_w * kx;
                            if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
                                continue;
                            }
                            for (int32_t ic = 0; ic < group_c; ic++) {
                                const int32_t x =
                                    input[((b * in_h + iy) * in_w + ix) * in_c + group * group_c + ic];
                                const int32_t w = filter[((oc * k_h + ky) * k_w + kx) * group_c + ic];
                                acc += w * (x + params->input_offset);
                            }
                        }
                    }
                    if (bias) {
                        acc += bias[oc];
                    }
                    acc = mnn_requantize_ref(acc, quant->multiplier[oc], quant->shift[oc]);
                    acc += params->output_offset;
                    acc = mnn_clamp(acc, params->activation.min, params->activation.max);
                    output[((b * out_h + oy) * out_w + ox) * out_c + oc] = (int8_t)acc;
                }
            }
        }
    }
    return MNN_SUCCESS;
}
