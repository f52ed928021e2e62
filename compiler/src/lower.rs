//! Lowering a checked model to kernel calls: for each operator, the `mnn` kernel it becomes and
//! every argument that kernel takes, computed here once (padding, activation clamps, offsets,
//! requantisation multipliers) exactly as TensorFlow Lite Micro's `Prepare` functions compute
//! them. Code generation prints these; tests run them through the host-built kernels.

use crate::quant::{self, Multiplier};
use crate::tflite::{Activation, Model, Op, Operator, Options, Padding, Tensor, TensorType};

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

/// What an operator becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Kernel {
    Conv {
        geometry: ConvGeometry,
        quant: Vec<Multiplier>,
        input: Dims,
        filter: Dims,
        output: Dims,
    },
    DepthwiseConv {
        geometry: ConvGeometry,
        depth_multiplier: i32,
        quant: Vec<Multiplier>,
        input: Dims,
        filter: Dims,
        output: Dims,
    },
    FullyConnected {
        input_offset: i32,
        filter_offset: i32,
        output_offset: i32,
        activation: Clamp,
        /// One entry (per tensor) or one per output feature.
        quant: Vec<Multiplier>,
        /// input: n = batches, c = features; filter: n = outputs, c = features.
        input: Dims,
        filter: Dims,
    },
    AveragePool {
        stride: (i32, i32),
        pad: (i32, i32),
        filter: (i32, i32),
        activation: Clamp,
        input: Dims,
        output: Dims,
    },
    MaxPool {
        stride: (i32, i32),
        pad: (i32, i32),
        filter: (i32, i32),
        activation: Clamp,
        input: Dims,
        output: Dims,
    },
    Add {
        input1_offset: i32,
        input2_offset: i32,
        left_shift: i32,
        input1: Multiplier,
        input2: Multiplier,
        output_offset: i32,
        output: Multiplier,
        activation: Clamp,
        input1_dims: Dims,
        input2_dims: Dims,
        output_dims: Dims,
    },
    Mul {
        input1_offset: i32,
        input2_offset: i32,
        output_offset: i32,
        output: Multiplier,
        activation: Clamp,
        input1_dims: Dims,
        input2_dims: Dims,
        output_dims: Dims,
    },
    Softmax {
        multiplier: Multiplier,
        diff_min: i32,
        rows: i32,
        row_size: i32,
    },
    Logistic {
        input_offset: i32,
        multiplier: Multiplier,
        radius: i32,
        size: i32,
    },
    Tanh {
        input_offset: i32,
        multiplier: Multiplier,
        radius: i32,
        size: i32,
    },
    /// RESHAPE: the output is the input's bytes.
    Reshape { size: i32 },
    Concatenation {
        outer: i32,
        /// Per input, the product of its dimensions from the axis on.
        inner: Vec<i32>,
    },
    Pad {
        input: Dims,
        before: [i32; 4],
        after: [i32; 4],
        value: i8,
    },
    Quantize {
        scale: f32,
        zero_point: i32,
        size: i32,
    },
    Dequantize {
        scale: f64,
        zero_point: i32,
        size: i32,
    },
}

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

fn scale_zp(t: &Tensor) -> (f32, i32) {
    match &t.quantization {
        Some(q) if !q.scale.is_empty() => (
            q.scale[0],
            q.zero_point.first().copied().unwrap_or(0) as i32,
        ),
        _ => (1.0, 0),
    }
}

fn scales(t: &Tensor) -> Vec<f32> {
    t.quantization
        .as_ref()
        .map(|q| q.scale.clone())
        .unwrap_or_default()
}

fn clamp(activation: Activation, out: &Tensor) -> Clamp {
    let (scale, zp) = scale_zp(out);
    let (min, max) = quant::activation_range(activation, scale, zp);
    Clamp { min, max }
}

/// TFLite's `ComputePaddingWithOffset`: the padding before the first element.
fn padding(
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
fn channel_multipliers(
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

impl Model {
    /// Every operator lowered to its kernel call, in execution order.
    pub fn lower(&self) -> Result<Vec<Layer>, LowerError> {
        self.operators.iter().map(|op| self.lower_one(op)).collect()
    }

    fn lower_one(&self, op: &Operator) -> Result<Layer, LowerError> {
        let who = self.describe(op);
        let fail = |message: &str| LowerError {
            who: who.clone(),
            message: message.to_owned(),
        };
        let tensor = |slot: usize| -> Result<&Tensor, LowerError> {
            op.inputs
                .get(slot)
                .filter(|&&i| i >= 0)
                .and_then(|&i| self.tensors.get(i as usize))
                .ok_or_else(|| fail(&format!("input {slot} missing")))
        };
        let out_t = op
            .outputs
            .first()
            .and_then(|&i| self.tensors.get(i as usize))
            .ok_or_else(|| fail("no output tensor"))?;
        let is_const = |i: i32| {
            i >= 0
                && self
                    .tensors
                    .get(i as usize)
                    .is_some_and(|t| t.data.is_some())
        };
        let mut inputs: Vec<usize> = op
            .inputs
            .iter()
            .filter(|&&i| i >= 0 && !is_const(i))
            .map(|&i| i as usize)
            .collect();
        let mut weights = None;
        let mut bias = None;
        let mut macs = 0u64;
        let out_dims = Dims::from_shape(&out_t.shape);
        let (out_scale, out_zp) = scale_zp(out_t);
        let kernel = match (&op.op, &op.options) {
            (
                Op::Conv2d,
                Options::Conv {
                    padding: pad,
                    stride,
                    dilation,
                    activation,
                },
            ) => {
                let (input, filter) = (tensor(0)?, tensor(1)?);
                weights = Some(op.inputs[1] as usize);
                bias = op.inputs.get(2).filter(|&&i| i >= 0).map(|&i| i as usize);
                inputs = vec![op.inputs[0] as usize];
                let (in_d, f_d) = (
                    Dims::from_shape(&input.shape),
                    Dims::from_shape(&filter.shape),
                );
                let (_, in_zp) = scale_zp(input);
                // TFLite options give strides as (w, h); we keep (h, w).
                let (stride_h, stride_w) = (stride.1, stride.0);
                let (dil_h, dil_w) = (dilation.1, dilation.0);
                macs = out_dims.elements() as u64 * (f_d.h * f_d.w * f_d.c) as u64;
                Kernel::Conv {
                    geometry: ConvGeometry {
                        input_offset: -in_zp,
                        output_offset: out_zp,
                        stride: (stride_h, stride_w),
                        pad: (
                            padding(*pad, stride_h, dil_h, in_d.h, f_d.h, out_dims.h),
                            padding(*pad, stride_w, dil_w, in_d.w, f_d.w, out_dims.w),
                        ),
                        dilation: (dil_h, dil_w),
                        activation: clamp(*activation, out_t),
                    },
                    quant: channel_multipliers(input, filter, out_t, out_dims.c),
                    input: in_d,
                    filter: f_d,
                    output: out_dims,
                }
            }
            (
                Op::DepthwiseConv2d,
                Options::Depthwise {
                    padding: pad,
                    stride,
                    dilation,
                    depth_multiplier,
                    activation,
                },
            ) => {
                let (input, filter) = (tensor(0)?, tensor(1)?);
                weights = Some(op.inputs[1] as usize);
                bias = op.inputs.get(2).filter(|&&i| i >= 0).map(|&i| i as usize);
                inputs = vec![op.inputs[0] as usize];
                let (in_d, f_d) = (
                    Dims::from_shape(&input.shape),
                    Dims::from_shape(&filter.shape),
                );
                let (_, in_zp) = scale_zp(input);
                let (stride_h, stride_w) = (stride.1, stride.0);
                let (dil_h, dil_w) = (dilation.1, dilation.0);
                // Some converters write 0 and let the shapes say it.
                let mult = if *depth_multiplier > 0 {
                    *depth_multiplier
                } else {
                    out_dims.c / in_d.c.max(1)
                };
                macs = out_dims.elements() as u64 * (f_d.h * f_d.w) as u64;
                Kernel::DepthwiseConv {
                    geometry: ConvGeometry {
                        input_offset: -in_zp,
                        output_offset: out_zp,
                        stride: (stride_h, stride_w),
                        pad: (
                            padding(*pad, stride_h, dil_h, in_d.h, f_d.h, out_dims.h),
                            padding(*pad, stride_w, dil_w, in_d.w, f_d.w, out_dims.w),
                        ),
                        dilation: (dil_h, dil_w),
                        activation: clamp(*activation, out_t),
                    },
                    depth_multiplier: mult,
                    quant: channel_multipliers(input, filter, out_t, out_dims.c),
                    input: in_d,
                    filter: f_d,
                    output: out_dims,
                }
            }
            (Op::FullyConnected, Options::FullyConnected { activation, .. }) => {
                let (input, filter) = (tensor(0)?, tensor(1)?);
                weights = Some(op.inputs[1] as usize);
                bias = op.inputs.get(2).filter(|&&i| i >= 0).map(|&i| i as usize);
                inputs = vec![op.inputs[0] as usize];
                let (_, in_zp) = scale_zp(input);
                let (_, f_zp) = scale_zp(filter);
                let outputs = *filter
                    .shape
                    .first()
                    .ok_or_else(|| fail("weights have no shape"))?;
                let depth = *filter
                    .shape
                    .last()
                    .ok_or_else(|| fail("weights have no shape"))?;
                let batches = (input.elements() as i32) / depth.max(1);
                let per_channel = scales(filter).len() > 1;
                let quant = if per_channel {
                    channel_multipliers(input, filter, out_t, outputs)
                } else {
                    channel_multipliers(input, filter, out_t, 1)
                };
                macs = batches as u64 * outputs as u64 * depth as u64;
                Kernel::FullyConnected {
                    input_offset: -in_zp,
                    filter_offset: -f_zp,
                    output_offset: out_zp,
                    activation: clamp(*activation, out_t),
                    quant,
                    input: Dims {
                        n: batches,
                        h: 1,
                        w: 1,
                        c: depth,
                    },
                    filter: Dims {
                        n: outputs,
                        h: 1,
                        w: 1,
                        c: depth,
                    },
                }
            }
            (
                Op::AveragePool2d | Op::MaxPool2d,
                Options::Pool {
                    padding: pad,
                    stride,
                    filter,
                    activation,
                },
            ) => {
                let in_d = Dims::from_shape(&tensor(0)?.shape);
                let (stride_h, stride_w) = (stride.1, stride.0);
                let (filter_h, filter_w) = (filter.1, filter.0);
                let geometry = (
                    (stride_h, stride_w),
                    (
                        padding(*pad, stride_h, 1, in_d.h, filter_h, out_dims.h),
                        padding(*pad, stride_w, 1, in_d.w, filter_w, out_dims.w),
                    ),
                    (filter_h, filter_w),
                    clamp(*activation, out_t),
                );
                if op.op == Op::AveragePool2d {
                    Kernel::AveragePool {
                        stride: geometry.0,
                        pad: geometry.1,
                        filter: geometry.2,
                        activation: geometry.3,
                        input: in_d,
                        output: out_dims,
                    }
                } else {
                    Kernel::MaxPool {
                        stride: geometry.0,
                        pad: geometry.1,
                        filter: geometry.2,
                        activation: geometry.3,
                        input: in_d,
                        output: out_dims,
                    }
                }
            }
            (Op::Add | Op::Mul, Options::Elementwise { activation }) => {
                let (a, b) = (tensor(0)?, tensor(1)?);
                inputs = vec![op.inputs[0] as usize, op.inputs[1] as usize];
                let ((a_scale, a_zp), (b_scale, b_zp)) = (scale_zp(a), scale_zp(b));
                let (a_d, b_d) = (Dims::from_shape(&a.shape), Dims::from_shape(&b.shape));
                if op.op == Op::Add {
                    let s = quant::add(a_scale, b_scale, out_scale);
                    Kernel::Add {
                        input1_offset: -a_zp,
                        input2_offset: -b_zp,
                        left_shift: s.left_shift,
                        input1: s.input1,
                        input2: s.input2,
                        output_offset: out_zp,
                        output: s.output,
                        activation: clamp(*activation, out_t),
                        input1_dims: a_d,
                        input2_dims: b_d,
                        output_dims: out_dims,
                    }
                } else {
                    Kernel::Mul {
                        input1_offset: -a_zp,
                        input2_offset: -b_zp,
                        output_offset: out_zp,
                        output: quant::quantize_multiplier(
                            f64::from(a_scale) * f64::from(b_scale) / f64::from(out_scale),
                        ),
                        activation: clamp(*activation, out_t),
                        input1_dims: a_d,
                        input2_dims: b_d,
                        output_dims: out_dims,
                    }
                }
            }
            (Op::Softmax, Options::Softmax { beta }) => {
                let input = tensor(0)?;
                let (in_scale, _) = scale_zp(input);
                let (multiplier, diff_min) = quant::softmax(*beta, in_scale);
                let row_size = *input.shape.last().unwrap_or(&1);
                Kernel::Softmax {
                    multiplier,
                    diff_min,
                    rows: input.elements() as i32 / row_size.max(1),
                    row_size,
                }
            }
            (Op::Logistic | Op::Tanh, _) => {
                let input = tensor(0)?;
                let (in_scale, in_zp) = scale_zp(input);
                let (multiplier, radius) = quant::q4_activation(in_scale);
                let size = input.elements() as i32;
                if op.op == Op::Logistic {
                    Kernel::Logistic {
                        input_offset: -in_zp,
                        multiplier,
                        radius,
                        size,
                    }
                } else {
                    Kernel::Tanh {
                        input_offset: -in_zp,
                        multiplier,
                        radius,
                        size,
                    }
                }
            }
            (Op::Reshape, _) => {
                inputs = vec![op.inputs[0] as usize];
                Kernel::Reshape {
                    size: tensor(0)?.elements() as i32,
                }
            }
            (Op::Concatenation, Options::Concatenation { axis, .. }) => {
                let rank = out_t.shape.len() as i32;
                let axis = if *axis < 0 { axis + rank } else { *axis };
                if axis < 0 || axis >= rank {
                    return Err(fail("concatenation axis out of range"));
                }
                let outer: i32 = out_t.shape[..axis as usize].iter().product();
                let inner = op
                    .inputs
                    .iter()
                    .map(|&i| {
                        let t = &self.tensors[i as usize];
                        t.shape[axis as usize..].iter().product::<i32>()
                    })
                    .collect();
                inputs = op.inputs.iter().map(|&i| i as usize).collect();
                Kernel::Concatenation { outer, inner }
            }
            (Op::Pad, _) => {
                let input = tensor(0)?;
                let paddings = tensor(1)?;
                inputs = vec![op.inputs[0] as usize];
                let data = paddings
                    .data
                    .as_ref()
                    .ok_or_else(|| fail("paddings must be constant"))?;
                let values: Vec<i32> = match paddings.dtype {
                    TensorType::Int32 => data
                        .chunks_exact(4)
                        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                    TensorType::Int64 => data
                        .chunks_exact(8)
                        .map(|c| {
                            i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
                                as i32
                        })
                        .collect(),
                    _ => return Err(fail("paddings must be int32 or int64")),
                };
                let rank = input.shape.len();
                if values.len() != 2 * rank || rank > 4 {
                    return Err(fail("paddings do not match the input's rank"));
                }
                let (mut before, mut after) = ([0; 4], [0; 4]);
                for d in 0..rank {
                    before[4 - rank + d] = values[2 * d];
                    after[4 - rank + d] = values[2 * d + 1];
                }
                Kernel::Pad {
                    input: Dims::from_shape(&input.shape),
                    before,
                    after,
                    value: out_zp as i8,
                }
            }
            (Op::Quantize, _) => Kernel::Quantize {
                scale: out_scale,
                zero_point: out_zp,
                size: out_t.elements() as i32,
            },
            (Op::Dequantize, _) => {
                let (s, zp) = scale_zp(tensor(0)?);
                Kernel::Dequantize {
                    scale: f64::from(s),
                    zero_point: zp,
                    size: out_t.elements() as i32,
                }
            }
            _ => return Err(fail("operator not supported")),
        };
        Ok(Layer {
            index: op.index,
            op: op.op,
            kernel,
            inputs,
            weights,
            bias,
            outputs: op.outputs.iter().map(|&i| i as usize).collect(),
            macs,
        })
    }
}
