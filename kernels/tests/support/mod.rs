//! Running a lowered model layer by layer through the host-built kernels, and finding the
//! shared reference vectors.

#![allow(dead_code)]

use mcusim_compiler::lower::{Dims as LDims, Kernel, Layer};
use mcusim_compiler::ops;
use mcusim_compiler::tflite::Model;
use mcusim_kernels as k;
use std::path::PathBuf;

/// `../shared` beside the workspace, or `None` with the reason printed (tests then skip).
pub fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if dir.join("models").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {} is absent (the shared models and vectors)",
            dir.display()
        );
        None
    }
}

pub fn dims(d: LDims) -> k::Dims {
    k::Dims::new(d.n, d.h, d.w, d.c)
}

fn clamp(c: mcusim_compiler::lower::Clamp) -> k::Activation {
    k::Activation {
        min: c.min,
        max: c.max,
    }
}

fn quant(q: &[mcusim_compiler::quant::Multiplier]) -> k::ChannelQuant {
    k::ChannelQuant {
        multiplier: q.iter().map(|m| m.multiplier).collect(),
        shift: q.iter().map(|m| m.shift).collect(),
    }
}

fn i8s(bytes: &[u8]) -> Vec<i8> {
    bytes.iter().map(|&b| b as i8).collect()
}

fn i32s(bytes: &[u8]) -> Vec<i32> {
    bytes
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Runs one layer: reads its inputs from `values` (by tensor index), returns its output.
pub fn run_layer(
    model: &Model,
    layer: &Layer,
    values: &[Option<Vec<i8>>],
    variant: k::Variant,
) -> Vec<i8> {
    let input = |slot: usize| -> &[i8] {
        values[layer.inputs[slot]].as_deref().unwrap_or_else(|| {
            panic!(
                "layer {}: input tensor {} has no value",
                layer.index, layer.inputs[slot]
            )
        })
    };
    let weights = layer
        .weights
        .map(|w| i8s(model.tensors[w].data.as_ref().expect("constant weights")));
    let bias = layer
        .bias
        .map(|b| i32s(model.tensors[b].data.as_ref().expect("constant bias")));
    let r = match &layer.kernel {
        Kernel::Conv(ops::Conv {
            geometry: g,
            quant: q,
            input: i,
            filter,
            output,
        }) => {
            let p = k::ConvParams {
                input_offset: g.input_offset,
                output_offset: g.output_offset,
                stride_h: g.stride.0,
                stride_w: g.stride.1,
                pad_h: g.pad.0,
                pad_w: g.pad.1,
                dilation_h: g.dilation.0,
                dilation_w: g.dilation.1,
                activation: clamp(g.activation),
            };
            k::conv(
                variant,
                &p,
                &quant(q),
                dims(*i),
                input(0),
                dims(*filter),
                weights.as_deref().unwrap(),
                bias.as_deref(),
                dims(*output),
            )
        }
        Kernel::DepthwiseConv(ops::DepthwiseConv {
            geometry: g,
            depth_multiplier,
            quant: q,
            input: i,
            filter,
            output,
        }) => {
            let p = k::DwConvParams {
                input_offset: g.input_offset,
                output_offset: g.output_offset,
                depth_multiplier: *depth_multiplier,
                stride_h: g.stride.0,
                stride_w: g.stride.1,
                pad_h: g.pad.0,
                pad_w: g.pad.1,
                dilation_h: g.dilation.0,
                dilation_w: g.dilation.1,
                activation: clamp(g.activation),
            };
            k::depthwise_conv(
                variant,
                &p,
                &quant(q),
                dims(*i),
                input(0),
                dims(*filter),
                weights.as_deref().unwrap(),
                bias.as_deref(),
                dims(*output),
            )
        }
        Kernel::FullyConnected(ops::FullyConnected {
            input_offset,
            filter_offset,
            output_offset,
            activation,
            quant: q,
            input: i,
            filter,
        }) => {
            let p = k::FcParams {
                input_offset: *input_offset,
                filter_offset: *filter_offset,
                output_offset: *output_offset,
                activation: clamp(*activation),
            };
            k::fully_connected(
                variant,
                &p,
                &quant(q),
                q.len() > 1,
                dims(*i),
                input(0),
                dims(*filter),
                weights.as_deref().unwrap(),
                bias.as_deref(),
            )
        }
        Kernel::Pool(ops::Pool {
            kind,
            stride,
            pad,
            filter,
            activation,
            input: i,
            output,
        }) => {
            let p = k::PoolParams {
                stride_h: stride.0,
                stride_w: stride.1,
                pad_h: pad.0,
                pad_w: pad.1,
                filter_h: filter.0,
                filter_w: filter.1,
                activation: clamp(*activation),
            };
            let average = *kind == ops::PoolKind::Average;
            k::pool(variant, average, &p, dims(*i), input(0), dims(*output))
        }
        Kernel::Add(ops::Add {
            input1_offset,
            input2_offset,
            left_shift,
            input1,
            input2,
            output_offset,
            output,
            activation,
            input1_dims,
            input2_dims,
            output_dims,
        }) => {
            let p = k::AddParams {
                input1_offset: *input1_offset,
                input1_multiplier: input1.multiplier,
                input1_shift: input1.shift,
                input2_offset: *input2_offset,
                input2_multiplier: input2.multiplier,
                input2_shift: input2.shift,
                left_shift: *left_shift,
                output_offset: *output_offset,
                output_multiplier: output.multiplier,
                output_shift: output.shift,
                activation: clamp(*activation),
            };
            k::add(
                variant,
                &p,
                dims(*input1_dims),
                input(0),
                dims(*input2_dims),
                input(1),
                dims(*output_dims),
            )
        }
        Kernel::Mul(ops::Mul {
            input1_offset,
            input2_offset,
            output_offset,
            output,
            activation,
            input1_dims,
            input2_dims,
            output_dims,
        }) => {
            let p = k::MulParams {
                input1_offset: *input1_offset,
                input2_offset: *input2_offset,
                output_offset: *output_offset,
                output_multiplier: output.multiplier,
                output_shift: output.shift,
                activation: clamp(*activation),
            };
            k::mul(
                variant,
                &p,
                dims(*input1_dims),
                input(0),
                dims(*input2_dims),
                input(1),
                dims(*output_dims),
            )
        }
        Kernel::Softmax(ops::Softmax {
            multiplier,
            diff_min,
            row_size,
            ..
        }) => {
            let p = k::SoftmaxParams {
                input_multiplier: multiplier.multiplier,
                input_left_shift: multiplier.shift,
                diff_min: *diff_min,
            };
            k::softmax(variant, &p, *row_size as usize, input(0))
        }
        Kernel::Activation(ops::Activation {
            kind,
            input_offset,
            multiplier,
            radius,
            ..
        }) => {
            let p = k::ActivationFnParams {
                input_offset: *input_offset,
                input_multiplier: multiplier.multiplier,
                input_left_shift: multiplier.shift,
                input_range_radius: *radius,
            };
            k::activation(variant, *kind == ops::ActivationKind::Tanh, &p, input(0))
        }
        Kernel::Reshape(_) => Ok(input(0).to_vec()),
        Kernel::Concatenation(ops::Concatenation { outer, inner }) => {
            let ins: Vec<&[i8]> = (0..layer.inputs.len()).map(input).collect();
            k::concatenation(variant, &ins, inner, *outer)
        }
        Kernel::Pad(ops::Pad {
            input: i,
            before,
            after,
            value,
        }) => k::pad(variant, dims(*i), input(0), *before, *after, *value),
        Kernel::Quantize(_) | Kernel::Dequantize(_) => {
            panic!("layer {}: float tensors are not run here", layer.index)
        }
    };
    r.unwrap_or_else(|e| panic!("layer {} ({}): {e}", layer.index, layer.op.name()))
}

/// Runs the whole model on one input; returns every tensor's value.
pub fn run_model(
    model: &Model,
    layers: &[Layer],
    input: &[i8],
    variant: k::Variant,
) -> Vec<Option<Vec<i8>>> {
    run_model_inputs(model, layers, &[input.to_vec()], variant)
}

/// Runs the whole model on its inputs (in the model's order); returns every tensor's value.
pub fn run_model_inputs(
    model: &Model,
    layers: &[Layer],
    inputs: &[Vec<i8>],
    variant: k::Variant,
) -> Vec<Option<Vec<i8>>> {
    let mut values: Vec<Option<Vec<i8>>> = vec![None; model.tensors.len()];
    for (&t, x) in model.inputs.iter().zip(inputs) {
        values[t] = Some(x.clone());
    }
    for layer in layers {
        let out = run_layer(model, layer, &values, variant);
        values[layer.outputs[0]] = Some(out);
    }
    values
}
