//! The reference interpreter: runs a lowered model in plain Rust with TensorFlow Lite Micro's
//! reference integer arithmetic (the same semantics as the C `*_ref` kernels, written
//! independently), as the oracle for property tests of the compiled firmware. Checked against
//! TFLite Micro's vectors in `../shared` and against the C kernels.

use crate::lower::{Dims, Kernel, Layer};
use crate::tflite::Model;

/// Why a model cannot be interpreted.
#[derive(Debug, thiserror::Error)]
#[error("layer {layer} ({op}): {message}")]
pub struct InterpError {
    pub layer: usize,
    pub op: String,
    pub message: String,
}

// ---- gemmlowp / TFLite integer arithmetic ----

/// gemmlowp's SaturatingRoundingDoublingHighMul.
pub fn doubling_high_mult(a: i32, b: i32) -> i32 {
    if a == b && a == i32::MIN {
        return i32::MAX;
    }
    let ab = i64::from(a) * i64::from(b);
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp's RoundingDivideByPOT: round half away from zero.
pub fn divide_by_power_of_two(x: i32, exponent: i32) -> i32 {
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// TFLite's MultiplyByQuantizedMultiplier (double rounding).
pub fn requantize(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = shift.max(0);
    let right = (-shift).max(0);
    divide_by_power_of_two(
        doubling_high_mult(x.wrapping_shl(left as u32), multiplier),
        right,
    )
}

fn saturating_rounding_mul_pot(x: i32, exponent: i32) -> i32 {
    if exponent > 0 {
        let threshold = ((1u32 << (31 - exponent)) - 1) as i32;
        if x > threshold {
            i32::MAX
        } else if x < -threshold {
            i32::MIN
        } else {
            x.wrapping_shl(exponent as u32)
        }
    } else if exponent < 0 {
        divide_by_power_of_two(x, -exponent)
    } else {
        x
    }
}

fn rescale(x: i32, src_bits: i32, dst_bits: i32) -> i32 {
    saturating_rounding_mul_pot(x, src_bits - dst_bits)
}

fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = i64::from(a) + i64::from(b);
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

fn exp_on_interval_minus_quarter_to_zero(a: i32) -> i32 {
    const EXP_MINUS_ONE_EIGHTH: i32 = 1_895_147_668;
    const ONE_THIRD: i32 = 715_827_883;
    let x = a.wrapping_add(1 << 28);
    let x2 = doubling_high_mult(x, x);
    let x3 = doubling_high_mult(x2, x);
    let x4 = doubling_high_mult(x2, x2);
    let x4_over_4 = saturating_rounding_mul_pot(x4, -2);
    let poly = saturating_rounding_mul_pot(
        doubling_high_mult(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        -1,
    );
    EXP_MINUS_ONE_EIGHTH.wrapping_add(doubling_high_mult(
        EXP_MINUS_ONE_EIGHTH,
        x.wrapping_add(poly),
    ))
}

/// gemmlowp's exp_on_negative_values for a Q(integer_bits) input; Q0.31 result.
pub fn exp_on_negative_values(a: i32, integer_bits: i32) -> i32 {
    const FACTORS: [i32; 7] = [
        1_672_461_947,
        1_302_514_674,
        790_015_084,
        290_630_308,
        39_332_535,
        720_401,
        242,
    ];
    let fractional_bits = 31 - integer_bits;
    let one_quarter = 1i32 << (fractional_bits - 2);
    let mask = one_quarter - 1;
    let a_mod = (a & mask).wrapping_sub(one_quarter);
    let mut result = exp_on_interval_minus_quarter_to_zero(rescale(a_mod, integer_bits, 0));
    let remainder = a_mod.wrapping_sub(a);
    for exponent in -2..=4 {
        if integer_bits > exponent {
            let shift = fractional_bits + exponent;
            if remainder & (1u32 << shift) as i32 != 0 {
                result = doubling_high_mult(result, FACTORS[(exponent + 2) as usize]);
            }
        }
    }
    if integer_bits > 5 && a < -((1u32 << (36 - integer_bits)) as i32) {
        result = 0;
    }
    if a == 0 { i32::MAX } else { result }
}

fn newton_reciprocal_q2(half_denominator: i32) -> i32 {
    const C48_17: i32 = 1_515_870_810;
    const C_NEG_32_17: i32 = -1_010_580_540;
    let one_q2 = 1i32 << 29;
    let mut x = C48_17.wrapping_add(doubling_high_mult(half_denominator, C_NEG_32_17));
    for _ in 0..3 {
        let hx = doubling_high_mult(half_denominator, x);
        let one_minus = one_q2.wrapping_sub(hx);
        x = x.wrapping_add(rescale(doubling_high_mult(x, one_minus), 4, 2));
    }
    x
}

/// gemmlowp's one_over_one_plus_x_for_x_in_0_1.
pub fn one_over_one_plus_x(a: i32) -> i32 {
    rescale(newton_reciprocal_q2(rounding_half_sum(a, i32::MAX)), 1, 0)
}

fn one_minus_x_over_one_plus_x(a: i32) -> i32 {
    rescale(
        newton_reciprocal_q2(rounding_half_sum(a, i32::MAX)).wrapping_sub(1 << 29),
        2,
        0,
    )
}

fn logistic_q4(a: i32) -> i32 {
    if a == 0 {
        return 1 << 30;
    }
    let positive = one_over_one_plus_x(exp_on_negative_values(-a.wrapping_abs(), 4));
    if a > 0 { positive } else { i32::MAX - positive }
}

fn tanh_q4(a: i32) -> i32 {
    if a == 0 {
        return 0;
    }
    let negative = if a < 0 { a } else { -a };
    let t = one_minus_x_over_one_plus_x(exp_on_negative_values(negative, 5));
    if a < 0 { -t } else { t }
}

fn reciprocal(x: i32, integer_bits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros() as i32;
    let bits_over_unit = integer_bits - headroom_plus_one;
    let shifted_minus_one = ((x as u32) << headroom_plus_one).wrapping_sub(1u32 << 31) as i32;
    (one_over_one_plus_x(shifted_minus_one), bits_over_unit)
}

// ---- operators ----

fn at(d: Dims, b: i32, y: i32, x: i32, c: i32) -> usize {
    (((b * d.h + y) * d.w + x) * d.c + c) as usize
}

fn clamp(v: i32, lo: i32, hi: i32) -> i8 {
    v.clamp(lo, hi) as i8
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

/// Runs one layer on the values of its input tensors (in `Layer::inputs` order).
pub fn run_layer(model: &Model, layer: &Layer, inputs: &[&[i8]]) -> Result<Vec<i8>, InterpError> {
    let fail = |message: &str| InterpError {
        layer: layer.index,
        op: layer.op.name(),
        message: message.to_owned(),
    };
    let weights = layer
        .weights
        .and_then(|w| model.tensors[w].data.as_deref())
        .map(i8s);
    let bias = layer
        .bias
        .and_then(|b| model.tensors[b].data.as_deref())
        .map(i32s);
    let x = *inputs.first().ok_or_else(|| fail("no input"))?;
    Ok(match &layer.kernel {
        Kernel::Conv {
            geometry: g,
            quant,
            input: i,
            filter: f,
            output: o,
        } => {
            let w = weights.ok_or_else(|| fail("no weights"))?;
            let mut out = vec![0i8; o.elements() as usize];
            let group_c = f.c;
            let out_per_group = o.c / (i.c / group_c).max(1);
            for b in 0..i.n {
                for oy in 0..o.h {
                    for ox in 0..o.w {
                        for oc in 0..o.c {
                            let group = oc / out_per_group;
                            let mut acc = 0i32;
                            for ky in 0..f.h {
                                let iy = oy * g.stride.0 - g.pad.0 + ky * g.dilation.0;
                                for kx in 0..f.w {
                                    let ix = ox * g.stride.1 - g.pad.1 + kx * g.dilation.1;
                                    if iy < 0 || iy >= i.h || ix < 0 || ix >= i.w {
                                        continue;
                                    }
                                    for ic in 0..group_c {
                                        let xv =
                                            i32::from(x[at(*i, b, iy, ix, group * group_c + ic)]);
                                        let wv = i32::from(
                                            w[((((oc * f.h) + ky) * f.w + kx) * group_c + ic)
                                                as usize],
                                        );
                                        acc += wv * (xv + g.input_offset);
                                    }
                                }
                            }
                            acc += bias.as_ref().map_or(0, |b| b[oc as usize]);
                            let q = quant[oc as usize];
                            let v = requantize(acc, q.multiplier, q.shift) + g.output_offset;
                            out[at(*o, b, oy, ox, oc)] =
                                clamp(v, g.activation.min, g.activation.max);
                        }
                    }
                }
            }
            out
        }
        Kernel::DepthwiseConv {
            geometry: g,
            depth_multiplier,
            quant,
            input: i,
            filter: f,
            output: o,
        } => {
            let w = weights.ok_or_else(|| fail("no weights"))?;
            let mut out = vec![0i8; o.elements() as usize];
            for b in 0..i.n {
                for oy in 0..o.h {
                    for ox in 0..o.w {
                        for ic in 0..i.c {
                            for m in 0..*depth_multiplier {
                                let oc = ic * depth_multiplier + m;
                                let mut acc = 0i32;
                                for ky in 0..f.h {
                                    for kx in 0..f.w {
                                        let iy = oy * g.stride.0 - g.pad.0 + ky * g.dilation.0;
                                        let ix = ox * g.stride.1 - g.pad.1 + kx * g.dilation.1;
                                        if iy < 0 || iy >= i.h || ix < 0 || ix >= i.w {
                                            continue;
                                        }
                                        let xv = i32::from(x[at(*i, b, iy, ix, ic)]);
                                        let wv =
                                            i32::from(w[((ky * f.w + kx) * o.c + oc) as usize]);
                                        acc += wv * (xv + g.input_offset);
                                    }
                                }
                                acc += bias.as_ref().map_or(0, |b| b[oc as usize]);
                                let q = quant[oc as usize];
                                let v = requantize(acc, q.multiplier, q.shift) + g.output_offset;
                                out[at(*o, b, oy, ox, oc)] =
                                    clamp(v, g.activation.min, g.activation.max);
                            }
                        }
                    }
                }
            }
            out
        }
        Kernel::FullyConnected {
            input_offset,
            filter_offset,
            output_offset,
            activation,
            quant,
            input: i,
            filter: f,
        } => {
            let w = weights.ok_or_else(|| fail("no weights"))?;
            let (batches, depth, outputs) = (i.n, f.c, f.n);
            let mut out = vec![0i8; (batches * outputs) as usize];
            for b in 0..batches {
                for o in 0..outputs {
                    let mut acc = 0i32;
                    for d in 0..depth {
                        let xv = i32::from(x[(b * depth + d) as usize]);
                        let wv = i32::from(w[(o * depth + d) as usize]);
                        acc += (wv + filter_offset) * (xv + input_offset);
                    }
                    acc += bias.as_ref().map_or(0, |b| b[o as usize]);
                    let q = quant[if quant.len() > 1 { o as usize } else { 0 }];
                    let v = requantize(acc, q.multiplier, q.shift) + output_offset;
                    out[(b * outputs + o) as usize] = clamp(v, activation.min, activation.max);
                }
            }
            out
        }
        Kernel::AveragePool {
            stride,
            pad,
            filter,
            activation,
            input: i,
            output: o,
        }
        | Kernel::MaxPool {
            stride,
            pad,
            filter,
            activation,
            input: i,
            output: o,
        } => {
            let average = matches!(layer.kernel, Kernel::AveragePool { .. });
            let mut out = vec![0i8; o.elements() as usize];
            for b in 0..i.n {
                for oy in 0..o.h {
                    for ox in 0..o.w {
                        for c in 0..i.c {
                            let (x0, y0) = (ox * stride.1 - pad.1, oy * stride.0 - pad.0);
                            let (fx0, fx1) = ((-x0).max(0), filter.1.min(i.w - x0));
                            let (fy0, fy1) = ((-y0).max(0), filter.0.min(i.h - y0));
                            let (mut sum, mut count, mut max) = (0i32, 0i32, i32::from(i8::MIN));
                            for fy in fy0..fy1 {
                                for fx in fx0..fx1 {
                                    let v = i32::from(x[at(*i, b, y0 + fy, x0 + fx, c)]);
                                    sum += v;
                                    count += 1;
                                    max = max.max(v);
                                }
                            }
                            let v = if average {
                                if count == 0 {
                                    return Err(fail("a pooling window outside the input"));
                                }
                                if sum > 0 {
                                    (sum + count / 2) / count
                                } else {
                                    (sum - count / 2) / count
                                }
                            } else {
                                max
                            };
                            out[at(*o, b, oy, ox, c)] = clamp(v, activation.min, activation.max);
                        }
                    }
                }
            }
            out
        }
        Kernel::Add {
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
        } => {
            let y = *inputs.get(1).ok_or_else(|| fail("no second input"))?;
            broadcast(x, *input1_dims, y, *input2_dims, *output_dims, |a, b| {
                let a = requantize(
                    (a + input1_offset).wrapping_shl(*left_shift as u32),
                    input1.multiplier,
                    input1.shift,
                );
                let b = requantize(
                    (b + input2_offset).wrapping_shl(*left_shift as u32),
                    input2.multiplier,
                    input2.shift,
                );
                let v = requantize(a + b, output.multiplier, output.shift) + output_offset;
                clamp(v, activation.min, activation.max)
            })
        }
        Kernel::Mul {
            input1_offset,
            input2_offset,
            output_offset,
            output,
            activation,
            input1_dims,
            input2_dims,
            output_dims,
        } => {
            let y = *inputs.get(1).ok_or_else(|| fail("no second input"))?;
            broadcast(x, *input1_dims, y, *input2_dims, *output_dims, |a, b| {
                let v = requantize(
                    (a + input1_offset) * (b + input2_offset),
                    output.multiplier,
                    output.shift,
                ) + output_offset;
                clamp(v, activation.min, activation.max)
            })
        }
        Kernel::Softmax {
            multiplier,
            diff_min,
            row_size,
            ..
        } => {
            let mut out = vec![0i8; x.len()];
            for (row, out_row) in x
                .chunks(*row_size as usize)
                .zip(out.chunks_mut(*row_size as usize))
            {
                let max = row
                    .iter()
                    .copied()
                    .max()
                    .map_or(i32::from(i8::MIN), i32::from);
                let scaled = |v: i8| {
                    doubling_high_mult(
                        (i32::from(v) - max).wrapping_shl(multiplier.shift as u32),
                        multiplier.multiplier,
                    )
                };
                let mut sum = 0i32;
                for &v in row {
                    if i32::from(v) - max >= *diff_min {
                        sum =
                            sum.wrapping_add(rescale(exp_on_negative_values(scaled(v), 5), 0, 12));
                    }
                }
                let (shifted_scale, bits_over_unit) = reciprocal(sum, 12);
                let exponent = bits_over_unit + 31 - 8;
                if !(0..=31).contains(&exponent) {
                    return Err(fail("softmax exponent out of range"));
                }
                for (o, &v) in out_row.iter_mut().zip(row) {
                    *o = if i32::from(v) - max >= *diff_min {
                        let e = exp_on_negative_values(scaled(v), 5);
                        clamp(
                            divide_by_power_of_two(doubling_high_mult(shifted_scale, e), exponent)
                                - 128,
                            -128,
                            127,
                        )
                    } else {
                        i8::MIN
                    };
                }
            }
            out
        }
        Kernel::Logistic {
            input_offset,
            multiplier,
            radius,
            ..
        }
        | Kernel::Tanh {
            input_offset,
            multiplier,
            radius,
            ..
        } => {
            let tanh = matches!(layer.kernel, Kernel::Tanh { .. });
            x.iter()
                .map(|&v| {
                    let v = i32::from(v) + input_offset;
                    if v <= -radius {
                        i8::MIN
                    } else if v >= *radius {
                        i8::MAX
                    } else {
                        let q4 = requantize(v, multiplier.multiplier, multiplier.shift);
                        if tanh {
                            clamp(divide_by_power_of_two(tanh_q4(q4), 31 - 7), -128, 127)
                        } else {
                            clamp(
                                divide_by_power_of_two(logistic_q4(q4), 31 - 8) - 128,
                                -128,
                                127,
                            )
                        }
                    }
                })
                .collect()
        }
        Kernel::Reshape { .. } => x.to_vec(),
        Kernel::Concatenation { outer, inner } => {
            let mut out = Vec::new();
            for o in 0..*outer as usize {
                for (input, &n) in inputs.iter().zip(inner) {
                    let n = n as usize;
                    out.extend_from_slice(&input[o * n..(o + 1) * n]);
                }
            }
            out
        }
        Kernel::Pad {
            input: i,
            before,
            after,
            value,
        } => {
            let d = [i.n, i.h, i.w, i.c];
            let o: Vec<i32> = (0..4).map(|k| d[k] + before[k] + after[k]).collect();
            let mut out = Vec::with_capacity(o.iter().product::<i32>() as usize);
            for b in 0..o[0] {
                for y in 0..o[1] {
                    for xx in 0..o[2] {
                        for c in 0..o[3] {
                            let s = [b - before[0], y - before[1], xx - before[2], c - before[3]];
                            let inside = (0..4).all(|k| s[k] >= 0 && s[k] < d[k]);
                            out.push(if inside {
                                x[at(*i, s[0], s[1], s[2], s[3])]
                            } else {
                                *value
                            });
                        }
                    }
                }
            }
            out
        }
        Kernel::Quantize { .. } | Kernel::Dequantize { .. } => {
            return Err(fail("float tensors are not interpreted"));
        }
    })
}

fn broadcast(
    a: &[i8],
    ad: Dims,
    b: &[i8],
    bd: Dims,
    od: Dims,
    f: impl Fn(i32, i32) -> i8,
) -> Vec<i8> {
    let idx = |d: Dims, n: i32, y: i32, x: i32, c: i32| {
        at(
            d,
            if d.n == 1 { 0 } else { n },
            if d.h == 1 { 0 } else { y },
            if d.w == 1 { 0 } else { x },
            if d.c == 1 { 0 } else { c },
        )
    };
    let mut out = Vec::with_capacity(od.elements() as usize);
    for n in 0..od.n {
        for y in 0..od.h {
            for x in 0..od.w {
                for c in 0..od.c {
                    out.push(f(
                        i32::from(a[idx(ad, n, y, x, c)]),
                        i32::from(b[idx(bd, n, y, x, c)]),
                    ));
                }
            }
        }
    }
    out
}

/// Runs the whole model on its inputs (in the model's order); returns the outputs.
pub fn run(
    model: &Model,
    layers: &[Layer],
    inputs: &[Vec<i8>],
) -> Result<Vec<Vec<i8>>, InterpError> {
    let mut values: Vec<Option<Vec<i8>>> = vec![None; model.tensors.len()];
    for (&t, x) in model.inputs.iter().zip(inputs) {
        values[t] = Some(x.clone());
    }
    for layer in layers {
        let ins: Vec<&[i8]> = layer
            .inputs
            .iter()
            .map(|&t| {
                values[t].as_deref().ok_or_else(|| InterpError {
                    layer: layer.index,
                    op: layer.op.name(),
                    message: format!("tensor {t} has no value yet"),
                })
            })
            .collect::<Result<_, _>>()?;
        let out = run_layer(model, layer, &ins)?;
        values[layer.outputs[0]] = Some(out);
    }
    Ok(model
        .outputs
        .iter()
        .map(|&t| values[t].clone().unwrap_or_default())
        .collect())
}
