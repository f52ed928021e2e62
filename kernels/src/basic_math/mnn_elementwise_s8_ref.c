/* SPDX-License-Identifier: Apache-2.0 */
/* ADD and MUL references: TFLite's reference_integer_ops add.h and mul.h, with the 4-D
 * broadcast of BroadcastAdd4DSlow / BroadcastMul4DSlow. */
#include "mnn_functions.h"
#include "mnn_support.h"

/* Element strides of an input read at output coordinates: 0 along a broadcast dimension. */
typedef struct {
    int32_t n, h, w, c;
} broadcast_strides;

static int broadcast_strides_for(const mnn_dims *in, const mnn_dims *out, broadcast_strides *s) {
    if ((in->n != out->n && in->n != 1) || (in->h != out->h && in->h != 1) || (in->w != out->w && in->w != 1) ||
        (in->c != out->c && in->c != 1)) {
        return 0;
    }
    s->c = in->c == 1 ? 0 : 1;
    s->w = in->w == 1 ? 0 : in->c;
    s->h = in->h == 1 ? 0 : in->w * in->c;
    s->n = in->n == 1 ? 0 : in->h * in->w * in->c;
    return 1;
}

static int32_t add_one(const mnn_add_params *p, int32_t x, int32_t y) {
    const int32_t shifted1 = mnn_shl_wrap(x + p->input1_offset, p->left_shift);
    const int32_t shifted2 = mnn_shl_wrap(y + p->input2_offset, p->left_shift);
    const int32_t scaled1 = mnn_requantize_ref(shifted1, p->input1_multiplier, p->input1_shift);
    const int32_t scaled2 = mnn_requantize_ref(shifted2, p->input2_multiplier, p->input2_shift);
    const int32_t out = mnn_requantize_ref(scaled1 + scaled2, p->output_multiplier, p->output_shift) + p->output_offset;
    return mnn_clamp(out, p->activation.min, p->activation.max);
}

static int32_t mul_one(const mnn_mul_params *p, int32_t x, int32_t y) {
    const int32_t product = (x + p->input1_offset) * (y + p->input2_offset);
    const int32_t out = mnn_requantize_ref(product, p->output_multiplier, p->output_shift) + p->output_offset;
    return mnn_clamp(out, p->activation.min, p->activation.max);
}

mnn_status mnn_add_s8_ref(const mnn_add_params *params, const mnn_dims *input1_dims, const int8_t *input1,
                          const mnn_dims *input2_dims, const int8_t *input2, const mnn_dims *output_dims,
                          int8_t *output) {
    broadcast_strides s1, s2;
    if (!broadcast_strides_for(input1_dims, output_dims, &s1) || !broadcast_strides_for(input2_dims, output_dims, &s2)) {
        return MNN_ARG_ERROR;
    }
    int8_t *out = output;
    for (int32_t b = 0; b < output_dims->n; b++) {
        for (int32_t y = 0; y < output_dims->h; y++) {
            for (int32_t x = 0; x < output_dims->w; x++) {
                for (int32_t c = 0; c < output_dims->c; c++) {
                    const int32_t a = input1[b * s1.n + y * s1.h + x * s1.w + c * s1.c];
                    const int32_t d = input2[b * s2.n + y * s2.h + x * s2.w + c * s2.c];
                    *out++ = (int8_t)add_one(params, a, d);
                }
            }
        }
    }
    return MNN_SUCCESS;
}

mnn_status mnn_mul_s8_ref(const mnn_mul_params *params, const mnn_dims *input1_dims, const int8_t *input1,
                          const mnn_dims *input2_dims, const int8_t *input2, const mnn_dims *output_dims,
                          int8_t *output) {
    broadcast_strides s1, s2;
    if (!broadcast_strides_for(input1_dims, output_dims, &s1) || !broadcast_strides_for(input2_dims, output_dims, &s2)) {
        return MNN_ARG_ERROR;
    }
    int8_t *out = output;
    for (int32_t b = 0; b < output_dims->n; b++) {
        for (int32_t y = 0; y < output_dims->h; y++) {
            for (int32_t x = 0; x < output_dims->w; x++) {
                for (int32_t c = 0; c < output_dims->c; c++) {
                    const int32_t a = input1[b * s1.n + y * s1.h + x * s1.w + c * s1.c];
                    const int32_t d = input2[b * s2.n + y * s2.h + x * s2.w + c * s2.c];
                    *out++ = (int8_t)mul_one(params, a, d);
                }
            }
        }
    }
    return MNN_SUCCESS;
}
