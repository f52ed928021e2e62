/* SPDX-License-Identifier: Apache-2.0 */
/* LOGISTIC and TANH, optimised: an int8 input has 256 possible values, so for tensors larger
 * than that the reference function is evaluated once per value into a table on the stack and
 * the tensor is mapped through it. The table comes from the reference itself, so it is exact. */
#include "mnn_functions.h"
#include "mnn_support.h"

typedef mnn_status (*activation_fn)(const mnn_activation_fn_params *, int32_t, const int8_t *, int8_t *);

static mnn_status through_table(activation_fn reference, const mnn_activation_fn_params *params, int32_t size,
                                const int8_t *input, int8_t *output) {
    if (size <= 256) {
        return reference(params, size, input, output);
    }
    int8_t values[256];
    int8_t table[256];
    for (int32_t i = 0; i < 256; i++) {
        values[i] = (int8_t)(i - 128);
    }
    reference(params, 256, values, table);
    for (int32_t i = 0; i < size; i++) {
        output[i] = table[input[i] + 128];
    }
    return MNN_SUCCESS;
}

mnn_status mnn_logistic_s8(const mnn_activation_fn_params *params, int32_t size, const int8_t *input,
                           int8_t *output) {
    return through_table(mnn_logistic_s8_ref, params, size, input, output);
}

mnn_status mnn_tanh_s8(const mnn_activation_fn_params *params, int32_t size, const int8_t *input, int8_t *output) {
    return through_table(mnn_tanh_s8_ref, params, size, input, output);
}
