/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FULLY_CONNECTED, optimised: each input row is expanded once to int16 in SXTB16 order with the
 * input offset added, then two output features per pass: a weight word per feature, split with
 * SXTB16 / SXTB16-ROR-8, against two column words with SMLAD (8 MACs per 4 SMLADs).
 * A nonzero filter offset (asymmetric weights, which TFLite does not produce for int8) takes
 * the reference kernel.
 */
#include "mnn_functions.h"
#include "mnn_support.h"

int32_t mnn_fully_connected_s8_dsp_get_buffer_size(const mnn_dims *filter_dims) {
    return ((filter_dims->c + 1) & ~1) * (int32_t)sizeof(int16_t);
}

static inline int8_t finish(const mnn_fc_params *p, int32_t acc, int32_t multiplier, int32_t shift) {
    acc = mnn_requantize(acc, multiplier, shift) + p->output_offset;
    return (int8_t)mnn_clamp(acc, p->activation.min, p->activation.max);
}

mnn_status mnn_fully_connected_s8_dsp(const mnn_context *ctx, const mnn_fc_params *params,
                                      const mnn_per_channel_quant *quant, int32_t per_channel,
                                      const mnn_dims *input_dims, const int8_t *input, const mnn_dims *filter_dims,
                                      const int8_t *weights, const int32_t *bias, int8_t *output) {
    const int32_t depth = filter_dims->c;
    const int32_t out_features = filter_dims->n;
    if (input_dims->c != depth) {
        return MNN_ARG_ERROR;
    }
    if (params->filter_offset != 0) {
        return mnn_fully_connected_s8_ref(params, quant, per_channel, input_dims, input, filter_dims, weights, bias,
                                          output);
    }
    if (ctx == NULL || ctx->buf == NULL || ctx->size < mnn_fully_connected_s8_dsp_get_buffer_size(filter_dims)) {
        return MNN_ARG_ERROR;
    }
    int16_t *col = (int16_t *)ctx->buf;
    const int32_t groups = depth >> 2;
    const int32_t tail = depth & 3;
    const int32_t offset2 = mnn_pkhbt(params->input_offset, params->input_offset);
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + b * depth;
        int16_t *dst = col;
        for (int32_t g = 0; g < groups; g++) {
            const int32_t word = mnn_read_s8x4(in + 4 * g);
            mnn_write_s16x2(dst, mnn_sadd16(mnn_sxtb16(word), offset2));
            mnn_write_s16x2(dst + 2, mnn_sadd16(mnn_sxtb16_ror8(word), offset2));
            dst += 4;
        }
        for (int32_t i = 0; i < tail; i++) {
            dst[i] = (int16_t)(in[4 * groups + i] + params->input_offset);
        }
        int8_t *out = output + b * out_features;
        int32_t o = 0;
        for (; o + 1 < out_features; o += 2) {
            const int8_t *w0 = weights + o * depth;
            const int8_t *w1 = w0 + depth;
            const int16_t *x = col;
            int32_t s0 = bias ? bias[o] : 0;
            int32_t s1 = bias ? bias[o + 1] : 0;
            for (int32_t g = groups; g > 0; g--) {
                const int32_t wa = mnn_read_s8x4(w0);
                const int32_t wb = mnn_read_s8x4(w1);
                const int32_t x_even = mnn_read_s16x2(x);
                const int32_t x_odd = mnn_read_s16x2(x + 2);
                w0 += 4;
                w1 += 4;
                x += 4;
                s0 = mnn_smlad(mnn_sxtb16(wa), x_even, s0);
                s1 = mnn_smlad(mnn_sxtb16(wb), x_even, s1);
                s0 = mnn_smlad(mnn_sxtb16_ror8(wa), x_odd, s0);
                s1 = mnn_smlad(mnn_sxtb16_ror8(wb), x_odd, s1);
            }
            for (int32_t i = 0; i < tail; i++) {
                s0 += w0[i] * x[i];
                s1 += w1[i] * x[i];
            }
            const int32_t q0 = per_channel ? o : 0;
            const int32_t q1 = per_channel ? o + 1 : 0;
            out[o] = finish(params, s0, quant->multiplier[q0], quant->shift[q0]);
            out[o + 1] = finish(params, s1, quant->multiplier[q1], quant->shift[q1]);
        }
        if (o < out_features) {
            const int8_t *w0 = weights + o * depth;
            const int16_t *x = col;
            int32_t s0 = bias ? bias[o] : 0;
            for (int32_t g = groups; g > 0; g--) {
                const int32_t wa = mnn_read_s8x4(w0);
                w0 += 4;
                s0 = mnn_smlad(mnn_sxtb16(wa), mnn_read_s16x2(x), s0);
                s0 = mnn_smlad(mnn_sxtb16_ror8(wa), mnn_read_s16x2(x + 2), s0);
                x += 4;
            }
            for (int32_t i = 0; i < tail; i++) {
                s0 += w0[i] * x[i];
            }
            const int32_t q0 = per_channel ? o : 0;
            out[o] = finish(params, s0, quant->multiplier[q0], quant->shift[q0]);
        }
    }
    return MNN_SUCCESS;
}

int32_t mnn_fully_connected_s8_get_buffer_size(const mnn_dims *filter_dims) {
#if MNN_HAVE_DSP
    return mnn_fully_connected_s8_dsp_get_buffer_size(filter_dims);
#else
    (void)filter_dims;
    return 0;
#endif
}

mnn_status mnn_fully_connected_s8(const mnn_context *ctx, const mnn_fc_params *params,
                                  const mnn_per_channel_quant *quant, int32_t per_channel,
                                  const mnn_dims *input_dims, const int8_t *input, const mnn_dims *filter_dims,
                                  const int8_t *weights, const int32_t *bias, int8_t *output) {
#if MNN_HAVE_DSP
    return mnn_fully_connected_s8_dsp(ctx, params, quant, per_channel, input_dims, input, filter_dims, weights, bias,
                                      output);
#else
    (void)ctx;
    return mnn_fully_connected_s8_ref(params, quant, per_channel, input_dims, input, filter_dims, weights, bias,
                                      output);
#endif
}
