/* SPDX-License-Identifier: Apache-2.0 */
/* ADD and MUL, optimised for operands of the same shape (the common case, e.g. ResNet's
 * residual adds): one flat loop instead of 4-D index arithmetic per element. Broadcasts take
 * the reference kernel. */
#include "mnn_functions.h"
#include "mnn_support.h"

static int same_dims(const mnn_dims *a, const mnn_dims *b) {
    return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c;
}

mnn_status mnn_add_s8(const mnn_add_params *params, const mnn_dims *input1_dims, const int8_t *input1,
                      const mnn_dims *input2_dims, const int8_t *input2, const mnn_dims *output_dims, int8_t *output) {
    if (!same_dims(input1_dims, output_dims) || !same_dims(input2_dims, output_dims)) {
        return mnn_add_s8_ref(params, input1_dims, input1, input2_dims, input2, output_dims, output);
    }
    const mnn_add_params p = *params;
    const int32_t size = output_dims->n * output_dims->h * output_dims->w * output_dims->c;
    for (int32_t i = 0; i < size; i++) {
        const int32_t a = mnn_requantize(mnn_shl_wrap(input1[i] + p.input1_offset, p.left_shift), p.input1_multiplier,
                                         p.input1_shift);
        const int32_t b = mnn_requantize(mnn_shl_wrap(input2[i] + p.input2_offset, p.left_shift), p.input2_multiplier,
                                         p.input2_shift);
        const int32_t sum = mnn_requantize(a + b, p.output_multiplier, p.output_shift) + p.output_offset;
        output[i] = (int8_t)mnn_clamp(sum, p.activation.min, p.activation.max);
    }
    return MNN_SUCCESS;
}

mnn_status mnn_mul_s8(const mnn_mul_params *params, const mnn_dims *input1_dims, const int8_t *input1,
                      const mnn_dims *input2_dims, const int8_t *input2, const mnn_dims *output_dims, int8_t *output) {
    if (!same_dims(input1_dims, output_dims) || !same_dims(input2_dims, output_dims)) {
        return mnn_mul_s8_ref(params, input1_dims, input1, input2_dims, input2, output_dims, output);
    }
    const mnn_mul_params p = *params;
    const int32_t size = output_dims->n * output_dims->h * output_dims->w * output_dims->c;
    for (int32_t i = 0; i < size; i++) {
        const int32_t product = (input1[i] + p.input1_offset) * (input2[i] + p.input2_offset);
        const int32_t out = mnn_requantize(product, p.output_multiplier, p.output_shift) + p.output_offset;
        output[i] = (int8_t)mnn_clamp(out, p.activation.min, p.activation.max);
    }
    return MNN_SUCCESS;
}
