/* SPDX-License-Identifier: Apache-2.0 */
/* AVERAGE_POOL_2D and MAX_POOL_2D, optimised: the window is clipped once per output pixel
 * (not once per channel as in the reference) and the taps are walked with pointer steps, four
 * channels at a time for the average. */
#include "mnn_functions.h"
#include "mnn_support.h"

typedef struct {
    int32_t fy_start, fy_end, fx_start, fx_end, in_y0, in_x0;
} window;

static window clip(const mnn_pool_params *p, const mnn_dims *in, int32_t oy, int32_t ox) {
    window w;
    w.in_x0 = ox * p->stride_w - p->pad_w;
    w.in_y0 = oy * p->stride_h - p->pad_h;
    w.fx_start = mnn_max(0, -w.in_x0);
    w.fx_end = mnn_min(p->filter_w, in->w - w.in_x0);
    w.fy_start = mnn_max(0, -w.in_y0);
    w.fy_end = mnn_min(p->filter_h, in->h - w.in_y0);
    return w;
}

mnn_status mnn_avgpool_s8(const mnn_pool_params *params, const mnn_dims *input_dims, const int8_t *input,
                          const mnn_dims *output_dims, int8_t *output) {
    const int32_t depth = input_dims->c;
    if (output_dims->c != depth) {
        return MNN_ARG_ERROR;
    }
    const int32_t row_stride = input_dims->w * depth;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * input_dims->h * row_stride;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const window w = clip(params, input_dims, oy, ox);
                const int32_t count = (w.fy_end - w.fy_start) * (w.fx_end - w.fx_start);
                if (w.fy_end <= w.fy_start || w.fx_end <= w.fx_start) {
                    return MNN_ARG_ERROR;
                }
                const int8_t *first = in_b + (w.in_y0 + w.fy_start) * row_stride + (w.in_x0 + w.fx_start) * depth;
                int32_t c = 0;
                /* Four channels per walk over the window. */
                for (; c + 3 < depth; c += 4) {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    const int8_t *row = first + c;
                    for (int32_t fy = w.fy_start; fy < w.fy_end; fy++) {
                        const int8_t *x = row;
                        for (int32_t fx = w.fx_start; fx < w.fx_end; fx++) {
                            a0 += x[0];
                            a1 += x[1];
                            a2 += x[2];
                            a3 += x[3];
                            x += depth;
                        }
                        row += row_stride;
                    }
                    const int32_t sums[4] = {a0, a1, a2, a3};
                    for (int32_t i = 0; i < 4; i++) {
                        const int32_t acc = sums[i];
                        const int32_t avg = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                        *output++ = (int8_t)mnn_clamp(avg, params->activation.min, params->activation.max);
                    }
                }
                for (; c < depth; c++) {
                    int32_t acc = 0;
                    const int8_t *row = first + c;
                    for (int32_t fy = w.fy_start; fy < w.fy_end; fy++) {
                        const int8_t *x = row;
                        for (int32_t fx = w.fx_start; fx < w.fx_end; fx++) {
                            acc += *x;
                            x += depth;
                        }
                        row += row_stride;
                    }
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    *output++ = (int8_t)mnn_clamp(acc, params->activation.min, params->activation.max);
                }
            }
        }
    }
    return MNN_SUCCESS;
}

mnn_status mnn_maxpool_s8(const mnn_pool_params *params, const mnn_dims *input_dims, const int8_t *input,
                          const mnn_dims *output_dims, int8_t *output) {
    const int32_t depth = input_dims->c;
    if (output_dims->c != depth) {
        return MNN_ARG_ERROR;
    }
    const int32_t row_stride = input_dims->w * depth;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * input_dims->h * row_stride;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const window w = clip(params, input_dims, oy, ox);
                const int8_t *first = in_b + (w.in_y0 + w.fy_start) * row_stride + (w.in_x0 + w.fx_start) * depth;
                for (int32_t c = 0; c < depth; c++) {
                    int32_t max = INT8_MIN;
                    const int8_t *row = first + c;
                    for (int32_t fy = w.fy_start; fy < w.fy_end; fy++) {
                        const int8_t *x = row;
                        for (int32_t fx = w.fx_start; fx < w.fx_end; fx++) {
                            max = mnn_max(max, *x);
                            x += depth;
                        }
                        row += row_stride;
                    }
                    *output++ = (int8_t)mnn_clamp(max, params->activation.min, params->activation.max);
                }
            }
        }
    }
    return MNN_SUCCESS;
}
