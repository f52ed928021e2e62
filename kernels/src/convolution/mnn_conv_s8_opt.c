/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CONV_2D, optimised: im2col + matrix multiply.
 *
 * For each pair of output pixels the receptive fields are gathered into two int16 columns of
 * K = k_h * k_w * in_c values with the input offset already added (padding becomes 0, so it
 * contributes nothing, as in the reference). Then every output channel's K weights (a
 * contiguous row of the OHWI filter) are multiplied with both columns at once, two channels at
 * a time: each weight loaded serves two pixels, each column value two channels.
 *
 * The DSP variant stores columns in SXTB16 order (for each group of 4 values a, b, c, d: the
 * halfword pairs (a, c) and (b, d)), so a weight word expanded with SXTB16 and SXTB16-ROR-8
 * pairs up with column words for SMLAD without repacking: 16 MACs per 8 SMLADs, 4 SXTB16 and
 * 6 loads. The generic variant keeps plain order and multiplies scalars.
 *
 * A 1x1 convolution with stride 1 and no padding needs no gather: the column is the input
 * pixel itself.
 */
#include "mnn_functions.h"
#include "mnn_support.h"

/* Gather one output pixel's receptive field (int8, padding filled with the input zero point
 * so that it becomes 0 once the offset is added). */
static void gather_column_s8(const mnn_conv_params *p, const mnn_dims *in, const int8_t *input, int32_t k_h,
                             int32_t k_w, int32_t oy, int32_t ox, int8_t *col) {
    const int32_t in_c = in->c;
    const int8_t pad_value = (int8_t)(-p->input_offset);
    const int32_t in_y0 = oy * p->stride_h - p->pad_h;
    const int32_t in_x0 = ox * p->stride_w - p->pad_w;
    for (int32_t ky = 0; ky < k_h; ky++) {
        const int32_t iy = in_y0 + ky * p->dilation_h;
        for (int32_t kx = 0; kx < k_w; kx++) {
            const int32_t ix = in_x0 + kx * p->dilation_w;
            if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w) {
                memset(col, pad_value, (size_t)in_c);
            } else {
                memcpy(col, input + (iy * in->w + ix) * in_c, (size_t)in_c);
            }
            col += in_c;
        }
    }
}

/* int8 -> int16 with the offset added, in SXTB16 order for whole groups of 4. */
static void expand_reordered(const int8_t *src, int16_t *dst, int32_t k, int32_t offset) {
    const int32_t offset2 = mnn_pkhbt(offset, offset);
    int32_t groups = k >> 2;
    while (groups-- > 0) {
        const int32_t word = mnn_read_s8x4(src);
        src += 4;
        mnn_write_s16x2(dst, mnn_sadd16(mnn_sxtb16(word), offset2));
        mnn_write_s16x2(dst + 2, mnn_sadd16(mnn_sxtb16_ror8(word), offset2));
        dst += 4;
    }
    for (int32_t i = 0; i < (k & 3); i++) {
        dst[i] = (int16_t)(src[i] + offset);
    }
}

/* int8 -> int16 with the offset added, plain order. */
static void expand_plain(const int8_t *src, int16_t *dst, int32_t k, int32_t offset) {
    for (int32_t i = 0; i < k; i++) {
        dst[i] = (int16_t)(src[i] + offset);
    }
}

static inline int8_t finish(int32_t acc, int32_t multiplier, int32_t shift, int32_t out_offset, mnn_activation act) {
    acc = mnn_requantize(acc, multiplier, shift) + out_offset;
    return (int8_t)mnn_clamp(acc, act.min, act.max);
}

/* out0/out1[c] for every output channel c from two reordered columns (col1 may equal col0
 * when there is a single pixel left; out1 is then NULL). */
static void mat_mult_dsp(const int8_t *weights, const int16_t *col0, const int16_t *col1, int32_t out_c, int32_t k,
                         const mnn_per_channel_quant *quant, const int32_t *bias, int32_t out_offset,
                         mnn_activation act, int8_t *out0, int8_t *out1) {
    const int32_t groups = k >> 2;
    const int32_t tail = k & 3;
    int32_t c = 0;
    for (; c + 1 < out_c; c += 2) {
        const int8_t *w0 = weights + c * k;
        const int8_t *w1 = w0 + k;
        const int16_t *x0 = col0;
        const int16_t *x1 = col1;
        int32_t s00 = bias ? bias[c] : 0;
        int32_t s10 = bias ? bias[c + 1] : 0;
        int32_t s01 = s00;
        int32_t s11 = s10;
        const int16_t *x0_end = x0 + 4 * groups;
        while (x0 < x0_end) {
            const int32_t wa = mnn_read_s8x4(w0);
            const int32_t wb = mnn_read_s8x4(w1);
            w0 += 4;
            w1 += 4;
            const int32_t wa_even = mnn_sxtb16(wa);
            const int32_t wb_even = mnn_sxtb16(wb);
            int32_t a = mnn_read_s16x2(x0);
            int32_t b = mnn_read_s16x2(x1);
            s00 = mnn_smlad(wa_even, a, s00);
            s10 = mnn_smlad(wb_even, a, s10);
            s01 = mnn_smlad(wa_even, b, s01);
            s11 = mnn_smlad(wb_even, b, s11);
            const int32_t wa_odd = mnn_sxtb16_ror8(wa);
            const int32_t wb_odd = mnn_sxtb16_ror8(wb);
            a = mnn_read_s16x2(x0 + 2);
            b = mnn_read_s16x2(x1 + 2);
            x0 += 4;
            x1 += 4;
            s00 = mnn_smlad(wa_odd, a, s00);
            s10 = mnn_smlad(wb_odd, a, s10);
            s01 = mnn_smlad(wa_odd, b, s01);
            s11 = mnn_smlad(wb_odd, b, s11);
        }
        for (int32_t i = 0; i < tail; i++) {
            const int32_t wa = w0[i], wb = w1[i];
            s00 += wa * x0[i];
            s10 += wb * x0[i];
            s01 += wa * x1[i];
            s11 += wb * x1[i];
        }
        out0[c] = finish(s00, quant->multiplier[c], quant->shift[c], out_offset, act);
        out0[c + 1] = finish(s10, quant->multiplier[c + 1], quant->shift[c + 1], out_offset, act);
        if (out1) {
            out1[c] = finish(s01, quant->multiplier[c], quant->shift[c], out_offset, act);
            out1[c + 1] = finish(s11, quant->multiplier[c + 1], quant->shift[c + 1], out_offset, act);
        }
    }
    if (c < out_c) {
        const int8_t *w0 = weights + c * k;
        const int16_t *x0 = col0;
        const int16_t *x1 = col1;
        int32_t s0 = bias ? bias[c] : 0;
        int32_t s1 = s0;
        for (int32_t g = groups; g > 0; g--) {
            const int32_t w = mnn_read_s8x4(w0);
            w0 += 4;
            s0 = mnn_smlad(mnn_sxtb16(w), mnn_read_s16x2(x0), s0);
            s1 = mnn_smlad(mnn_sxtb16(w), mnn_read_s16x2(x1), s1);
            s0 = mnn_smlad(mnn_sxtb16_ror8(w), mnn_read_s16x2(x0 + 2), s0);
            s1 = mnn_smlad(mnn_sxtb16_ror8(w), mnn_read_s16x2(x1 + 2), s1);
            x0 += 4;
            x1 += 4;
        }
        for (int32_t i = 0; i < tail; i++) {
            s0 += w0[i] * x0[i];
            s1 += w0[i] * x1[i];
        }
        out0[c] = finish(s0, quant->multiplier[c], quant->shift[c], out_offset, act);
        if (out1) {
            out1[c] = finish(s1, quant->multiplier[c], quant->shift[c], out_offset, act);
        }
    }
}

/* The same in plain order with scalar multiplies. */
static void mat_mult_generic(const int8_t *weights, const int16_t *col0, const int16_t *col1, int32_t out_c,
                             int32_t k, const mnn_per_channel_quant *quant, const int32_t *bias, int32_t out_offset,
                             mnn_activation act, int8_t *out0, int8_t *out1) {
    const int8_t *w0 = weights;
    int32_t c = 0;
    for (; c + 1 < out_c; c += 2) {
        const int8_t *w1 = w0 + k;
        int32_t s00 = bias ? bias[c] : 0;
        int32_t s10 = bias ? bias[c + 1] : 0;
        int32_t s01 = s00;
        int32_t s11 = s10;
        for (int32_t i = 0; i < k; i++) {
            const int32_t wa = w0[i], wb = w1[i];
            const int32_t a = col0[i], b = col1[i];
            s00 += wa * a;
            s10 += wb * a;
            s01 += wa * b;
            s11 += wb * b;
        }
        w0 = w1 + k;
        out0[c] = finish(s00, quant->multiplier[c], quant->shift[c], out_offset, act);
        out0[c + 1] = finish(s10, quant->multiplier[c + 1], quant->shift[c + 1], out_offset, act);
        if (out1) {
            out1[c] = finish(s01, quant->multiplier[c], quant->shift[c], out_offset, act);
            out1[c + 1] = finish(s11, quant->multiplier[c + 1], quant->shift[c + 1], out_offset, act);
        }
    }
    if (c < out_c) {
        int32_t s0 = bias ? bias[c] : 0;
        int32_t s1 = s0;
        for (int32_t i = 0; i < k; i++) {
            s0 += w0[i] * col0[i];
            s1 += w0[i] * col1[i];
        }
        out0[c] = finish(s0, quant->multiplier[c], quant->shift[c], out_offset, act);
        if (out1) {
            out1[c] = finish(s1, quant->multiplier[c], quant->shift[c], out_offset, act);
        }
    }
}

typedef void (*expand_fn)(const int8_t *, int16_t *, int32_t, int32_t);
typedef void (*mat_mult_fn)(const int8_t *, const int16_t *, const int16_t *, int32_t, int32_t,
                            const mnn_per_channel_quant *, const int32_t *, int32_t, mnn_activation, int8_t *,
                            int8_t *);

static int32_t column_len(const mnn_dims *input_dims, const mnn_dims *filter_dims) {
    return filter_dims->h * filter_dims->w * input_dims->c;
}

/* Two int16 columns, then one int8 gather column (4-byte aligned). */
static int32_t buffer_size(const mnn_dims *input_dims, const mnn_dims *filter_dims) {
    const int32_t k = column_len(input_dims, filter_dims);
    return 2 * k * (int32_t)sizeof(int16_t) + ((k + 3) & ~3);
}

int32_t mnn_conv_s8_dsp_get_buffer_size(const mnn_dims *input_dims, const mnn_dims *filter_dims) {
    return buffer_size(input_dims, filter_dims);
}

int32_t mnn_conv_s8_generic_get_buffer_size(const mnn_dims *input_dims, const mnn_dims *filter_dims) {
    return buffer_size(input_dims, filter_dims);
}

static mnn_status conv_im2col(const mnn_context *ctx, const mnn_conv_params *p, const mnn_per_channel_quant *quant,
                              const mnn_dims *in, const int8_t *input, const mnn_dims *fd, const int8_t *filter,
                              const int32_t *bias, const mnn_dims *od, int8_t *output, expand_fn expand,
                              mat_mult_fn mat_mult) {
    if (fd->c != in->c || fd->n != od->c || od->n != in->n) {
        return MNN_ARG_ERROR;
    }
    const int32_t k = column_len(in, fd);
    if (ctx == NULL || ctx->buf == NULL || ctx->size < buffer_size(in, fd)) {
        return MNN_ARG_ERROR;
    }
    int16_t *cols = (int16_t *)ctx->buf;
    int8_t *gather = (int8_t *)(cols + 2 * k);
    const int32_t direct = fd->h == 1 && fd->w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 &&
                           p->pad_w == 0 && od->h == in->h && od->w == in->w;
    const int32_t pixels = od->h * od->w;
    const int32_t out_c = od->c;
    for (int32_t b = 0; b < in->n; b++) {
        const int8_t *in_b = input + b * in->h * in->w * in->c;
        int8_t *out = output + b * pixels * out_c;
        int32_t filled = 0;
        for (int32_t pix = 0; pix < pixels; pix++) {
            int16_t *col = cols + filled * k;
            if (direct) {
                expand(in_b + pix * in->c, col, k, p->input_offset);
            } else {
                gather_column_s8(p, in, in_b, fd->h, fd->w, pix / od->w, pix % od->w, gather);
                expand(gather, col, k, p->input_offset);
            }
            if (++filled == 2) {
                mat_mult(filter, cols, cols + k, out_c, k, quant, bias, p->output_offset, p->activation,
                         out + (pix - 1) * out_c, out + pix * out_c);
                filled = 0;
            }
        }
        if (filled == 1) {
            mat_mult(filter, cols, cols, out_c, k, quant, bias, p->output_offset, p->activation,
                     out + (pixels - 1) * out_c, NULL);
        }
    }
    return MNN_SUCCESS;
}

mnn_status mnn_conv_s8_dsp(const mnn_context *ctx, const mnn_conv_params *params, const mnn_per_channel_quant *quant,
                           const mnn_dims *input_dims, const int8_t *input, const mnn_dims *filter_dims,
                           const int8_t *filter, const int32_t *bias, const mnn_dims *output_dims, int8_t *output) {
    return conv_im2col(ctx, params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output,
                       expand_reordered, mat_mult_dsp);
}

mnn_status mnn_conv_s8_generic(const mnn_context *ctx, const mnn_conv_params *params,
                               const mnn_per_channel_quant *quant, const mnn_dims *input_dims, const int8_t *input,
                               const mnn_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                               const mnn_dims *output_dims, int8_t *output) {
    return conv_im2col(ctx, params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output,
                       expand_plain, mat_mult_generic);
}
