/* SPDX-License-Identifier: Apache-2.0 */
/* AVERAGE_POOL_2D and MAX_POOL_2D references: TFLite's reference_integer_ops pooling. */
#include "mnn_functions.h"
#include "mnn_support.h"

mnn_status mnn_avgpool_s8_ref(const mnn_pool_params *params, const mnn_dims *input_dims, const int8_t *input,
                              const mnn_dims *output_dims, int8_t *output) {
    const int32_t in_h = input_dims->h, in_w = input_dims->w, depth = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    if (output_dims->c != depth) {
        return MNN_ARG_ERROR;
    }
    for (int32_t b = 0; b < input_dims->n; b++) {
        for (int32_t oy = 0; oy < out_h; oy++) {
            for (int32_t ox = 0; ox < out_w; ox++) {
                for (int32_t c = 0; c < depth; c++) {
                    const int32_t in_x0 = ox * params->stride_w - params->pad_w;
                    const int32_t in_y0 = oy * params->stride_h - params->pad_h;
                    const int32_t fx_start = mnn_max(0, -in_x0);
                    const int32_t fx_end = mnn_min(params->filter_w, in_w - in_x0);
                    const int32_t fy_start = mnn_max(0, -in_y0);
                    const int32_t fy_end = mnn_min(params->filter_h, in_h - in_y0);
                    int32_t acc = 0;
                    int32_t count = 0;
                    for (int32_t fy = fy_start; fy < fy_end; fy++) {
                        for (int32_t fx = fx_start; fx < fx_end; fx++) {
                            acc += input[((b * in_h + in_y0 + fy) * in_w + in_x0 + fx) * depth + c];
                            count++;
                        }
                    }
                    if (count == 0) {
                        return MNN_ARG_ERROR;
                    }
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    acc = mnn_clamp(acc, params->activation.min, params->activation.max);
                    output[((b * out_h + oy) * out_w + ox) * depth + c] = (int8_t)acc;
                }
            }
        }
    }
    return MNN_SUCCESS;
}

mnn_status mnn_maxpool_s8_ref(const mnn_pool_params *params, const mnn_dims *input_dims, const int8_t *input,
                              const mnn_dims *output_dims, int8_t *output) {
    const int32_t in_h = input_dims->h, in_w = input_dims->w, depth = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    if (output_dims->c != depth) {
        return MNN_ARG_ERROR;
    }
    for (int32_t b = 0; b < input_dims->n; b++) {
        for (int32_t oy = 0; oy < out_h; oy++) {
            for (int32_t ox = 0; ox < out_w; ox++) {
                for (int32_t c = 0; c < depth; c++) {
                    const int32_t in_x0 = ox * params->stride_w - params->pad_w;
                    const int32_t in_y0 = oy * params->stride_h - params->pad_h;
                    const int32_t fx_start = mnn_max(0, -in_x0);
                    const int32_t fx_end = mnn_min(params->filter_w, in_w - in_x0);
                    const int32_t fy_start = mnn_max(0, -in_y0);
                    const int32_t fy_end = mnn_min(params->filter_h, in_h - in_y0);
                    int32_t max = INT8_MIN;
                    for (int32_t fy = fy_start; fy < fy_end; fy++) {
                        for (int32_t fx = fx_start; fx < fx_end; fx++) {
                            max = mnn_max(max, input[((b * in_h + in_y0 + fy) * in_w + in_x0 + fx) * depth + c]);
                        }
                    }
                    max = mnn_clamp(max, params->activation.min, params->activation.max);
                    output[((b * out_h + oy) * out_w + ox) * depth + c] = (int8_t)max;
                }
            }
        }
    }
    return MNN_SUCCESS;
}
