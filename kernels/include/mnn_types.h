/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mnn: the mcusim int8 neural-network kernel library. Types shared by every kernel.
 *
 * Conventions (the same as TensorFlow Lite and CMSIS-NN):
 *   - Activation tensors are int8, NHWC, C order; the channel is the fastest-moving index.
 *   - A real value r is stored as q with r = scale * (q - zero_point).
 *   - "offset" arguments are what the kernel adds to a stored value: input_offset is the
 *     negated input zero point (range [-127, 128]); output_offset is the output zero point
 *     (range [-128, 127]).
 *   - Requantisation multipliers are Q0.31 in [2^30, 2^31) (or 0) with a shift in [-31, 30]:
 *     positive shifts are left shifts. They come from TFLite's QuantizeMultiplier, computed
 *     ahead of time by the model compiler.
 */
#ifndef MNN_TYPES_H
#define MNN_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kernel result. Kernels validate only what would otherwise corrupt memory. */
typedef enum {
    MNN_SUCCESS = 0,
    /* An argument is out of range, or the scratch buffer is missing or too small. */
    MNN_ARG_ERROR = -1,
} mnn_status;

/* Tensor dimensions, NHWC. Unused dimensions are 1. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} mnn_dims;

/* Scratch memory the caller owns, at least as large as the kernel's *_get_buffer_size()
 * says, 4-byte aligned. buf may be NULL when that size is 0. */
typedef struct {
    void *buf;
    int32_t size;
} mnn_context;

/* The fused activation as an output clamp, in output units: [-128, 127] for none. */
typedef struct {
    int32_t min;
    int32_t max;
} mnn_activation;

/* Per-output-channel requantisation: multiplier[c] and shift[c] for each output channel. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} mnn_per_channel_quant;

/* One requantisation for a whole tensor. */
typedef struct {
    int32_t multiplier;
    int32_t shift;
} mnn_per_tensor_quant;

/* CONV_2D. Filter is OHWI: [output_ch, kernel_h, kernel_w, input_ch]. */
typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    int32_t stride_h, stride_w;
    /* Padding before the first row and column (TFLite's SAME padding puts the odd one after). */
    int32_t pad_h, pad_w;
    int32_t dilation_h, dilation_w;
    mnn_activation activation;
} mnn_conv_params;

/* DEPTHWISE_CONV_2D. Filter is [1, kernel_h, kernel_w, input_ch * depth_multiplier]. */
typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    int32_t depth_multiplier;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t dilation_h, dilation_w;
    mnn_activation activation;
} mnn_dw_conv_params;

/* FULLY_CONNECTED. Weights are [output_features, input_features]. */
typedef struct {
    int32_t input_offset;
    /* The negated filter zero point; 0 for symmetric int8 weights, as TFLite requires. */
    int32_t filter_offset;
    int32_t output_offset;
    mnn_activation activation;
} mnn_fc_params;

/* AVERAGE_POOL_2D and MAX_POOL_2D. */
typedef struct {
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t filter_h, filter_w;
    mnn_activation activation;
} mnn_pool_params;

/* ADD: each input is scaled to a common fixed-point scale with input_shift headroom
 * (TFLite uses left_shift = 20), added, then requantised to the output. */
typedef struct {
    int32_t input1_offset, input1_multiplier, input1_shift;
    int32_t input2_offset, input2_multiplier, input2_shift;
    int32_t left_shift;
    int32_t output_offset, output_multiplier, output_shift;
    mnn_activation activation;
} mnn_add_params;

/* MUL: (x1 + input1_offset) * (x2 + input2_offset), requantised to the output. */
typedef struct {
    int32_t input1_offset;
    int32_t input2_offset;
    int32_t output_offset, output_multiplier, output_shift;
    mnn_activation activation;
} mnn_mul_params;

/* SOFTMAX along the innermost dimension (TFLite's fixed-point exp, Q5.26 differences). */
typedef struct {
    /* From PreprocessSoftmaxScaling(beta, input_scale, 5): a left shift, >= 0. */
    int32_t input_multiplier;
    int32_t input_left_shift;
    /* Differences from the row maximum below this give an output of -128. */
    int32_t diff_min;
} mnn_softmax_params;

/* LOGISTIC and TANH: input rescaled to Q4.27, gemmlowp's fixed-point function. */
typedef struct {
    int32_t input_offset;
    int32_t input_multiplier;
    int32_t input_left_shift;
    /* Inputs (after the offset) at or beyond +-range_radius saturate. */
    int32_t input_range_radius;
} mnn_activation_fn_params;

#ifdef __cplusplus
}
#endif

#endif /* MNN_TYPES_H */
