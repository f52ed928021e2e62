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

/* Per channel: the requantisation, the folded sum and one accumulator of the pixel being
 * computed; then the
 * weights of whole groups of four channels expanded once to SXTB16 halfword pairs (two words
 * per tap and group), so the per-pixel loop loads them ready to multiply. */
int32_t mnn_depthwise_conv_s8_opt_get_buffer_size(const mnn_dims *filter_dims) {
    const int32_t taps = filter_dims->h * filter_dims->w;
    return filter_dims->c * (int32_t)sizeof(mnn_requant_channel) + 2 * filter_dims->c * (int32_t)sizeof(int32_t) +
           taps * (filter_dims->c & ~3) * 2;
}

/* Width of the stripe: every input column an output row's windows touch, padding included. */
static int32_t stripe_width(const mnn_dw_conv_params *p, const mnn_dims *fd, const mnn_dims *od) {
    return (od->w - 1) * p->stride_w + (fd->w - 1) * p->dilation_w + 1;
}

int32_t mnn_depthwise_conv_s8_opt_get_stripe_size(const mnn_dw_conv_params *params, const mnn_dims *input_dims,
                                                  const mnn_dims *filter_dims, const mnn_dims *output_dims) {
    return (filter_dims->h * stripe_width(params, filter_dims, output_dims) * input_dims->c + 3) & ~3;
}

/* The taps of one window inside the input: ky in [ky0, ky1), kx in [kx0, kx1). */
typedef struct {
    int32_t ky0, ky1, kx0, kx1;
} tap_range;

/* First tap index k >= 0 with origin + k * dilation >= 0, and the end of those < size. */
static int32_t first_tap(int32_t origin, int32_t dilation) {
    return origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
}

static int32_t end_tap(int32_t origin, int32_t dilation, int32_t size, int32_t taps) {
    const int32_t end = origin >= size ? 0 : (size - origin + dilation - 1) / dilation;
    return mnn_min(end, taps);
}

static inline int8_t finish(const mnn_dw_conv_params *p, const mnn_per_channel_quant *quant, int32_t c, int32_t acc) {
    acc = mnn_requantize(acc, quant->multiplier[c], quant->shift[c]) + p->output_offset;
    return (int8_t)mnn_clamp(acc, p->activation.min, p->activation.max);
}

/* Window walk for four channels: rows x cols taps, input and weight steps between taps. */
typedef struct {
    int32_t rows, cols;
    int32_t x_col, x_row; /* input step to the next tap in a row, and from a row's end to the next */
    int32_t w_row;        /* expanded-weight step (words) from a row's end to the next */
    int32_t w_col;        /* expanded-weight step (words) to the next tap */
} walk;

/* a[0..3] = init[0..3] + sum over the taps of x * w for four adjacent channels: the input word split with
 * SXTB16 (channels 0 and 2 from the even bytes, 1 and 3 from the odd), the weights already
 * split (w[0] even, w[1] odd), multiplied with SMLABB/SMLATT. */
static void accumulate4(const int8_t *x, const int32_t *w, const walk *k, const int32_t *init, int32_t *a) {
    int32_t a0 = init[0], a1 = init[1], a2 = init[2], a3 = init[3];
    for (int32_t r = k->rows; r > 0; r--) {
        for (int32_t c = k->cols; c > 0; c--) {
            const int32_t xv = mnn_read_s8x4(x);
            const int32_t we = w[0], wo = w[1];
            x += k->x_col;
            w += k->w_col;
            const int32_t xe = mnn_sxtb16(xv);
            a0 = mnn_smlabb(xe, we, a0);
            a2 = mnn_smlatt(xe, we, a2);
            const int32_t xo = mnn_sxtb16_ror8(xv);
            a1 = mnn_smlabb(xo, wo, a1);
            a3 = mnn_smlatt(xo, wo, a3);
        }
        x += k->x_row;
        w += k->w_row;
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

/* The same with the input offset added to each input value (clipped windows). */
static void accumulate4_offset(const int8_t *x, const int32_t *w, const walk *k, int32_t offset, const int32_t *init, int32_t *a) {
    const int32_t offset2 = mnn_pkhbt(offset, offset);
    int32_t a0 = init[0], a1 = init[1], a2 = init[2], a3 = init[3];
    for (int32_t r = k->rows; r > 0; r--) {
        for (int32_t c = k->cols; c > 0; c--) {
            const int32_t xv = mnn_read_s8x4(x);
            const int32_t we = w[0], wo = w[1];
            x += k->x_col;
            w += k->w_col;
            const int32_t xe = mnn_sadd16(mnn_sxtb16(xv), offset2);
            a0 = mnn_smlabb(xe, we, a0);
            a2 = mnn_smlatt(xe, we, a2);
            const int32_t xo = mnn_sadd16(mnn_sxtb16_ror8(xv), offset2);
            a1 = mnn_smlabb(xo, wo, a1);
            a3 = mnn_smlatt(xo, wo, a3);
        }
        x += k->x_row;
        w += k->w_row;
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

/* The 3x3 fast path: a whole window, the nine taps unrolled, each group's expanded weights
 * read at fixed offsets. */
static void accumulate4_3x3(const int8_t *x, int32_t row_step, int32_t col_step, const int32_t *w, const int32_t *init, int32_t *a) {
    int32_t a0 = init[0], a1 = init[1], a2 = init[2], a3 = init[3];
#pragma GCC unroll 3
    for (int32_t ky = 0; ky < 3; ky++) {
        const int8_t *row = x + ky * row_step;
        const int32_t *wr = w + 6 * ky;
#pragma GCC unroll 3
        for (int32_t kx = 0; kx < 3; kx++) {
            const int32_t xv = mnn_read_s8x4(row + kx * col_step);
            const int32_t xe = mnn_sxtb16(xv);
            const int32_t xo = mnn_sxtb16_ror8(xv);
            a0 = mnn_smlabb(xe, wr[2 * kx], a0);
            a2 = mnn_smlatt(xe, wr[2 * kx], a2);
            a1 = mnn_smlabb(xo, wr[2 * kx + 1], a1);
            a3 = mnn_smlatt(xo, wr[2 * kx + 1], a3);
        }
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

/*
 * One output pixel over the taps in `r`. Accumulators start from start[c] (the folded sums for
 * a whole window, or the bias for a clipped one, or 0 without bias) and, when offset is
 * nonzero, the input offset is added to each input value (clipped windows, where the folded
 * sum does not apply).
 */
static void pixel(const mnn_dw_conv_params *p, const mnn_dims *in,
                  const int8_t *input, const mnn_dims *fd, const int8_t *filter, const int32_t *wexp,
                  const int32_t *start, int32_t offset, int32_t in_y0, int32_t in_x0, tap_range r, int32_t *acc,
                  const mnn_requantizer *rq, int8_t *out) {
    const int32_t ch = in->c;
    walk k;
    k.rows = r.ky1 - r.ky0;
    k.cols = r.kx1 - r.kx0;
    k.x_col = p->dilation_w * ch;
    k.x_row = p->dilation_h * in->w * ch - k.cols * k.x_col;
    const int32_t taps = fd->h * fd->w;
    k.w_col = 2;
    k.w_row = (fd->w - k.cols) * 2;
    const int8_t *base = input + ((in_y0 + r.ky0 * p->dilation_h) * in->w + in_x0 + r.kx0 * p->dilation_w) * ch;
    const int32_t *wexp_base = wexp + (r.ky0 * fd->w + r.kx0) * 2;
    const int32_t row_step = p->dilation_h * in->w * ch;
    const int32_t whole_3x3 = fd->h == 3 && fd->w == 3 && k.rows == 3 && k.cols == 3 && !offset;
    const int8_t *wbase = filter + (r.ky0 * fd->w + r.kx0) * ch;
    const int32_t w_row_tail = (fd->w - k.cols) * ch;
    int32_t c = 0;
    if (whole_3x3 && start && rq->prepared && rq->act.min == INT8_MIN && rq->act.max == INT8_MAX) {
        /* The common case, fused: each group's four sums requantised straight from registers. */
        const mnn_requant_channel *prepared = rq->prepared;
        const int32_t out_offset = rq->out_offset;
        for (; c + 3 < ch; c += 4) {
            int32_t a[4];
            accumulate4_3x3(base + c, row_step, k.x_col, wexp_base + (c >> 2) * taps * 2, start + c, a);
            out[c] = (int8_t)mnn_ssat8(mnn_requantize_prepared(a[0], &prepared[c]) + out_offset);
            out[c + 1] = (int8_t)mnn_ssat8(mnn_requantize_prepared(a[1], &prepared[c + 1]) + out_offset);
            out[c + 2] = (int8_t)mnn_ssat8(mnn_requantize_prepared(a[2], &prepared[c + 2]) + out_offset);
            out[c + 3] = (int8_t)mnn_ssat8(mnn_requantize_prepared(a[3], &prepared[c + 3]) + out_offset);
        }
    }
    const int32_t first = c;
    for (; c + 3 < ch; c += 4) {
        static const int32_t zeros[4] = {0, 0, 0, 0};
        const int32_t *init = start ? start + c : zeros;
        const int32_t *w = wexp_base + (c >> 2) * taps * 2;
        if (whole_3x3) {
            accumulate4_3x3(base + c, row_step, k.x_col, w, init, acc + c);
        } else if (offset) {
            accumulate4_offset(base + c, w, &k, offset, init, acc + c);
        } else {
            accumulate4(base + c, w, &k, init, acc + c);
        }
    }
    for (; c < ch; c++) {
        int32_t sum = start ? start[c] : 0;
        const int8_t *x = base + c;
        const int8_t *w = wbase + c;
        for (int32_t ky = 0; ky < k.rows; ky++) {
            for (int32_t kx = 0; kx < k.cols; kx++) {
                sum += (*x + offset) * *w;
                x += k.x_col;
                w += ch;
            }
            x += k.x_row;
            w += w_row_tail;
        }
        acc[c] = sum;
    }
    mnn_requantize_row_from(rq, first, acc + first, ch - first, out + first);
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
    mnn_requant_channel *table = (mnn_requant_channel *)ctx->buf;
    mnn_requantizer rq;
    mnn_requantizer_init(&rq, quant, ch, params->output_offset, params->activation, table);
    int32_t *sums = (int32_t *)(void *)(table + ch);
    int32_t *acc = sums + ch;
    int32_t *wexp = acc + ch;
    const int32_t groups = ch >> 2;
    const int32_t taps = filter_dims->h * filter_dims->w;
    for (int32_t c = 0; c < ch; c++) {
        int32_t s = 0;
        for (int32_t t = 0; t < taps; t++) {
            s += filter[t * ch + c];
        }
        sums[c] = (bias ? bias[c] : 0) + s * params->input_offset;
    }
    /* Group-major: a group's taps are contiguous, so a 3x3 window reads them at fixed offsets. */
    for (int32_t g = 0; g < groups; g++) {
        for (int32_t t = 0; t < taps; t++) {
            const int32_t word = mnn_read_s8x4(filter + t * ch + 4 * g);
            wexp[(g * taps + t) * 2] = mnn_sxtb16(word);
            wexp[(g * taps + t) * 2 + 1] = mnn_sxtb16_ror8(word);
        }
    }
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t min_size = mnn_depthwise_conv_s8_opt_get_buffer_size(filter_dims);
    if (ctx->size >= min_size + mnn_depthwise_conv_s8_opt_get_stripe_size(params, input_dims, filter_dims, output_dims)) {
        /*
         * Stripes: for each output row, the k_h input rows its windows read (rows outside the
         * input, and the columns of the padding, filled with the input zero point) are copied
         * into scratch. Every window is then whole, so every pixel takes the folded-sum path
         * (the padding's zero point cancels its share of the folded sum), and the 3x3 one
         * unrolled.
         */
        int8_t *stripe = (int8_t *)ctx->buf + min_size;
        const int32_t sw = stripe_width(params, filter_dims, output_dims);
        const int8_t pad_value = (int8_t)(-params->input_offset);
        mnn_dw_conv_params sp = *params;
        sp.dilation_h = 1; /* the stripe holds the dilated rows one after another */
        const mnn_dims stripe_dims = {1, k_h, sw, ch};
        tap_range whole = {0, k_h, 0, k_w};
        /* Stripe columns [x0, x1) hold input columns [0, input w); the rest is padding. */
        const int32_t x0 = mnn_min(sw, params->pad_w);
        const int32_t x1 = mnn_max(x0, mnn_min(sw, params->pad_w + input_dims->w));
        for (int32_t b = 0; b < input_dims->n; b++) {
            const int8_t *in_b = input + b * input_dims->h * input_dims->w * ch;
            int8_t *out = output + b * output_dims->h * output_dims->w * ch;
            for (int32_t oy = 0; oy < output_dims->h; oy++) {
                const int32_t in_y0 = oy * params->stride_h - params->pad_h;
                for (int32_t ky = 0; ky < k_h; ky++) {
                    const int32_t iy = in_y0 + ky * params->dilation_h;
                    int8_t *dst = stripe + ky * sw * ch;
                    if (iy < 0 || iy >= input_dims->h || x1 == x0) {
                        mnn_fill(dst, pad_value, sw * ch);
                        continue;
                    }
                    const int8_t *src = in_b + (iy * input_dims->w + (x0 - params->pad_w)) * ch;
                    mnn_fill(dst, pad_value, x0 * ch);
                    mnn_copy(dst + x0 * ch, src, (x1 - x0) * ch);
                    mnn_fill(dst + x1 * ch, pad_value, (sw - x1) * ch);
                }
                for (int32_t ox = 0; ox < output_dims->w; ox++) {
                    pixel(&sp, &stripe_dims, stripe, filter_dims, filter, wexp, sums, 0, 0, ox * params->stride_w,
                          whole, acc, &rq, out);
                    out += ch;
                }
            }
        }
        return MNN_SUCCESS;
    }
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * input_dims->h * input_dims->w * ch;
        int8_t *out = output + b * output_dims->h * output_dims->w * ch;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t in_y0 = oy * params->stride_h - params->pad_h;
            tap_range r;
            r.ky0 = first_tap(in_y0, params->dilation_h);
            r.ky1 = end_tap(in_y0, params->dilation_h, input_dims->h, k_h);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t in_x0 = ox * params->stride_w - params->pad_w;
                r.kx0 = first_tap(in_x0, params->dilation_w);
                r.kx1 = end_tap(in_x0, params->dilation_w, input_dims->w, k_w);
                const int32_t whole = r.ky0 == 0 && r.ky1 == k_h && r.kx0 == 0 && r.kx1 == k_w;
                if (whole) {
                    pixel(params, input_dims, in_b, filter_dims, filter, wexp, sums, 0, in_y0, in_x0, r, acc, &rq,
                          out);
                } else if (r.ky0 >= r.ky1 || r.kx0 >= r.kx1) {
                    /* No tap inside the input: the bias alone. */
                    for (int32_t c = 0; c < ch; c++) {
                        out[c] = finish(params, quant, c, bias ? bias[c] : 0);
                    }
                } else {
                    pixel(params, input_dims, in_b, filter_dims, filter, wexp, bias, params->input_offset,
                          in_y0, in_x0, r, acc, &rq, out);
                }
                out += ch;
            }
        }
    }
    return MNN_SUCCESS;
}

int32_t mnn_depthwise_conv_s8_get_buffer_size(const mnn_dw_conv_params *params, const mnn_dims *input_dims,
                                              const mnn_dims *filter_dims, const mnn_dims *output_dims) {
    if (params->depth_multiplier != 1) {
        return 0;
    }
    const int32_t min = mnn_depthwise_conv_s8_opt_get_buffer_size(filter_dims);
    const int32_t stripe = mnn_depthwise_conv_s8_opt_get_stripe_size(params, input_dims, filter_dims, output_dims);
    return stripe <= MNN_DW_STRIPE_MAX ? min + stripe : min;
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
