/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DEPTHWISE_CONV_2D, optimised for depth multiplier 1.
 *
 * sum(w * (x + offset)) = sum(w * x) + offset * sum(w): for an output pixel whose window lies
 * wholly inside the input, the second term depends only on the channel, so it is computed once
 * per channel (with the bias) into scratch, and the inner loop multiplies raw int8 values.
 * Border pixels take the full form over the taps inside the input. Four channels go per pass:
 * one word of input and one of weights per tap, split with SXTB16 into halfword pairs and
 * multiplied with SMLABB/SMLATT. Integer sums are exact, so the result equals the reference.
 */
#include "mnn_functions.h"
#include "mnn_support.h"

int32_t mnn_depthwise_conv_s8_opt_get_buffer_size(const mnn_dims *filter_dims) {
    return filter_dims->c * (int32_t)sizeof(int32_t);
}

static void border_pixel(const mnn_dw_conv_params *p, const mnn_per_channel_quant *quant, const mnn_dims *in,
                         const int8_t *input, const mnn_dims *fd, const int8_t *filter, const int32_t *bias,
                         int32_t in_y0, int32_t in_x0, int8_t *out) {
    const int32_t ch = in->c;
    for (int32_t c = 0; c < ch; c++) {
        int32_t acc = bias ? bias[c] : 0;
        for (int32_t ky = 0; ky < fd->h; ky++) {
            const int32_t iy = in_y0 + ky * p->dilation_h;
            if (iy < 0 || iy >= in->h) {
                continue;
            }
            for (int32_t kx = 0; kx < fd->w; kx++) {
                const int32_t ix = in_x0 + kx * p->dilation_w;
                if (ix < 0 || ix >= in->w) {
                    continue;
                }
                acc += filter[(ky * fd->w + kx) * ch + c] * (input[(iy * in->w + ix) * ch + c] + p->input_offset);
            }
        }
        acc = mnn_requantize(acc, quant->multiplier[c], quant->shift[c]) + p->output_offset;
        out[c] = (int8_t)mnn_clamp(acc, p->activation.min, p->activation.max);
    }
}

static void interior_pixel(const mnn_dw_conv_params *p, const mnn_per_channel_quant *quant, const mnn_dims *in,
                           const int8_t *input, const mnn_dims *fd, const int8_t *filter, const int32_t *sums,
                           int32_t in_y0, int32_t in_x0, int8_t *out) {
    const int32_t ch = in->c;
    const int32_t k_h = fd->h, k_w = fd->w;
    const int32_t row_step = p->dilation_h * in->w * ch;
    const int32_t col_step = p->dilation_w * ch;
    const int8_t *base = input + (in_y0 * in->w + in_x0) * ch;
    const mnn_activation act = p->activation;
    int32_t c = 0;
    for (; c + 3 < ch; c += 4) {
        int32_t a0 = sums[c], a1 = sums[c + 1], a2 = sums[c + 2], a3 = sums[c + 3];
        const int8_t *row = base + c;
        const int8_t *w = filter + c;
        for (int32_t ky = 0; ky < k_h; ky++) {
            const int8_t *x = row;
            for (int32_t kx = 0; kx < k_w; kx++) {
                const int32_t xv = mnn_read_s8x4(x);
                const int32_t wv = mnn_read_s8x4(w);
                const int32_t xe = mnn_sxtb16(xv), we = mnn_sxtb16(wv);
                const int32_t xo = mnn_sxtb16_ror8(xv), wo = mnn_sxtb16_ror8(wv);
                a0 = mnn_smlabb(xe, we, a0);
                a2 = mnn_smlatt(xe, we, a2);
                a1 = mnn_smlabb(xo, wo, a1);
                a3 = mnn_smlatt(xo, wo, a3);
                x += col_step;
                w += ch;
            }
            row += row_step;
        }
        out[c] = (int8_t)mnn_clamp(mnn_requantize(a0, quant->multiplier[c], quant->shift[c]) + p->output_offset,
                                   act.min, act.max);
        out[c + 1] = (int8_t)mnn_clamp(
            mnn_requantize(a1, quant->multiplier[c + 1], quant->shift[c + 1]) + p->output_offset, act.min, act.max);
        out[c + 2] = (int8_t)mnn_clamp(
            mnn_requantize(a2, quant->multiplier[c + 2], quant->shift[c + 2]) + p->output_offset, act.min, act.max);
        out[c + 3] = (int8_t)mnn_clamp(
            mnn_requantize(a3, quant->multiplier[c + 3], quant->shift[c + 3]) + p->output_offset, act.min, act.max);
    }
    for (; c < ch; c++) {
        int32_t acc = sums[c];
        const int8_t *row = base + c;
        const int8_t *w = filter + c;
        for (int32_t ky = 0; ky < k_h; ky++) {
            const int8_t *x = row;
            for (int32_t kx = 0; kx < k_w; kx++) {
                acc += *x * *w;
                x += col_step;
                w += ch;
            }
            row += row_step;
        }
        acc = mnn_requantize(acc, quant->multiplier[c], quant->shift[c]) + p->output_offset;
        out[c] = (int8_t)mnn_clamp(acc, act.min, act.max);
    }
}

mnn_status mnn_depthwise_conv_s8_opt(const mnn_context *ctx, const mnn_dw_conv_params *params,
                                     const mnn_per_channel_quant *quant, const mnn_dims *input_dims,
                                     const int8_t *input, const mnn_dims *filter_dims, const int8_t *filter,
                                     const int32_t *bias, const mnn_dims *output_dims, int8_t *output) {
    const int32_t ch = input_dims->c;
    if (params->depth_multiplier != 1 || filter_dims->c != ch || output_dims->c != ch ||
        output_dims->n != input_dims->n) {
        return MNN_ARG_ERROR;
    }
    if (ctx == NULL || ctx->buf == NULL || ctx->size < mnn_depthwise_conv_s8_opt_get_buffer_size(filter_dims)) {
        return MNN_ARG_ERROR;
    }
    int32_t *sums = (int32_t *)ctx->buf;
    const int32_t taps = filter_dims->h * filter_dims->w;
    for (int32_t c = 0; c < ch; c++) {
        int32_t s = 0;
        for (int32_t t = 0; t < taps; t++) {
            s += filter[t * ch + c];
        }
        sums[c] = (bias ? bias[c] : 0) + s * params->input_offset;
    }
    /* The window spans rows in_y0 .. in_y0 + (k_h - 1) * dilation_h. */
    const int32_t span_h = (filter_dims->h - 1) * params->dilation_h;
    const int32_t span_w = (filter_dims->w - 1) * params->dilation_w;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * input_dims->h * input_dims->w * ch;
        int8_t *out = output + b * output_dims->h * output_dims->w * ch;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t in_y0 = oy * params->stride_h - params->pad_h;
            const int32_t rows_inside = in_y0 >= 0 && in_y0 + span_h < input_dims->h;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t in_x0 = ox * params->stride_w - params->pad_w;
                if (rows_inside && in_x0 >= 0 && in_x0 + span_w < input_dims->w) {
                    interior_pixel(params, quant, input_dims, in_b, filter_dims, filter, sums, in_y0, in_x0, out);
                } else {
                    border_pixel(params, quant, input_dims, in_b, filter_dims, filter, bias, in_y0, in_x0, out);
                }
                out += ch;
            }
        }
    }
    return MNN_SUCCESS;
}

int32_t mnn_depthwise_conv_s8_get_buffer_size(const mnn_dw_conv_params *params, const mnn_dims *input_dims,
                                              const mnn_dims *filter_dims, const mnn_dims *output_dims) {
    (void)input_dims;
    (void)output_dims;
    return params->depth_multiplier == 1 ? mnn_depthwise_conv_s8_opt_get_buffer_size(filter_dims) : 0;
}

mnn_status mnn_depthwise_conv_s8(const mnn_context *ctx, const mnn_dw_conv_params *params,
                                 const mnn_per_channel_quant *quant, const mnn_dims *input_dims, const int8_t *input,
                                 const mnn_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                 const mnn_dims *output_dims, int8_t *output) {
    if (params->depth_multiplier == 1) {
        return mnn_depthwise_conv_s8_opt(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                                         output_dims, output);
    }
    return mnn_depthwise_conv_s8_ref(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                                     output);
}
