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
 * so that it becomes 0 once the offset is added). Without horizontal dilation a window row is
 * one contiguous run of the input: copied at once, its clipped ends filled. */
static void gather_column_s8(const mnn_conv_params *p, const mnn_dims *in, const int8_t *input, int32_t k_h,
                             int32_t k_w, int32_t oy, int32_t ox, int8_t *col) {
    const int32_t in_c = in->c;
    const int8_t pad_value = (int8_t)(-p->input_offset);
    const int32_t in_y0 = oy * p->stride_h - p->pad_h;
    const int32_t in_x0 = ox * p->stride_w - p->pad_w;
    const int32_t row_bytes = k_w * in_c;
    /* Taps [kx0, kx1) of a row are inside the input (dilation 1). */
    const int32_t kx0 = mnn_min(k_w, mnn_max(0, -in_x0));
    const int32_t kx1 = mnn_max(kx0, mnn_min(k_w, in->w - in_x0));
    for (int32_t ky = 0; ky < k_h; ky++) {
        const int32_t iy = in_y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= in->h) {
            mnn_fill(col, pad_value, row_bytes);
        } else if (p->dilation_w == 1) {
            const int8_t *row = input + (iy * in->w + in_x0) * in_c;
            mnn_fill(col, pad_value, kx0 * in_c);
            mnn_copy(col + kx0 * in_c, row + kx0 * in_c, (kx1 - kx0) * in_c);
            mnn_fill(col + kx1 * in_c, pad_value, (k_w - kx1) * in_c);
        } else {
            for (int32_t kx = 0; kx < k_w; kx++) {
                const int32_t ix = in_x0 + kx * p->dilation_w;
                if (ix >= 0 && ix < in->w) {
                    mnn_copy(col + kx * in_c, input + (iy * in->w + ix) * in_c, in_c);
                } else {
                    mnn_fill(col + kx * in_c, pad_value, in_c);
                }
            }
        }
        col += row_bytes;
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

/* int8 -> int16 with the offset added, two pixels interleaved for the DSP matrix multiply:
 * for each group of 4 values, the words a(0,2) b(0,2) a(1,3) b(1,3), where a(0,2) holds pixel
 * a's values 0 and 2 as halfwords (the SXTB16 order); then the k % 4 tail as halfword pairs
 * (a_i, b_i). One pointer then walks both columns. */
static void expand_pair(const int8_t *a, const int8_t *b, int16_t *dst, int32_t k, int32_t offset) {
    const int32_t offset2 = mnn_pkhbt(offset, offset);
    for (int32_t g = k >> 2; g > 0; g--) {
        const int32_t wa = mnn_read_s8x4(a);
        const int32_t wb = mnn_read_s8x4(b);
        a += 4;
        b += 4;
        mnn_write_s16x2(dst, mnn_sadd16(mnn_sxtb16(wa), offset2));
        mnn_write_s16x2(dst + 2, mnn_sadd16(mnn_sxtb16(wb), offset2));
        mnn_write_s16x2(dst + 4, mnn_sadd16(mnn_sxtb16_ror8(wa), offset2));
        mnn_write_s16x2(dst + 6, mnn_sadd16(mnn_sxtb16_ror8(wb), offset2));
        dst += 8;
    }
    for (int32_t i = 0; i < (k & 3); i++) {
        dst[2 * i] = (int16_t)(a[i] + offset);
        dst[2 * i + 1] = (int16_t)(b[i] + offset);
    }
}

/* out0[c] and out1[c] for every output channel c from an interleaved column pair (out1 may be
 * NULL when the second pixel is a duplicate): two channels per pass, 16 MACs per 4 weight
 * bytes of each channel, 8 SMLADs, 4 SXTB16s and 6 loads. */
/* out0[c] (pixel a) and out1[c] (pixel b) for every output channel. When the requantizer is
 * prepared and the activation is the full int8 range, each pair of channels is requantised
 * straight from registers (fused); otherwise the sums go to acc0/acc1 and the caller
 * requantises the rows. Returns whether it fused. */
static int mat_mult_dsp(const int8_t *weights, const int16_t *cols, int32_t out_c, int32_t k, const int32_t *bias,
                        const mnn_requantizer *rq, int32_t *acc0, int32_t *acc1, int8_t *out0, int8_t *out1) {
    const int fused = rq->prepared != NULL && rq->act.min == INT8_MIN && rq->act.max == INT8_MAX;
    const mnn_requant_channel *prepared = rq->prepared;
    const int32_t out_offset = rq->out_offset;
    const int32_t groups = k >> 2;
    const int32_t tail = k & 3;
    const int16_t *tail_cols = cols + 8 * groups;
    /* Pointers advance instead of being recomputed, and the tail taps advance them too, so
     * the next pair's first row starts where this pair's second row ended: few values live
     * across the multiply-accumulate loop, which needs thirteen registers. */
    static const int32_t no_bias[2] = {0, 0};
    const int32_t *b = bias ? bias : no_bias;
    const int32_t b_step = bias ? 2 : 0;
    const int8_t *w0 = weights;
    int32_t *a0 = acc0, *a1 = acc1;
    for (int32_t pairs = out_c >> 1; pairs > 0; pairs--) {
        const int8_t *w1 = w0 + k;
        const int16_t *x = cols;
        int32_t s[4];
        s[0] = s[1] = b[0];
        s[2] = s[3] = b[1];
        b += b_step;
        mnn_mac_2x2(&w0, &w1, &x, tail_cols, s);
        int32_t s00 = s[0], s01 = s[1], s10 = s[2], s11 = s[3];
        for (int32_t i = 0; i < tail; i++) {
            const int32_t wa = *w0++, wb = *w1++;
            s00 += wa * x[2 * i];
            s01 += wa * x[2 * i + 1];
            s10 += wb * x[2 * i];
            s11 += wb * x[2 * i + 1];
        }
        if (fused) {
            const int32_t c = (int32_t)(a0 - acc0);
            out0[c] = (int8_t)mnn_ssat8(mnn_requantize_prepared(s00, &prepared[c]) + out_offset);
            out0[c + 1] = (int8_t)mnn_ssat8(mnn_requantize_prepared(s10, &prepared[c + 1]) + out_offset);
            out1[c] = (int8_t)mnn_ssat8(mnn_requantize_prepared(s01, &prepared[c]) + out_offset);
            out1[c + 1] = (int8_t)mnn_ssat8(mnn_requantize_prepared(s11, &prepared[c + 1]) + out_offset);
        } else {
            a0[0] = s00;
            a0[1] = s10;
            a1[0] = s01;
            a1[1] = s11;
        }
        a0 += 2;
        a1 += 2;
        w0 = w1;
    }
    const int32_t c = out_c & ~1;
    if (c < out_c) {
        /* w0 is at channel c's row: where the last pair's second row ended. */
        const int16_t *x = cols;
        int32_t s0 = bias ? bias[c] : 0;
        int32_t s1 = s0;
        while (x < tail_cols) {
            const int32_t w = mnn_read_s8x4(w0);
            w0 += 4;
            s0 = mnn_smlad(mnn_sxtb16(w), mnn_read_s16x2(x), s0);
            s1 = mnn_smlad(mnn_sxtb16(w), mnn_read_s16x2(x + 2), s1);
            s0 = mnn_smlad(mnn_sxtb16_ror8(w), mnn_read_s16x2(x + 4), s0);
            s1 = mnn_smlad(mnn_sxtb16_ror8(w), mnn_read_s16x2(x + 6), s1);
            x += 8;
        }
        for (int32_t i = 0; i < tail; i++) {
            s0 += w0[i] * x[2 * i];
            s1 += w0[i] * x[2 * i + 1];
        }
        if (fused) {
            out0[c] = (int8_t)mnn_ssat8(mnn_requantize_prepared(s0, &prepared[c]) + out_offset);
            out1[c] = (int8_t)mnn_ssat8(mnn_requantize_prepared(s1, &prepared[c]) + out_offset);
        } else {
            acc0[c] = s0;
            acc1[c] = s1;
        }
    }
    return fused;
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

static int32_t column_len(const mnn_dims *input_dims, const mnn_dims *filter_dims) {
    return filter_dims->h * filter_dims->w * input_dims->c;
}

/* The requantisation table, two rows of int32 accumulators, two int16 columns, then two int8
 * gather columns (each 4-byte aligned). */
static int32_t buffer_size(const mnn_dims *input_dims, const mnn_dims *filter_dims) {
    const int32_t k = column_len(input_dims, filter_dims);
    return filter_dims->n * (int32_t)sizeof(mnn_requant_channel) + 2 * filter_dims->n * (int32_t)sizeof(int32_t) +
           2 * k * (int32_t)sizeof(int16_t) + 2 * ((k + 3) & ~3);
}

int32_t mnn_conv_s8_dsp_get_buffer_size(const mnn_dims *input_dims, const mnn_dims *filter_dims) {
    return buffer_size(input_dims, filter_dims);
}

int32_t mnn_conv_s8_generic_get_buffer_size(const mnn_dims *input_dims, const mnn_dims *filter_dims) {
    return buffer_size(input_dims, filter_dims);
}

static int check_args(const mnn_context *ctx, const mnn_dims *in, const mnn_dims *fd, const mnn_dims *od) {
    return fd->c == in->c && fd->n == od->c && od->n == in->n && ctx != NULL && ctx->buf != NULL &&
           ctx->size >= buffer_size(in, fd);
}

/* A 1x1 convolution with stride 1 and no padding reads its columns straight from the input. */
static int32_t is_direct(const mnn_conv_params *p, const mnn_dims *in, const mnn_dims *fd, const mnn_dims *od) {
    return fd->h == 1 && fd->w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 && p->pad_w == 0 &&
           od->h == in->h && od->w == in->w;
}

/* The receptive field of output pixel `pix` as int8: the input itself when direct. */
static const int8_t *column_s8(const mnn_conv_params *p, const mnn_dims *in, const int8_t *in_b, const mnn_dims *fd,
                               const mnn_dims *od, int32_t direct, int32_t pix, int8_t *gather) {
    if (direct) {
        return in_b + pix * in->c;
    }
    gather_column_s8(p, in, in_b, fd->h, fd->w, pix / od->w, pix % od->w, gather);
    return gather;
}

mnn_status mnn_conv_s8_dsp(const mnn_context *ctx, const mnn_conv_params *params, const mnn_per_channel_quant *quant,
                           const mnn_dims *input_dims, const int8_t *input, const mnn_dims *filter_dims,
                           const int8_t *filter, const int32_t *bias, const mnn_dims *output_dims, int8_t *output) {
    const mnn_dims *in = input_dims, *fd = filter_dims, *od = output_dims;
    if (!check_args(ctx, in, fd, od)) {
        return MNN_ARG_ERROR;
    }
    const int32_t k = column_len(in, fd);
    mnn_requant_channel *table = (mnn_requant_channel *)ctx->buf;
    mnn_requantizer rq;
    mnn_requantizer_init(&rq, quant, fd->n, params->output_offset, params->activation, table);
    int32_t *acc0 = (int32_t *)(void *)(table + fd->n);
    int32_t *acc1 = acc0 + fd->n;
    int16_t *cols = (int16_t *)(acc1 + fd->n);
    int8_t *gather_a = (int8_t *)(cols + 2 * k);
    int8_t *gather_b = gather_a + ((k + 3) & ~3);
    const int32_t direct = is_direct(params, in, fd, od);
    const int32_t pixels = od->h * od->w;
    const int32_t out_c = od->c;
    for (int32_t b = 0; b < in->n; b++) {
        const int8_t *in_b = input + b * in->h * in->w * in->c;
        int8_t *out = output + b * pixels * out_c;
        int32_t pix = 0;
        for (; pix + 1 < pixels; pix += 2) {
            const int8_t *a = column_s8(params, in, in_b, fd, od, direct, pix, gather_a);
            const int8_t *c = column_s8(params, in, in_b, fd, od, direct, pix + 1, gather_b);
            expand_pair(a, c, cols, k, params->input_offset);
            int8_t *out_a = out + pix * out_c;
            int8_t *out_b = out_a + out_c;
            if (!mat_mult_dsp(filter, cols, out_c, k, bias, &rq, acc0, acc1, out_a, out_b)) {
                mnn_requantize_row(&rq, acc0, out_c, out_a);
                mnn_requantize_row(&rq, acc1, out_c, out_b);
            }
        }
        if (pix < pixels) {
            const int8_t *a = column_s8(params, in, in_b, fd, od, direct, pix, gather_a);
            expand_pair(a, a, cols, k, params->input_offset);
            /* The second pixel is a copy of the first: its outputs go to scratch. */
            int8_t *out_a = out + pix * out_c;
            if (!mat_mult_dsp(filter, cols, out_c, k, bias, &rq, acc0, acc1, out_a, (int8_t *)(void *)acc1)) {
                mnn_requantize_row(&rq, acc0, out_c, out_a);
            }
        }
    }
    return MNN_SUCCESS;
}

mnn_status mnn_conv_s8_generic(const mnn_context *ctx, const mnn_conv_params *params,
                               const mnn_per_channel_quant *quant, const mnn_dims *input_dims, const int8_t *input,
                               const mnn_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                               const mnn_dims *output_dims, int8_t *output) {
    const mnn_dims *in = input_dims, *fd = filter_dims, *od = output_dims;
    if (!check_args(ctx, in, fd, od)) {
        return MNN_ARG_ERROR;
    }
    const int32_t k = column_len(in, fd);
    int16_t *cols = (int16_t *)(void *)((int32_t *)(void *)((mnn_requant_channel *)ctx->buf + fd->n) + 2 * fd->n);
    int8_t *gather = (int8_t *)(cols + 2 * k);
    const int32_t direct = is_direct(params, in, fd, od);
    const int32_t pixels = od->h * od->w;
    const int32_t out_c = od->c;
    for (int32_t b = 0; b < in->n; b++) {
        const int8_t *in_b = input + b * in->h * in->w * in->c;
        int8_t *out = output + b * pixels * out_c;
        int32_t pix = 0;
        for (; pix + 1 < pixels; pix += 2) {
            expand_plain(column_s8(params, in, in_b, fd, od, direct, pix, gather), cols, k, params->input_offset);
            expand_plain(column_s8(params, in, in_b, fd, od, direct, pix + 1, gather), cols + k, k,
                         params->input_offset);
            mat_mult_generic(filter, cols, cols + k, out_c, k, quant, bias, params->output_offset,
                             params->activation, out + pix * out_c, out + (pix + 1) * out_c);
        }
        if (pix < pixels) {
            expand_plain(column_s8(params, in, in_b, fd, od, direct, pix, gather), cols, k, params->input_offset);
            mat_mult_generic(filter, cols, cols, out_c, k, quant, bias, params->output_offset, params->activation,
                             out + pix * out_c, NULL);
        }
    }
    return MNN_SUCCESS;
}
