/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mnn: the mcusim int8 neural-network kernel library.
 *
 * Every operator has a reference kernel (suffix _ref: plain loops, the bit-exact oracle) and
 * a dispatching entry point (no suffix) that picks the fastest variant for the core it is
 * compiled for: the DSP-extension variant (_dsp) on Cortex-M4/M7/M33, a portable variant
 * (_generic) elsewhere. Variants are exported so tests can run each on any machine. All
 * variants compute TensorFlow Lite Micro's reference results bit for bit (see mnn_support.h
 * for the rounding). Tensor layouts and value ranges are in mnn_types.h.
 *
 * Kernels never allocate. Those that need scratch memory take an mnn_context sized by the
 * matching *_get_buffer_size() call (bytes; 0 means none). Input and output tensors must not
 * overlap unless a kernel says so.
 */
#ifndef MNN_FUNCTIONS_H
#define MNN_FUNCTIONS_H

#include <stdint.h>

#include "mnn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- CONV_2D ----
 * input [n, in_h, in_w, in_c], filter [out_c, k_h, k_w, in_c], bias [out_c] (or NULL),
 * output [n, out_h, out_w, out_c]. acc = bias + sum(filter * (input + input_offset)) over the
 * taps inside the input (padding contributes 0); out = clamp(requantize(acc) + output_offset). */
int32_t mnn_conv_s8_get_buffer_size(const mnn_conv_params *params, const mnn_dims *input_dims,
                                    const mnn_dims *filter_dims, const mnn_dims *output_dims);
mnn_status mnn_conv_s8(const mnn_context *ctx, const mnn_conv_params *params, const mnn_per_channel_quant *quant,
                       const mnn_dims *input_dims, const int8_t *input, const mnn_dims *filter_dims,
                       const int8_t *filter, const int32_t *bias, const mnn_dims *output_dims, int8_t *output);
mnn_status mnn_conv_s8_ref(const mnn_conv_params *params, const mnn_per_channel_quant *quant,
                           const mnn_dims *input_dims, const int8_t *input, const mnn_dims *filter_dims,
                           const int8_t *filter, const int32_t *bias, const mnn_dims *output_dims, int8_t *output);
/* im2col into int16 columns and a 2x2 (channels x pixels) SMLAD matrix multiply. */
int32_t mnn_conv_s8_dsp_get_buffer_size(const mnn_dims *input_dims, const mnn_dims *filter_dims);
mnn_status mnn_conv_s8_dsp(const mnn_context *ctx, const mnn_conv_params *params, const mnn_per_channel_quant *quant,
                           const mnn_dims *input_dims, const int8_t *input, const mnn_dims *filter_dims,
                           const int8_t *filter, const int32_t *bias, const mnn_dims *output_dims, int8_t *output);
/* im2col into int16 columns and a scalar 2x2 matrix multiply (cores without DSP). */
int32_t mnn_conv_s8_generic_get_buffer_size(const mnn_dims *input_dims, const mnn_dims *filter_dims);
mnn_status mnn_conv_s8_generic(const mnn_context *ctx, const mnn_conv_params *params,
                               const mnn_per_channel_quant *quant, const mnn_dims *input_dims, const int8_t *input,
                               const mnn_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                               const mnn_dims *output_dims, int8_t *output);

/* ---- DEPTHWISE_CONV_2D ----
 * input [n, in_h, in_w, in_c], filter [1, k_h, k_w, in_c * depth_multiplier], bias [out_c]
 * (or NULL), output [n, out_h, out_w, out_c]; output channel oc = ic * depth_multiplier + m. */
int32_t mnn_depthwise_conv_s8_get_buffer_size(const mnn_dw_conv_params *params, const mnn_dims *input_dims,
                                              const mnn_dims *filter_dims, const mnn_dims *output_dims);
mnn_status mnn_depthwise_conv_s8(const mnn_context *ctx, const mnn_dw_conv_params *params,
                                 const mnn_per_channel_quant *quant, const mnn_dims *input_dims, const int8_t *input,
                                 const mnn_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                 const mnn_dims *output_dims, int8_t *output);
mnn_status mnn_depthwise_conv_s8_ref(const mnn_dw_conv_params *params, const mnn_per_channel_quant *quant,
                                     const mnn_dims *input_dims, const int8_t *input, const mnn_dims *filter_dims,
                                     const int8_t *filter, const int32_t *bias, const mnn_dims *output_dims,
                                     int8_t *output);
/* Depth multiplier 1: the input offset folded into per-channel sums (scratch: 4 bytes per
 * channel), interior pixels without bounds checks, four channels per pass. */
int32_t mnn_depthwise_conv_s8_opt_get_buffer_size(const mnn_dims *filter_dims);
/* Given this many bytes more, the kernel copies each output row's input rows, padded, into a
 * stripe, so that border pixels take the fast path too. The dispatcher asks for them while
 * they stay within MNN_DW_STRIPE_MAX. */
#ifndef MNN_DW_STRIPE_MAX
#define MNN_DW_STRIPE_MAX 8192
#endif
int32_t mnn_depthwise_conv_s8_opt_get_stripe_size(const mnn_dw_conv_params *params, const mnn_dims *input_dims,
                                                  const mnn_dims *filter_dims, const mnn_dims *output_dims);
mnn_status mnn_depthwise_conv_s8_opt(const mnn_context *ctx, const mnn_dw_conv_params *params,
                                     const mnn_per_channel_quant *quant, const mnn_dims *input_dims,
                                     const int8_t *input, const mnn_dims *filter_dims, const int8_t *filter,
                                     const int32_t *bias, const mnn_dims *output_dims, int8_t *output);

/* ---- FULLY_CONNECTED ----
 * input [batches, in_features] (input_dims: n = batches, c = in_features), weights
 * [out_features, in_features] (filter_dims: n = out_features, c = in_features), bias
 * [out_features] (or NULL), output [batches, out_features]. quant holds one multiplier and
 * shift (per_channel = 0) or one per output feature (per_channel = 1). */
int32_t mnn_fully_connected_s8_get_buffer_size(const mnn_dims *filter_dims);
mnn_status mnn_fully_connected_s8(const mnn_context *ctx, const mnn_fc_params *params,
                                  const mnn_per_channel_quant *quant, int32_t per_channel,
                                  const mnn_dims *input_dims, const int8_t *input, const mnn_dims *filter_dims,
                                  const int8_t *weights, const int32_t *bias, int8_t *output);
mnn_status mnn_fully_connected_s8_ref(const mnn_fc_params *params, const mnn_per_channel_quant *quant,
                                      int32_t per_channel, const mnn_dims *input_dims, const int8_t *input,
                                      const mnn_dims *filter_dims, const int8_t *weights, const int32_t *bias,
                                      int8_t *output);
/* The input expanded once to int16 (scratch: 2 bytes per input feature), two output features
 * per pass with SMLAD (portable C without DSP). */
int32_t mnn_fully_connected_s8_dsp_get_buffer_size(const mnn_dims *filter_dims);
mnn_status mnn_fully_connected_s8_dsp(const mnn_context *ctx, const mnn_fc_params *params,
                                      const mnn_per_channel_quant *quant, int32_t per_channel,
                                      const mnn_dims *input_dims, const int8_t *input, const mnn_dims *filter_dims,
                                      const int8_t *weights, const int32_t *bias, int8_t *output);

/* ---- AVERAGE_POOL_2D and MAX_POOL_2D ----
 * input [n, in_h, in_w, c], output [n, out_h, out_w, c]. The average is over the window taps
 * inside the input, rounded half away from zero. */
mnn_status mnn_avgpool_s8(const mnn_pool_params *params, const mnn_dims *input_dims, const int8_t *input,
                          const mnn_dims *output_dims, int8_t *output);
mnn_status mnn_avgpool_s8_ref(const mnn_pool_params *params, const mnn_dims *input_dims, const int8_t *input,
                              const mnn_dims *output_dims, int8_t *output);
mnn_status mnn_maxpool_s8(const mnn_pool_params *params, const mnn_dims *input_dims, const int8_t *input,
                          const mnn_dims *output_dims, int8_t *output);
mnn_status mnn_maxpool_s8_ref(const mnn_pool_params *params, const mnn_dims *input_dims, const int8_t *input,
                              const mnn_dims *output_dims, int8_t *output);

/* ---- ADD and MUL ----
 * Elementwise over output_dims. Each input's dims either equal output_dims or broadcast:
 * every dimension of an input is 1 or the output's. Broadcast in place is allowed
 * (output may alias an input of the output's shape). */
mnn_status mnn_add_s8(const mnn_add_params *params, const mnn_dims *input1_dims, const int8_t *input1,
                      const mnn_dims *input2_dims, const int8_t *input2, const mnn_dims *output_dims, int8_t *output);
mnn_status mnn_add_s8_ref(const mnn_add_params *params, const mnn_dims *input1_dims, const int8_t *input1,
                          const mnn_dims *input2_dims, const int8_t *input2, const mnn_dims *output_dims,
                          int8_t *output);
mnn_status mnn_mul_s8(const mnn_mul_params *params, const mnn_dims *input1_dims, const int8_t *input1,
                      const mnn_dims *input2_dims, const int8_t *input2, const mnn_dims *output_dims, int8_t *output);
mnn_status mnn_mul_s8_ref(const mnn_mul_params *params, const mnn_dims *input1_dims, const int8_t *input1,
                          const mnn_dims *input2_dims, const int8_t *input2, const mnn_dims *output_dims,
                          int8_t *output);

/* ---- SOFTMAX (int8 in, int8 out with scale 1/256 and zero point -128) ----
 * rows x row_size values, softmax along each row. */
mnn_status mnn_softmax_s8(const mnn_softmax_params *params, int32_t rows, int32_t row_size, const int8_t *input,
                          int8_t *output);
mnn_status mnn_softmax_s8_ref(const mnn_softmax_params *params, int32_t rows, int32_t row_size,
                              const int8_t *input, int8_t *output);

/* ---- LOGISTIC (output scale 1/256, zero point -128) and TANH (output scale 1/128, zero
 * point 0) ---- size values; output may alias input. */
mnn_status mnn_logistic_s8(const mnn_activation_fn_params *params, int32_t size, const int8_t *input,
                           int8_t *output);
mnn_status mnn_logistic_s8_ref(const mnn_activation_fn_params *params, int32_t size, const int8_t *input,
                               int8_t *output);
mnn_status mnn_tanh_s8(const mnn_activation_fn_params *params, int32_t size, const int8_t *input, int8_t *output);
mnn_status mnn_tanh_s8_ref(const mnn_activation_fn_params *params, int32_t size, const int8_t *input,
                           int8_t *output);

/* ---- RESHAPE ----
 * Needs no kernel: the model compiler gives the output the input's memory. mnn_copy_s8 moves
 * the bytes when a plan cannot alias them. */
void mnn_copy_s8(const int8_t *input, int32_t size, int8_t *output);

/* ---- CONCATENATION ----
 * Along one axis: each input is outer x (inner_sizes[i]) where outer is the product of the
 * dimensions before the axis and inner_sizes[i] the product of input i's dimensions from the
 * axis on. Inputs must share the output's scale and zero point (TFLite requires it). */
mnn_status mnn_concatenation_s8(int32_t num_inputs, const int8_t *const *inputs, const int32_t *inner_sizes,
                                int32_t outer, int8_t *output);
mnn_status mnn_concatenation_s8_ref(int32_t num_inputs, const int8_t *const *inputs, const int32_t *inner_sizes,
                                    int32_t outer, int8_t *output);

/* ---- PAD ----
 * Pads each of the four NHWC dimensions by before[d] and after[d] elements of pad_value
 * (the output zero point for PAD; the value PADV2 gives). */
mnn_status mnn_pad_s8(const mnn_dims *input_dims, const int8_t *input, const int32_t before[4],
                      const int32_t after[4], int8_t pad_value, int8_t *output);
mnn_status mnn_pad_s8_ref(const mnn_dims *input_dims, const int8_t *input, const int32_t before[4],
                          const int32_t after[4], int8_t pad_value, int8_t *output);

/* ---- QUANTIZE (float32 -> int8) and DEQUANTIZE (int8 -> float32) ----
 * q = clamp(round(x / scale) + zero_point), rounding half away from zero, in float arithmetic
 * as TFLite's AffineQuantize; x = (float)(scale * (q - zero_point)) with a double product. */
mnn_status mnn_quantize_f32_s8(float scale, int32_t zero_point, int32_t size, const float *input, int8_t *output);
mnn_status mnn_dequantize_s8_f32(double scale, int32_t zero_point, int32_t size, const int8_t *input,
                                 float *output);

#ifdef __cplusplus
}
#endif

#endif /* MNN_FUNCTIONS_H */
