//! Properties: every optimised variant equals the reference kernel, over random shapes, strides,
//! dilations, paddings, zero points, multipliers, shifts, activations and data. The reference
//! kernels are themselves checked against TensorFlow Lite Micro in `models.rs`.

use mcusim_kernels::{self as k, Activation, ChannelQuant, Dims, Variant};
use proptest::prelude::*;

const OPTIMISED: [Variant; 3] = [Variant::Dispatch, Variant::Dsp, Variant::Generic];

fn out_size(input: i32, filter: i32, stride: i32, dilation: i32, pad: i32) -> i32 {
    let effective = (filter - 1) * dilation + 1;
    (input + 2 * pad - effective).div_euclid(stride) + 1
}

fn activation() -> impl Strategy<Value = Activation> {
    prop_oneof![
        Just(Activation {
            min: -128,
            max: 127
        }),
        (-128i32..=0).prop_map(|min| Activation { min, max: 127 }),
        (-128i32..-10, 10i32..=127).prop_map(|(min, max)| Activation { min, max }),
    ]
}

fn quant(channels: usize) -> impl Strategy<Value = ChannelQuant> {
    (
        proptest::collection::vec((1i32 << 30)..=i32::MAX, channels),
        proptest::collection::vec(-14i32..=2, channels),
    )
        .prop_map(|(multiplier, shift)| ChannelQuant { multiplier, shift })
}

fn data(len: usize) -> impl Strategy<Value = Vec<i8>> {
    proptest::collection::vec(any::<i8>(), len)
}

#[derive(Debug, Clone)]
struct ConvCase {
    params: k::ConvParams,
    input_dims: Dims,
    filter_dims: Dims,
    output_dims: Dims,
}

fn conv_case() -> impl Strategy<Value = ConvCase> {
    (
        (1i32..=2, 1i32..=10, 1i32..=10, 1i32..=20),
        (1i32..=12, 1i32..=4, 1i32..=4),
        (1i32..=3, 1i32..=3, 1i32..=2, 1i32..=2),
        (0i32..=3, 0i32..=3),
        (-127i32..=128, -128i32..=127),
        activation(),
    )
        .prop_filter_map(
            "output would be empty",
            |((n, h, w, c), (oc, kh, kw), (sh, sw, dh, dw), (ph, pw), (io, oo), act)| {
                let (oh, ow) = (out_size(h, kh, sh, dh, ph), out_size(w, kw, sw, dw, pw));
                (oh > 0 && ow > 0 && ph < kh && pw < kw).then(|| ConvCase {
                    params: k::ConvParams {
                        input_offset: io,
                        output_offset: oo,
                        stride_h: sh,
                        stride_w: sw,
                        pad_h: ph,
                        pad_w: pw,
                        dilation_h: dh,
                        dilation_w: dw,
                        activation: act,
                    },
                    input_dims: Dims::new(n, h, w, c),
                    filter_dims: Dims::new(oc, kh, kw, c),
                    output_dims: Dims::new(n, oh, ow, oc),
                })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn conv_variants_equal_the_reference(
        (case, input, filter, q, bias) in conv_case().prop_flat_map(|case| {
            let oc = case.output_dims.c as usize;
            (
                Just(case.clone()),
                data(case.input_dims.len()),
                data(case.filter_dims.len()),
                quant(oc),
                proptest::option::of(proptest::collection::vec(-100_000i32..100_000, oc)),
            )
        })
    ) {
        let run = |v| k::conv(v, &case.params, &q, case.input_dims, &input, case.filter_dims, &filter, bias.as_deref(), case.output_dims).unwrap();
        let reference = run(Variant::Reference);
        for v in OPTIMISED {
            prop_assert_eq!(&run(v), &reference, "{:?}", v);
        }
    }

    #[test]
    fn depthwise_variants_equal_the_reference(
        (n, h, w, c) in (1i32..=2, 1i32..=12, 1i32..=12, 1i32..=20),
        (kh, kw, sh, sw) in (1i32..=3, 1i32..=3, 1i32..=2, 1i32..=2),
        (dh, dw, ph, pw) in (1i32..=2, 1i32..=2, 0i32..=2, 0i32..=2),
        mult in prop_oneof![4 => Just(1i32), 1 => 2i32..=3],
        (io, oo) in (-127i32..=128, -128i32..=127),
        act in activation(),
        seed in any::<u64>(),
    ) {
        let (oh, ow) = (out_size(h, kh, sh, dh, ph), out_size(w, kw, sw, dw, pw));
        prop_assume!(oh > 0 && ow > 0 && ph < kh && pw < kw);
        let oc = c * mult;
        let mut rng = proptest::test_runner::TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &seed.to_le_bytes().repeat(4));
        let mut bytes = |len: usize| -> Vec<i8> { (0..len).map(|_| rng.random::<i8>()).collect() };
        let input = bytes((n * h * w * c) as usize);
        let filter = bytes((kh * kw * oc) as usize);
        let q = ChannelQuant {
            multiplier: bytes(oc as usize).iter().map(|&b| (1 << 30) + (i32::from(b) << 22).abs()).collect(),
            shift: bytes(oc as usize).iter().map(|&b| i32::from(b).rem_euclid(12) - 11).collect(),
        };
        let bias: Vec<i32> = bytes(oc as usize).iter().map(|&b| i32::from(b) * 331).collect();
        let params = k::DwConvParams {
            input_offset: io, output_offset: oo, depth_multiplier: mult,
            stride_h: sh, stride_w: sw, pad_h: ph, pad_w: pw, dilation_h: dh, dilation_w: dw, activation: act,
        };
        let (id, fd, od) = (Dims::new(n, h, w, c), Dims::new(1, kh, kw, oc), Dims::new(n, oh, ow, oc));
        let run = |v| k::depthwise_conv(v, &params, &q, id, &input, fd, &filter, Some(&bias), od).unwrap();
        let reference = run(Variant::Reference);
        prop_assert_eq!(&run(Variant::Dispatch), &reference);
        if mult == 1 {
            prop_assert_eq!(&run(Variant::Dsp), &reference);
        }
    }

    #[test]
    fn fully_connected_variants_equal_the_reference(
        (batches, depth, outputs) in (1i32..=3, 1i32..=300, 1i32..=24),
        (io, oo) in (-127i32..=128, -128i32..=127),
        per_channel in any::<bool>(),
        act in activation(),
        seed in any::<u64>(),
    ) {
        let mut rng = proptest::test_runner::TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &seed.to_le_bytes().repeat(4));
        let mut bytes = |len: usize| -> Vec<i8> { (0..len).map(|_| rng.random::<i8>()).collect() };
        let input = bytes((batches * depth) as usize);
        let weights = bytes((outputs * depth) as usize);
        let nq = if per_channel { outputs as usize } else { 1 };
        let q = ChannelQuant {
            multiplier: bytes(nq).iter().map(|&b| (1 << 30) + (i32::from(b) << 22).abs()).collect(),
            shift: bytes(nq).iter().map(|&b| i32::from(b).rem_euclid(14) - 13).collect(),
        };
        let params = k::FcParams { input_offset: io, filter_offset: 0, output_offset: oo, activation: act };
        let (id, fd) = (Dims::new(batches, 1, 1, depth), Dims::new(outputs, 1, 1, depth));
        let run = |v| k::fully_connected(v, &params, &q, per_channel, id, &input, fd, &weights, None).unwrap();
        let reference = run(Variant::Reference);
        for v in OPTIMISED {
            prop_assert_eq!(&run(v), &reference, "{:?}", v);
        }
    }

    #[test]
    fn pools_equal_the_reference(
        (n, h, w, c) in (1i32..=2, 1i32..=12, 1i32..=12, 1i32..=16),
        (fh, fw, sh, sw) in (1i32..=4, 1i32..=4, 1i32..=3, 1i32..=3),
        (ph, pw) in (0i32..=2, 0i32..=2),
        act in activation(),
        input in data(2 * 12 * 12 * 16),
    ) {
        prop_assume!(fh <= h && fw <= w && ph < fh && pw < fw);
        let (oh, ow) = (out_size(h, fh, sh, 1, ph), out_size(w, fw, sw, 1, pw));
        let params = k::PoolParams { stride_h: sh, stride_w: sw, pad_h: ph, pad_w: pw, filter_h: fh, filter_w: fw, activation: act };
        let (id, od) = (Dims::new(n, h, w, c), Dims::new(n, oh, ow, c));
        for average in [true, false] {
            let reference = k::pool(Variant::Reference, average, &params, id, &input, od).unwrap();
            prop_assert_eq!(k::pool(Variant::Dispatch, average, &params, id, &input, od).unwrap(), reference);
        }
    }

    #[test]
    fn add_and_mul_equal_the_reference(
        (n, h, w, c) in (1i32..=2, 1i32..=6, 1i32..=6, 1i32..=9),
        broadcast in proptest::collection::vec(any::<bool>(), 4),
        (o1, o2, oo) in (-127i32..=128, -127i32..=128, -128i32..=127),
        (m1, m2, mo) in ((1i32 << 30)..=i32::MAX, (1i32 << 30)..=i32::MAX, (1i32 << 30)..=i32::MAX),
        (s1, s2, so, ms) in (-3i32..=0, -3i32..=0, -22i32..=-15, -10i32..=-3),
        act in activation(),
        a in data(2 * 6 * 6 * 9),
        b in data(2 * 6 * 6 * 9),
    ) {
        let out = Dims::new(n, h, w, c);
        let pick = |i: usize, d: i32| if broadcast[i] { 1 } else { d };
        let bd = Dims::new(pick(0, n), pick(1, h), pick(2, w), pick(3, c));
        let add = k::AddParams {
            input1_offset: o1, input1_multiplier: m1, input1_shift: s1,
            input2_offset: o2, input2_multiplier: m2, input2_shift: s2,
            left_shift: 20, output_offset: oo, output_multiplier: mo, output_shift: so, activation: act,
        };
        let reference = k::add(Variant::Reference, &add, out, &a, bd, &b, out).unwrap();
        prop_assert_eq!(k::add(Variant::Dispatch, &add, out, &a, bd, &b, out).unwrap(), reference);
        let mul = k::MulParams { input1_offset: o1, input2_offset: o2, output_offset: oo, output_multiplier: mo, output_shift: ms, activation: act };
        let reference = k::mul(Variant::Reference, &mul, out, &a, bd, &b, out).unwrap();
        prop_assert_eq!(k::mul(Variant::Dispatch, &mul, out, &a, bd, &b, out).unwrap(), reference);
    }

    #[test]
    fn softmax_equals_the_reference(
        rows in 1usize..=4,
        row_size in prop_oneof![1usize..=20, 64usize..=300],
        multiplier in (1i32 << 30)..=i32::MAX,
        shift in 16i32..=27,
        input in data(4 * 300),
    ) {
        let diff_min = -(((31i64 << 26) >> shift) as i32);
        let params = k::SoftmaxParams { input_multiplier: multiplier, input_left_shift: shift, diff_min };
        let x = &input[..rows * row_size];
        let reference = k::softmax(Variant::Reference, &params, row_size, x).unwrap();
        prop_assert_eq!(&k::softmax(Variant::Dispatch, &params, row_size, x).unwrap(), &reference);
        // A softmax row sums to about one (256 in output units, offset -128 each).
        for row in reference.chunks(row_size) {
            let sum: i32 = row.iter().map(|&v| i32::from(v) + 128).sum();
            prop_assert!((sum - 256).abs() <= row_size as i32, "row sums to {}", sum);
        }
    }

    #[test]
    fn logistic_and_tanh_equal_the_reference(
        size in prop_oneof![1usize..=100, 257usize..=700],
        offset in -127i32..=128,
        multiplier in (1i32 << 30)..=i32::MAX,
        shift in 19i32..=27,
        input in data(700),
    ) {
        let params = k::ActivationFnParams {
            input_offset: offset, input_multiplier: multiplier, input_left_shift: shift,
            input_range_radius: ((15i64 << 27) >> shift) as i32,
        };
        let x = &input[..size];
        for tanh in [false, true] {
            let reference = k::activation(Variant::Reference, tanh, &params, x).unwrap();
            prop_assert_eq!(k::activation(Variant::Dispatch, tanh, &params, x).unwrap(), reference);
        }
    }
}

proptest! {
    #[test]
    fn pad_and_concatenation_equal_the_reference(
        (n, h, w, c) in (1i32..=2, 1i32..=6, 1i32..=6, 1i32..=9),
        before in proptest::array::uniform4(0i32..=3),
        after in proptest::array::uniform4(0i32..=3),
        value in any::<i8>(),
        (outer, inner_a, inner_b) in (0i32..=5, 0i32..=40, 1i32..=40),
        input in data(2 * 6 * 6 * 9),
    ) {
        let dims = Dims::new(n, h, w, c);
        let x = &input[..dims.len()];
        let reference = k::pad(Variant::Reference, dims, x, before, after, value).unwrap();
        prop_assert_eq!(k::pad(Variant::Dispatch, dims, x, before, after, value).unwrap(), reference);
        let a = &input[..(outer * inner_a) as usize];
        let b = &input[..(outer * inner_b) as usize];
        let reference = k::concatenation(Variant::Reference, &[a, b], &[inner_a, inner_b], outer).unwrap();
        prop_assert_eq!(k::concatenation(Variant::Dispatch, &[a, b], &[inner_a, inner_b], outer).unwrap(), reference);
    }
}

#[test]
fn logistic_and_tanh_are_monotonic_and_centred() {
    // Input scale 1/16, zero point 0: multiplier 2^30, shift 24, radius 120 (quant::q4_activation).
    let params = k::ActivationFnParams {
        input_offset: 0,
        input_multiplier: 1 << 30,
        input_left_shift: 24,
        input_range_radius: 120,
    };
    let x: Vec<i8> = (-128..=127).collect();
    let sigmoid = k::activation(Variant::Reference, false, &params, &x).unwrap();
    let tanh = k::activation(Variant::Reference, true, &params, &x).unwrap();
    assert!(sigmoid.windows(2).all(|w| w[0] <= w[1]));
    assert!(tanh.windows(2).all(|w| w[0] <= w[1]));
    // sigmoid(0) = 0.5 -> 0 in output units (scale 1/256, zero point -128); tanh(0) = 0.
    assert_eq!(sigmoid[128], 0);
    assert_eq!(tanh[128], 0);
    // sigmoid(1.0) = 0.731 -> round(0.731 * 256) - 128 = 59; tanh(1.0) = 0.7616 -> 97 (scale 1/128).
    assert_eq!(sigmoid[128 + 16], 59);
    assert_eq!(tanh[128 + 16], 97);
}

#[test]
fn the_c_selfcheck_finds_no_mismatch() {
    let r = k::selfcheck(20261122, 350);
    assert_eq!(r.cases, 350);
    assert_eq!((r.mismatches, r.first_bad), (0, -1), "{r:?}");
}

#[test]
fn quantize_and_dequantize_round_trip() {
    let x: Vec<f32> = (-300..300).map(|i| i as f32 * 0.037).collect();
    let q = k::quantize(0.05, 3, &x);
    let back = k::dequantize(0.05, 3, &q);
    for (a, b) in x.iter().zip(&back) {
        let in_range = ((a / 0.05).round() + 3.0).abs() <= 127.0;
        if in_range {
            assert!((a - b).abs() <= 0.025 + 1e-6, "{a} -> {b}");
        }
    }
    // Ties round away from zero: 0.025 / 0.05 = 0.5 -> 1.
    assert_eq!(k::quantize(0.05, 0, &[0.025, -0.025]), vec![1, -1]);
}
