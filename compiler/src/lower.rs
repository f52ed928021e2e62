//! Lowering a checked model to kernel calls: for each operator, the `mnn` kernel it becomes and
//! every argument that kernel takes, computed here once (padding, activation clamps, offsets,
//! requantisation multipliers) exactly as TensorFlow Lite Micro's `Prepare` functions compute
//! them. Code generation prints these; tests run them through the host-built kernels.

use crate::ops::{LOWERINGS, Lowering};
use crate::quant::{self, Multiplier};
use crate::tflite::{Activation, Model, Op, Operator, Padding, Tensor};

/// Tensor dimensions as the kernels take them: NHWC, missing leading dimensions 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dims {
    pub n: i32,
    pub h: i32,
    pub w: i32,
    pub c: i32,
}

impl Dims {
    /// From a TFLite shape of rank 0 to 4 (right-aligned: `[a, b]` is n=1, h=1, w=a, c=b).
    pub fn from_shape(shape: &[i32]) -> Dims {
        let mut d = [1i32; 4];
        let rank = shape.len().min(4);
        d[4 - rank..].copy_from_slice(&shape[shape.len() - rank..]);
        Dims {
            n: d[0],
            h: d[1],
            w: d[2],
            c: d[3],
        }
    }

    pub fn elements(self) -> i64 {
        i64::from(self.n) * i64::from(self.h) * i64::from(self.w) * i64::from(self.c)
    }
}

/// A fused activation as an output clamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clamp {
    pub min: i32,
    pub max: i32,
}

/// `mnn_conv_params` / `mnn_dw_conv_params` together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvGeometry {
    pub input_offset: i32,
    pub output_offset: i32,
    pub stride: (i32, i32),
    pub pad: (i32, i32),
    pub dilation: (i32, i32),
    pub activation: Clamp,
}

pub use crate::ops::Kernel;

/// One operator lowered: its kernel, and the tensors it reads and writes (activations first,
/// then constant weights and biases, as the operator lists them).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub index: usize,
    pub op: Op,
    pub kernel: Kernel,
    /// Activation inputs (tensor indices).
    pub inputs: Vec<usize>,
    /// Constant weight tensor, if any.
    pub weights: Option<usize>,
    /// Constant bias tensor, if any.
    pub bias: Option<usize>,
    pub outputs: Vec<usize>,
    /// Multiply-accumulates one inference does in this layer.
    pub macs: u64,
}

/// Why an operator cannot be lowered (after `Model::check` passed, only malformed models).
#[derive(Debug, thiserror::Error)]
#[error("{who}: {message}")]
pub struct LowerError {
    pub who: String,
    pub message: String,
}

pub(crate) fn scale_zp(t: &Tensor) -> (f32, i32) {
    match &t.quantization {
        Some(q) if !q.scale.is_empty() => (
            q.scale[0],
            q.zero_point.first().copied().unwrap_or(0) as i32,
        ),
        _ => (1.0, 0),
    }
}

pub(crate) fn scales(t: &Tensor) -> Vec<f32> {
    t.quantization
        .as_ref()
        .map(|q| q.scale.clone())
        .unwrap_or_default()
}

pub(crate) fn clamp(activation: Activation, out: &Tensor) -> Clamp {
    let (scale, zp) = scale_zp(out);
    let (min, max) = quant::activation_range(activation, scale, zp);
    Clamp { min, max }
}

/// TFLite's `ComputePaddingWithOffset`: the padding before the first element.
pub(crate) fn padding(
    padding: Padding,
    stride: i32,
    dilation: i32,
    input: i32,
    filter: i32,
    output: i32,
) -> i32 {
    match padding {
        Padding::Valid => 0,
        Padding::Same => {
            let effective = (filter - 1) * dilation + 1;
            let total = ((output - 1) * stride + effective - input).max(0);
            total / 2
        }
    }
}

/// Per-output-channel multipliers `input_scale * filter_scale[c] / output_scale`.
pub(crate) fn channel_multipliers(
    input: &Tensor,
    filter: &Tensor,
    output: &Tensor,
    channels: i32,
) -> Vec<Multiplier> {
    let (in_scale, _) = scale_zp(input);
    let (out_scale, _) = scale_zp(output);
    let filter_scales = scales(filter);
    (0..channels as usize)
        .map(|c| {
            let fs = filter_scales
                .get(c)
                .or(filter_scales.first())
                .copied()
                .unwrap_or(1.0);
            quant::quantize_multiplier(f64::from(in_scale) * f64::from(fs) / f64::from(out_scale))
        })
        .collect()
}

/// A convolution's geometry from TFLite's options, which give strides and dilations as
/// (w, h); the kernels take (h, w).
pub(crate) fn conv_geometry(
    input_offset: i32,
    output_offset: i32,
    pad: Padding,
    stride: (i32, i32),
    dilation: (i32, i32),
    (input, filter, output): (Dims, Dims, Dims),
    activation: Clamp,
) -> ConvGeometry {
    let (stride_h, stride_w) = (stride.1, stride.0);
    let (dil_h, dil_w) = (dilation.1, dilation.0);
    ConvGeometry {
        input_offset,
        output_offset,
        stride: (stride_h, stride_w),
        pad: (
            padding(pad, stride_h, dil_h, input.h, filter.h, output.h),
            padding(pad, stride_w, dil_w, input.w, filter.w, output.w),
        ),
        dilation: (dil_h, dil_w),
        activation,
    }
}

impl Model {
    /// Every operator lowered to its kernel call, in execution order.
    pub fn lower(&self) -> Result<Vec<Layer>, LowerError> {
        self.operators.iter().map(|op| self.lower_one(op)).collect()
    }

    /// One operator lowered by its entry in the operator table.
    fn lower_one(&self, op: &Operator) -> Result<Layer, LowerError> {
        let who = self.describe(op);
        let out = op
            .outputs
            .first()
            .and_then(|&i| self.tensors.get(i as usize))
            .ok_or_else(|| LowerError {
                who: who.clone(),
                message: "no output tensor".into(),
            })?;
        let (out_scale, out_zp) = scale_zp(out);
        let l = Lowering {
            model: self,
            op,
            out,
            out_dims: Dims::from_shape(&out.shape),
            out_scale,
            out_zp,
            who,
        };
        let lower = LOWERINGS
            .iter()
            .find(|(o, _)| *o == op.op)
            .map(|(_, lower)| *lower)
            .ok_or_else(|| l.fail("operator not supported"))?;
        let lowered = lower(&l)?;
        Ok(Layer {
            index: op.index,
            op: op.op,
            kernel: lowered.kernel,
            inputs: lowered.inputs,
            weights: lowered.weights,
            bias: lowered.bias,
            outputs: op.outputs.iter().map(|&i| i as usize).collect(),
            macs: lowered.macs,
        })
    }
}
