/* SPDX-License-Identifier: Apache-2.0 */
/* RESHAPE, CONCATENATION and PAD: data movement. The reference kernels move one element at a
 * time in TFLite's order; the optimised ones move runs a word at a time (mnn_copy, mnn_fill:
 * newlib-nano's memcpy, what firmware links, goes byte by byte). */
#include "mnn_functions.h"
#include "mnn_support.h"

void mnn_copy_s8(const int8_t *input, int32_t size, int8_t *output) {
    if (input != output && size > 0) {
        memmove(output, input, (size_t)size);
    }
}

mnn_status mnn_concatenation_s8(int32_t num_inputs, const int8_t *const *inputs, const int32_t *inner_sizes,
                                int32_t outer, int8_t *output) {
    if (num_inputs <= 0 || outer < 0) {
        return MNN_ARG_ERROR;
    }
    int8_t *out = output;
    for (int32_t o = 0; o < outer; o++) {
        for (int32_t i = 0; i < num_inputs; i++) {
            const int32_t inner = inner_sizes[i];
            mnn_copy(out, inputs[i] + o * inner, inner);
            out += inner;
        }
    }
    return MNN_SUCCESS;
}

mnn_status mnn_pad_s8(const mnn_dims *input_dims, const int8_t *input, const int32_t before[4],
                      const int32_t after[4], int8_t pad_value, int8_t *output) {
    const int32_t in[4] = {input_dims->n, input_dims->h, input_dims->w, input_dims->c};
    int32_t out[4];
    for (int d = 0; d < 4; d++) {
        if (before[d] < 0 || after[d] < 0) {
            return MNN_ARG_ERROR;
        }
        out[d] = in[d] + before[d] + after[d];
    }
    const int32_t out_row = out[3];
    int8_t *o = output;
    for (int32_t b = 0; b < out[0]; b++) {
        for (int32_t y = 0; y < out[1]; y++) {
            for (int32_t x = 0; x < out[2]; x++) {
                const int32_t ib = b - before[0], iy = y - before[1], ix = x - before[2];
                if (ib < 0 || ib >= in[0] || iy < 0 || iy >= in[1] || ix < 0 || ix >= in[2]) {
                    mnn_fill(o, pad_value, out_row);
                } else {
                    mnn_fill(o, pad_value, before[3]);
                    mnn_copy(o + before[3], input + ((ib * in[1] + iy) * in[2] + ix) * in[3], in[3]);
                    mnn_fill(o + before[3] + in[3], pad_value, after[3]);
                }
                o += out_row;
            }
        }
    }
    return MNN_SUCCESS;
}

mnn_status mnn_concatenation_s8_ref(int32_t num_inputs, const int8_t *const *inputs, const int32_t *inner_sizes,
                                    int32_t outer, int8_t *output) {
    if (num_inputs <= 0 || outer < 0) {
        return MNN_ARG_ERROR;
    }
    int32_t total = 0;
    for (int32_t i = 0; i < num_inputs; i++) {
        total += inner_sizes[i];
    }
    for (int32_t o = 0; o < outer; o++) {
        int32_t at = 0;
        for (int32_t i = 0; i < num_inputs; i++) {
            for (int32_t j = 0; j < inner_sizes[i]; j++) {
                output[o * total + at + j] = inputs[i][o * inner_sizes[i] + j];
            }
            at += inner_sizes[i];
        }
    }
    return MNN_SUCCESS;
}

mnn_status mnn_pad_s8_ref(const mnn_dims *input_dims, const int8_t *input, const int32_t before[4],
                          const int32_t after[4], int8_t pad_value, int8_t *output) {
    const int32_t in[4] = {input_dims->n, input_dims->h, input_dims->w, input_dims->c};
    int32_t out[4];
    for (int d = 0; d < 4; d++) {
        if (before[d] < 0 || after[d] < 0) {
            return MNN_ARG_ERROR;
        }
        out[d] = in[d] + before[d] + after[d];
    }
    for (int32_t b = 0; b < out[0]; b++) {
        for (int32_t y = 0; y < out[1]; y++) {
            for (int32_t x = 0; x < out[2]; x++) {
                for (int32_t c = 0; c < out[3]; c++) {
                    const int32_t ib = b - before[0], iy = y - before[1], ix = x - before[2], ic = c - before[3];
                    const int32_t inside =
                        ib >= 0 && ib < in[0] && iy >= 0 && iy < in[1] && ix >= 0 && ix < in[2] && ic >= 0 && ic < in[3];
                    output[((b * out[1] + y) * out[2] + x) * out[3] + c] =
                        inside ? input[((ib * in[1] + iy) * in[2] + ix) * in[3] + ic] : pad_value;
                }
            }
        }
    }
    return MNN_SUCCESS;
}
