//! Declarations matching `kernels/include/mnn_types.h` and `mnn_functions.h` field for field.
#![allow(non_camel_case_types)]

/// `mnn_dims`: NHWC.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct mnn_dims {
    pub n: i32,
    pub h: i32,
    pub w: i32,
    pub c: i32,
}

#[repr(C)]
pub struct mnn_context {
    pub buf: *mut core::ffi::c_void,
    pub size: i32,
}

/// `mnn_activation`: the output clamp.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct mnn_activation {
    pub min: i32,
    pub max: i32,
}

impl Default for mnn_activation {
    fn default() -> Self {
        mnn_activation {
            min: -128,
            max: 127,
        }
    }
}

#[repr(C)]
pub struct mnn_per_channel_quant {
    pub multiplier: *const i32,
    pub shift: *const i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct mnn_conv_params {
    pub input_offset: i32,
    pub output_offset: i32,
    pub stride_h: i32,
    pub stride_w: i32,
    pub pad_h: i32,
    pub pad_w: i32,
    pub dilation_h: i32,
    pub dilation_w: i32,
    pub activation: mnn_activation,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct mnn_dw_conv_params {
    pub input_offset: i32,
    pub output_offset: i32,
    pub depth_multiplier: i32,
    pub stride_h: i32,
    pub stride_w: i32,
    pub pad_h: i32,
    pub pad_w: i32,
    pub dilation_h: i32,
    pub dilation_w: i32,
    pub activation: mnn_activation,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct mnn_fc_params {
    pub input_offset: i32,
    pub filter_offset: i32,
    pub output_offset: i32,
    pub activation: mnn_activation,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct mnn_pool_params {
    pub stride_h: i32,
    pub stride_w: i32,
    pub pad_h: i32,
    pub pad_w: i32,
    pub filter_h: i32,
    pub filter_w: i32,
    pub activation: mnn_activation,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct mnn_add_params {
    pub input1_offset: i32,
    pub input1_multiplier: i32,
    pub input1_shift: i32,
    pub input2_offset: i32,
    pub input2_multiplier: i32,
    pub input2_shift: i32,
    pub left_shift: i32,
    pub output_offset: i32,
    pub output_multiplier: i32,
    pub output_shift: i32,
    pub activation: mnn_activation,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct mnn_mul_params {
    pub input1_offset: i32,
    pub input2_offset: i32,
    pub output_offset: i32,
    pub output_multiplier: i32,
    pub output_shift: i32,
    pub activation: mnn_activation,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct mnn_softmax_params {
    pub input_multiplier: i32,
    pub input_left_shift: i32,
    pub diff_min: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct mnn_activation_fn_params {
    pub input_offset: i32,
    pub input_multiplier: i32,
    pub input_left_shift: i32,
    pub input_range_radius: i32,
}

#[repr(C)]
pub struct mnn_selfcheck_result {
    pub hash: u32,
    pub cases: i32,
    pub mismatches: i32,
    pub first_bad: i32,
}

type Status = i32;

unsafe extern "C" {
    pub fn mnn_conv_s8_get_buffer_size(
        params: *const mnn_conv_params,
        input_dims: *const mnn_dims,
        filter_dims: *const mnn_dims,
        output_dims: *const mnn_dims,
    ) -> i32;
    pub fn mnn_conv_s8(
        ctx: *const mnn_context,
        params: *const mnn_conv_params,
        quant: *const mnn_per_channel_quant,
        input_dims: *const mnn_dims,
        input: *const i8,
        filter_dims: *const mnn_dims,
        filter: *const i8,
        bias: *const i32,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_conv_s8_ref(
        params: *const mnn_conv_params,
        quant: *const mnn_per_channel_quant,
        input_dims: *const mnn_dims,
        input: *const i8,
        filter_dims: *const mnn_dims,
        filter: *const i8,
        bias: *const i32,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_conv_s8_dsp_get_buffer_size(
        input_dims: *const mnn_dims,
        filter_dims: *const mnn_dims,
    ) -> i32;
    pub fn mnn_conv_s8_dsp(
        ctx: *const mnn_context,
        params: *const mnn_conv_params,
        quant: *const mnn_per_channel_quant,
        input_dims: *const mnn_dims,
        input: *const i8,
        filter_dims: *const mnn_dims,
        filter: *const i8,
        bias: *const i32,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_conv_s8_generic_get_buffer_size(
        input_dims: *const mnn_dims,
        filter_dims: *const mnn_dims,
    ) -> i32;
    pub fn mnn_conv_s8_generic(
        ctx: *const mnn_context,
        params: *const mnn_conv_params,
        quant: *const mnn_per_channel_quant,
        input_dims: *const mnn_dims,
        input: *const i8,
        filter_dims: *const mnn_dims,
        filter: *const i8,
        bias: *const i32,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;

    pub fn mnn_depthwise_conv_s8_get_buffer_size(
        params: *const mnn_dw_conv_params,
        input_dims: *const mnn_dims,
        filter_dims: *const mnn_dims,
        output_dims: *const mnn_dims,
    ) -> i32;
    pub fn mnn_depthwise_conv_s8(
        ctx: *const mnn_context,
        params: *const mnn_dw_conv_params,
        quant: *const mnn_per_channel_quant,
        input_dims: *const mnn_dims,
        input: *const i8,
        filter_dims: *const mnn_dims,
        filter: *const i8,
        bias: *const i32,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_depthwise_conv_s8_ref(
        params: *const mnn_dw_conv_params,
        quant: *const mnn_per_channel_quant,
        input_dims: *const mnn_dims,
        input: *const i8,
        filter_dims: *const mnn_dims,
        filter: *const i8,
        bias: *const i32,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_depthwise_conv_s8_opt_get_buffer_size(filter_dims: *const mnn_dims) -> i32;
    pub fn mnn_depthwise_conv_s8_opt_get_stripe_size(
        params: *const mnn_dw_conv_params,
        input_dims: *const mnn_dims,
        filter_dims: *const mnn_dims,
        output_dims: *const mnn_dims,
    ) -> i32;
    pub fn mnn_depthwise_conv_s8_opt(
        ctx: *const mnn_context,
        params: *const mnn_dw_conv_params,
        quant: *const mnn_per_channel_quant,
        input_dims: *const mnn_dims,
        input: *const i8,
        filter_dims: *const mnn_dims,
        filter: *const i8,
        bias: *const i32,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;

    pub fn mnn_fully_connected_s8_get_buffer_size(filter_dims: *const mnn_dims) -> i32;
    pub fn mnn_fully_connected_s8(
        ctx: *const mnn_context,
        params: *const mnn_fc_params,
        quant: *const mnn_per_channel_quant,
        per_channel: i32,
        input_dims: *const mnn_dims,
        input: *const i8,
        filter_dims: *const mnn_dims,
        weights: *const i8,
        bias: *const i32,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_fully_connected_s8_ref(
        params: *const mnn_fc_params,
        quant: *const mnn_per_channel_quant,
        per_channel: i32,
        input_dims: *const mnn_dims,
        input: *const i8,
        filter_dims: *const mnn_dims,
        weights: *const i8,
        bias: *const i32,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_fully_connected_s8_dsp_get_buffer_size(filter_dims: *const mnn_dims) -> i32;
    pub fn mnn_fully_connected_s8_dsp(
        ctx: *const mnn_context,
        params: *const mnn_fc_params,
        quant: *const mnn_per_channel_quant,
        per_channel: i32,
        input_dims: *const mnn_dims,
        input: *const i8,
        filter_dims: *const mnn_dims,
        weights: *const i8,
        bias: *const i32,
        output: *mut i8,
    ) -> Status;

    pub fn mnn_avgpool_s8(
        params: *const mnn_pool_params,
        input_dims: *const mnn_dims,
        input: *const i8,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_avgpool_s8_ref(
        params: *const mnn_pool_params,
        input_dims: *const mnn_dims,
        input: *const i8,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_maxpool_s8(
        params: *const mnn_pool_params,
        input_dims: *const mnn_dims,
        input: *const i8,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_maxpool_s8_ref(
        params: *const mnn_pool_params,
        input_dims: *const mnn_dims,
        input: *const i8,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;

    pub fn mnn_add_s8(
        params: *const mnn_add_params,
        input1_dims: *const mnn_dims,
        input1: *const i8,
        input2_dims: *const mnn_dims,
        input2: *const i8,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_add_s8_ref(
        params: *const mnn_add_params,
        input1_dims: *const mnn_dims,
        input1: *const i8,
        input2_dims: *const mnn_dims,
        input2: *const i8,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_mul_s8(
        params: *const mnn_mul_params,
        input1_dims: *const mnn_dims,
        input1: *const i8,
        input2_dims: *const mnn_dims,
        input2: *const i8,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_mul_s8_ref(
        params: *const mnn_mul_params,
        input1_dims: *const mnn_dims,
        input1: *const i8,
        input2_dims: *const mnn_dims,
        input2: *const i8,
        output_dims: *const mnn_dims,
        output: *mut i8,
    ) -> Status;

    pub fn mnn_softmax_s8(
        params: *const mnn_softmax_params,
        rows: i32,
        row_size: i32,
        input: *const i8,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_softmax_s8_ref(
        params: *const mnn_softmax_params,
        rows: i32,
        row_size: i32,
        input: *const i8,
        output: *mut i8,
    ) -> Status;

    pub fn mnn_logistic_s8(
        params: *const mnn_activation_fn_params,
        size: i32,
        input: *const i8,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_logistic_s8_ref(
        params: *const mnn_activation_fn_params,
        size: i32,
        input: *const i8,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_tanh_s8(
        params: *const mnn_activation_fn_params,
        size: i32,
        input: *const i8,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_tanh_s8_ref(
        params: *const mnn_activation_fn_params,
        size: i32,
        input: *const i8,
        output: *mut i8,
    ) -> Status;

    pub fn mnn_concatenation_s8(
        num_inputs: i32,
        inputs: *const *const i8,
        inner_sizes: *const i32,
        outer: i32,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_concatenation_s8_ref(
        num_inputs: i32,
        inputs: *const *const i8,
        inner_sizes: *const i32,
        outer: i32,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_pad_s8_ref(
        input_dims: *const mnn_dims,
        input: *const i8,
        before: *const i32,
        after: *const i32,
        pad_value: i8,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_pad_s8(
        input_dims: *const mnn_dims,
        input: *const i8,
        before: *const i32,
        after: *const i32,
        pad_value: i8,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_quantize_f32_s8(
        scale: f32,
        zero_point: i32,
        size: i32,
        input: *const f32,
        output: *mut i8,
    ) -> Status;
    pub fn mnn_dequantize_s8_f32(
        scale: f64,
        zero_point: i32,
        size: i32,
        input: *const i8,
        output: *mut f32,
    ) -> Status;

    pub fn mnn_selfcheck(seed: u32, cases: i32) -> mnn_selfcheck_result;
}
