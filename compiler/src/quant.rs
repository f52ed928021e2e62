//! TensorFlow Lite's quantisation arithmetic, done ahead of time: turning float scales into
//! the Q0.31 multipliers and shifts the int8 kernels take. Each function follows
//! `tensorflow/lite/kernels/internal/quantization_util.cc` and `kernel_util.cc` (default
//! double rounding, `TFLITE_SINGLE_ROUNDING` off, as TFLite Micro builds), because a multiplier
//! that differs in its last bit gives outputs that differ from TFLite Micro's.

/// A requantisation multiplier: `x * multiplier / 2^31 * 2^shift` (shift > 0 is a left shift).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Multiplier {
    pub multiplier: i32,
    pub shift: i32,
}

/// `QuantizeMultiplier`: the Q0.31 significand of `m` and its binary exponent.
pub fn quantize_multiplier(m: f64) -> Multiplier {
    if m == 0.0 || !m.is_finite() {
        return Multiplier {
            multiplier: 0,
            shift: 0,
        };
    }
    let (q, mut shift) = frexp(m);
    // std::round: half away from zero, as f64::round.
    let mut q_fixed = (q * (1i64 << 31) as f64).round() as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        shift = 0;
        q_fixed = 0;
    }
    Multiplier {
        multiplier: q_fixed as i32,
        shift,
    }
}

/// `std::frexp`: `x = q * 2^e` with `0.5 <= |q| < 1`.
pub fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale up first.
        let (q, e) = frexp(x * f64::from(1u32 << 31) * f64::from(1u32 << 23));
        return (q, e - 54);
    }
    let e = exp - 1022;
    let q = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (q, e)
}

/// `TfLiteRound` on a float: half away from zero.
fn round_f32(x: f32) -> i32 {
    x.round() as i32
}

/// `CalculateActivationRangeQuantized` for int8: the clamp a fused activation becomes.
pub fn activation_range(
    activation: crate::tflite::Activation,
    scale: f32,
    zero_point: i32,
) -> (i32, i32) {
    use crate::tflite::Activation;
    let quantize = |f: f32| zero_point.saturating_add(round_f32(f / scale));
    let (qmin, qmax) = (-128, 127);
    match activation {
        Activation::Relu => (qmin.max(quantize(0.0)), qmax),
        Activation::Relu6 => (qmin.max(quantize(0.0)), qmax.min(quantize(6.0))),
        Activation::ReluN1To1 => (qmin.max(quantize(-1.0)), qmax.min(quantize(1.0))),
        Activation::None | Activation::Other(_) => (qmin, qmax),
    }
}

/// `CalculateInputRadius`: the largest input difference that does not overflow once scaled.
pub fn input_radius(integer_bits: i32, left_shift: i32) -> i32 {
    let max_input_rescaled = f64::from((1i32 << integer_bits) - 1)
        * (1i64 << (31 - integer_bits)) as f64
        / (1i64 << left_shift.clamp(0, 62)) as f64;
    max_input_rescaled.floor() as i32
}

/// Softmax's input scaling (`PreprocessSoftmaxScaling` with 5 integer bits) and `diff_min`.
pub fn softmax(beta: f32, input_scale: f32) -> (Multiplier, i32) {
    const SCALED_DIFF_INTEGER_BITS: i32 = 5;
    let real = (f64::from(beta)
        * f64::from(input_scale)
        * f64::from(1u32 << (31 - SCALED_DIFF_INTEGER_BITS)))
    .min((1i64 << 31) as f64 - 1.0);
    let m = quantize_multiplier(real);
    let diff_min = -input_radius(SCALED_DIFF_INTEGER_BITS, m.shift);
    (m, diff_min)
}

/// LOGISTIC and TANH input scaling to Q4.27 (TFLite Micro's `CalculateArithmeticOpData`
/// and `LogisticPrepare`): multiplier, left shift and input range radius.
pub fn q4_activation(input_scale: f32) -> (Multiplier, i32) {
    const INPUT_INTEGER_BITS: i32 = 4;
    let real = f64::from(input_scale) * f64::from(1u32 << (31 - INPUT_INTEGER_BITS));
    let (q, shift) = frexp(real);
    // TfLiteRound(q * 2^31) without QuantizeMultiplier's 2^31 fix-up, as the kernels' Prepare.
    let multiplier = (q * (1i64 << 31) as f64).round() as i64;
    let m = Multiplier {
        multiplier: multiplier.min(i64::from(i32::MAX)) as i32,
        shift,
    };
    (m, input_radius(INPUT_INTEGER_BITS, shift))
}

/// ADD's scaling (TFLite Micro `add_common.cc`, int8): inputs to a common scale with 20 bits of
/// headroom, then to the output.
pub struct AddScaling {
    pub left_shift: i32,
    pub input1: Multiplier,
    pub input2: Multiplier,
    pub output: Multiplier,
}

pub fn add(input1_scale: f32, input2_scale: f32, output_scale: f32) -> AddScaling {
    let left_shift = 20;
    let twice_max = 2.0 * f64::from(input1_scale.max(input2_scale));
    AddScaling {
        left_shift,
        input1: quantize_multiplier(f64::from(input1_scale) / twice_max),
        input2: quantize_multiplier(f64::from(input2_scale) / twice_max),
        output: quantize_multiplier(
            twice_max / (f64::from(1u32 << left_shift) * f64::from(output_scale)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_matches_the_c_library() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        // Subnormal: 1e-310 = 0.7277... * 2^-1029.
        let (q, e) = frexp(1e-310);
        assert_eq!(e, -1029);
        assert!((0.5..1.0).contains(&q));
        assert_eq!(q * 2f64.powi(-1000) * 2f64.powi(-29), 1e-310);
    }

    #[test]
    fn quantize_multiplier_known_values() {
        assert_eq!(
            quantize_multiplier(0.5),
            Multiplier {
                multiplier: 1 << 30,
                shift: 0
            }
        );
        assert_eq!(
            quantize_multiplier(1.0),
            Multiplier {
                multiplier: 1 << 30,
                shift: 1
            }
        );
        assert_eq!(
            quantize_multiplier(0.0),
            Multiplier {
                multiplier: 0,
                shift: 0
            }
        );
        // Rounds up to 2^31: halved, exponent one more.
        let m = quantize_multiplier(1.0 - 1e-12);
        assert_eq!(
            m,
            Multiplier {
                multiplier: 1 << 30,
                shift: 1
            }
        );
        // Too small to represent: zero.
        assert_eq!(quantize_multiplier(1e-12).multiplier, 0);
    }

    #[test]
    fn activation_ranges() {
        use crate::tflite::Activation;
        assert_eq!(activation_range(Activation::None, 0.1, 3), (-128, 127));
        assert_eq!(activation_range(Activation::Relu, 0.1, -5), (-5, 127));
        assert_eq!(activation_range(Activation::Relu6, 0.1, -128), (-128, -68));
        assert_eq!(
            activation_range(Activation::ReluN1To1, 0.01, 0),
            (-100, 100)
        );
    }

    #[test]
    fn radius_and_softmax() {
        // 15 * 2^27 / 2^24 = 120 (the well-known Q4 radius for a 1/16 input scale).
        assert_eq!(input_radius(4, 24), 120);
        let (m, diff_min) = softmax(1.0, 1.0 / 16.0);
        assert_eq!(m.multiplier, 1 << 30);
        assert!(diff_min < 0);
    }
}
