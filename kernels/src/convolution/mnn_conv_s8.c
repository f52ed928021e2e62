/* SPDX-License-Identifier: Apache-2.0 */
/* CONV_2D dispatch: the variant for the core this library is compiled for. */
#include "mnn_functions.h"
#include "mnn_support.h"

int32_t mnn_conv_s8_get_buffer_size(const mnn_conv_params *params, const mnn_dims *input_dims,
                                    const mnn_dims *filter_dims, const mnn_dims *output_dims) {
    (void)params;
    (void)output_dims;
    if (filter_dims->c != input_dims->c) {
        return 0; /* grouped: the reference kernel */
    }
#if MNN_HAVE_DSP
    return mnn_conv_s8_dsp_get_buffer_size(input_dims, filter_dims);
#else
    return mnn_conv_s8_generic_get_buffer_size(input_dims, filter_dims);
#endif
}

mnn_status mnn_conv_s8(const mnn_context *ctx, const mnn_conv_params *params, const mnn_per_channel_quant *quant,
                       const mnn_dims *input_dims, const int8_t *input, const mnn_dims *filter_dims,
                       const int8_t *filter, const int32_t *bias, const mnn_dims *output_dims, int8_t *output) {
    if (filter_dims->c != input_dims->c) {
        return mnn_conv_s8_ref(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
    }
#if MNN_HAVE_DSP
    return mnn_conv_s8_dsp(ctx, params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
#else
    return mnn_conv_s8_generic(ctx, params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                               output);
#endif
}
