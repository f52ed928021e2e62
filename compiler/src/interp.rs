//! The reference interpreter: runs a lowered model in plain Rust with TensorFlow Lite Micro's
//! reference integer arithmetic (the same semantics as the C `*_ref` kernels, written
//! independently), as the oracle for property tests of the compiled firmware. Checked against
//! TFLite Micro's vectors in `../shared` and against the C kernels.

use crate::lower::{Dims, Layer};
use crate::ops::Operands;
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

pub(crate) fn rescale(x: i32, src_bits: i32, dst_bits: i32) -> i32 {
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

pub(crate) fn logistic_q4(a: i32) -> i32 {
    if a == 0 {
        return 1 << 30;
    }
    let positive = one_over_one_plus_x(exp_on_negative_values(-a.wrapping_abs(), 4));
    if a > 0 { positive } else { i32::MAX - positive }
}

pub(crate) fn tanh_q4(a: i32) -> i32 {
    if a == 0 {
        return 0;
    }
    let negative = if a < 0 { a } else { -a };
    let t = one_minus_x_over_one_plus_x(exp_on_negative_values(negative, 5));
    if a < 0 { -t } else { t }
}

pub(crate) fn reciprocal(x: i32, integer_bits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros() as i32;
    let bits_over_unit = integer_bits - headroom_plus_one;
    let shifted_minus_one = ((x as u32) << headroom_plus_one).wrapping_sub(1u32 << 31) as i32;
    (one_over_one_plus_x(shifted_minus_one), bits_over_unit)
}

// ---- operators ----

/// The index of element (b, y, x, c) of an NHWC tensor.
pub(crate) fn at(d: Dims, b: i32, y: i32, x: i32, c: i32) -> usize {
    (((b * d.h + y) * d.w + x) * d.c + c) as usize
}

/// `v` clamped to `lo..=hi`, as int8.
pub(crate) fn saturate(v: i32, lo: i32, hi: i32) -> i8 {
    // As the kernels clamp: max then min (an empty range gives `hi`, never a panic).
    v.max(lo).min(hi) as i8
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

/// Runs one layer on the values of its input tensors (in `Layer::inputs` order), by its
/// operator's reference interpretation.
pub fn run_layer(model: &Model, layer: &Layer, inputs: &[&[i8]]) -> Result<Vec<i8>, InterpError> {
    let fail = |message: String| InterpError {
        layer: layer.index,
        op: layer.op.name(),
        message,
    };
    if inputs.is_empty() {
        return Err(fail("no input".into()));
    }
    let operands = Operands {
        inputs,
        weights: layer
            .weights
            .and_then(|w| model.tensors[w].data.as_deref())
            .map(i8s),
        bias: layer
            .bias
            .and_then(|b| model.tensors[b].data.as_deref())
            .map(i32s),
    };
    layer.kernel.operator().interpret(&operands).map_err(fail)
}

/// `a` and `b` combined element by element into the shape `od`, each broadcast along its
/// dimensions of size 1.
pub(crate) fn broadcast(
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
