//! The `mnn` int8 kernel library (C, in `kernels/src`), compiled for the host, with safe
//! wrappers. The same C runs in the firmware mcusim simulates; on the host it is the fast way
//! to test the kernels (against TensorFlow Lite Micro's vectors and each other) and the engine
//! of mcusim's reference interpreter.
//!
//! Every wrapper checks slice lengths against the dimensions before calling C, so no call can
//! read or write out of bounds; a kernel's own argument error comes back as [`KernelError`].
#![allow(unsafe_code)] // The FFI boundary; each call is preceded by the size checks it relies on.

mod ffi;

pub use ffi::{
    mnn_activation as Activation, mnn_activation_fn_params as ActivationFnParams,
    mnn_add_params as AddParams, mnn_conv_params as ConvParams, mnn_dims as Dims,
    mnn_dw_conv_params as DwConvParams, mnn_fc_params as FcParams, mnn_mul_params as MulParams,
    mnn_pool_params as PoolParams, mnn_softmax_params as SoftmaxParams,
};

/// A kernel refused its arguments (`MNN_ARG_ERROR`), or a slice did not match the dimensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError(pub String);

impl std::error::Error for KernelError {}

impl std::fmt::Display for KernelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Dims {
    pub fn new(n: i32, h: i32, w: i32, c: i32) -> Dims {
        Dims { n, h, w, c }
    }

    /// The number of elements (0 if any dimension is negative).
    pub fn len(&self) -> usize {
        [self.n, self.h, self.w, self.c]
            .iter()
            .map(|&d| usize::try_from(d).unwrap_or(0))
            .product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which implementation of an operator to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The plain reference kernel (`*_ref`).
    Reference,
    /// The dispatching entry point, as firmware calls it (on the host: the non-DSP choice).
    Dispatch,
    /// The DSP-extension variant, with its intrinsics emulated in C.
    Dsp,
    /// The portable variant for cores without DSP.
    Generic,
}

fn check_len(what: &str, got: usize, want: usize) -> Result<(), KernelError> {
    if got < want {
        return Err(KernelError(format!(
            "{what}: {got} elements, the dimensions need {want}"
        )));
    }
    Ok(())
}

fn status(s: i32, what: &str) -> Result<(), KernelError> {
    if s == 0 {
        Ok(())
    } else {
        Err(KernelError(format!(
            "{what}: the kernel refused its arguments (status {s})"
        )))
    }
}

/// Per-output-channel requantisation: `multiplier[c]`, `shift[c]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelQuant {
    pub multiplier: Vec<i32>,
    pub shift: Vec<i32>,
}

impl ChannelQuant {
    fn ffi(&self, channels: usize, what: &str) -> Result<ffi::mnn_per_channel_quant, KernelError> {
        check_len(what, self.multiplier.len().min(self.shift.len()), channels)?;
        Ok(ffi::mnn_per_channel_quant {
            multiplier: self.multiplier.as_ptr(),
            shift: self.shift.as_ptr(),
        })
    }
}

fn bias_ptr(bias: Option<&[i32]>, channels: usize, what: &str) -> Result<*const i32, KernelError> {
    match bias {
        Some(b) => {
            check_len(what, b.len(), channels)?;
            Ok(b.as_ptr())
        }
        None => Ok(std::ptr::null()),
    }
}

/// Scratch memory of `bytes` bytes, 4-byte aligned.
fn scratch(bytes: i32) -> Vec<u32> {
    vec![0u32; usize::try_from(bytes).unwrap_or(0).div_ceil(4)]
}

fn context(buf: &mut [u32]) -> ffi::mnn_context {
    ffi::mnn_context {
        buf: buf.as_mut_ptr().cast(),
        size: i32::try_from(buf.len() * 4).unwrap_or(i32::MAX),
    }
}

/// CONV_2D. `filter` is OHWI; the output has `output_dims` elements.
#[allow(clippy::too_many_arguments)]
pub fn conv(
    variant: Variant,
    params: &ConvParams,
    quant: &ChannelQuant,
    input_dims: Dims,
    input: &[i8],
    filter_dims: Dims,
    filter: &[i8],
    bias: Option<&[i32]>,
    output_dims: Dims,
) -> Result<Vec<i8>, KernelError> {
    check_len("conv input", input.len(), input_dims.len())?;
    check_len("conv filter", filter.len(), filter_dims.len())?;
    if filter_dims.n != output_dims.c || input_dims.n != output_dims.n || filter_dims.c <= 0 {
        return Err(KernelError("conv: dimensions do not agree".into()));
    }
    let q = quant.ffi(output_dims.c as usize, "conv quant")?;
    let b = bias_ptr(bias, output_dims.c as usize, "conv bias")?;
    let mut out = vec![0i8; output_dims.len()];
    // SAFETY (all calls): slices are at least as long as the dimensions say; scratch is sized
    // by the kernel's own get_buffer_size.
    let s = unsafe {
        match variant {
            Variant::Reference => ffi::mnn_conv_s8_ref(
                params,
                &q,
                &input_dims,
                input.as_ptr(),
                &filter_dims,
                filter.as_ptr(),
                b,
                &output_dims,
                out.as_mut_ptr(),
            ),
            Variant::Dispatch => {
                let mut buf = scratch(ffi::mnn_conv_s8_get_buffer_size(
                    params,
                    &input_dims,
                    &filter_dims,
                    &output_dims,
                ));
                ffi::mnn_conv_s8(
                    &context(&mut buf),
                    params,
                    &q,
                    &input_dims,
                    input.as_ptr(),
                    &filter_dims,
                    filter.as_ptr(),
                    b,
                    &output_dims,
                    out.as_mut_ptr(),
                )
            }
            Variant::Dsp => {
                let mut buf = scratch(ffi::mnn_conv_s8_dsp_get_buffer_size(
                    &input_dims,
                    &filter_dims,
                ));
                ffi::mnn_conv_s8_dsp(
                    &context(&mut buf),
                    params,
                    &q,
                    &input_dims,
                    input.as_ptr(),
                    &filter_dims,
                    filter.as_ptr(),
                    b,
                    &output_dims,
                    out.as_mut_ptr(),
                )
            }
            Variant::Generic => {
                let mut buf = scratch(ffi::mnn_conv_s8_generic_get_buffer_size(
                    &input_dims,
                    &filter_dims,
                ));
                ffi::mnn_conv_s8_generic(
                    &context(&mut buf),
                    params,
                    &q,
                    &input_dims,
                    input.as_ptr(),
                    &filter_dims,
                    filter.as_ptr(),
                    b,
                    &output_dims,
                    out.as_mut_ptr(),
                )
            }
        }
    };
    status(s, "conv")?;
    Ok(out)
}

/// DEPTHWISE_CONV_2D. `Dsp` and `Generic` both mean the depth-multiplier-1 optimised kernel,
/// `Dsp` given room for its padded stripes and `Generic` only its minimum scratch (other
/// multipliers: the dispatcher).
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv(
    variant: Variant,
    params: &DwConvParams,
    quant: &ChannelQuant,
    input_dims: Dims,
    input: &[i8],
    filter_dims: Dims,
    filter: &[i8],
    bias: Option<&[i32]>,
    output_dims: Dims,
) -> Result<Vec<i8>, KernelError> {
    check_len("depthwise input", input.len(), input_dims.len())?;
    check_len("depthwise filter", filter.len(), filter_dims.len())?;
    if filter_dims.c != output_dims.c
        || input_dims.n != output_dims.n
        || output_dims.c != input_dims.c * params.depth_multiplier
    {
        return Err(KernelError("depthwise: dimensions do not agree".into()));
    }
    let q = quant.ffi(output_dims.c as usize, "depthwise quant")?;
    let b = bias_ptr(bias, output_dims.c as usize, "depthwise bias")?;
    let mut out = vec![0i8; output_dims.len()];
    // SAFETY: as in `conv`.
    let s = unsafe {
        match variant {
            Variant::Reference => ffi::mnn_depthwise_conv_s8_ref(
                params,
                &q,
                &input_dims,
                input.as_ptr(),
                &filter_dims,
                filter.as_ptr(),
                b,
                &output_dims,
                out.as_mut_ptr(),
            ),
            // The optimised kernel takes depth multiplier 1; others go through the dispatcher.
            Variant::Dispatch | Variant::Dsp | Variant::Generic
                if params.depth_multiplier != 1 || variant == Variant::Dispatch =>
            {
                let mut buf = scratch(ffi::mnn_depthwise_conv_s8_get_buffer_size(
                    params,
                    &input_dims,
                    &filter_dims,
                    &output_dims,
                ));
                ffi::mnn_depthwise_conv_s8(
                    &context(&mut buf),
                    params,
                    &q,
                    &input_dims,
                    input.as_ptr(),
                    &filter_dims,
                    filter.as_ptr(),
                    b,
                    &output_dims,
                    out.as_mut_ptr(),
                )
            }
            Variant::Dispatch | Variant::Dsp | Variant::Generic => {
                // Dsp: with room for the padded stripes; Generic: the minimum (clipped borders).
                let min = ffi::mnn_depthwise_conv_s8_opt_get_buffer_size(&filter_dims);
                let stripe = ffi::mnn_depthwise_conv_s8_opt_get_stripe_size(
                    params,
                    &input_dims,
                    &filter_dims,
                    &output_dims,
                );
                let mut buf = scratch(if variant == Variant::Dsp {
                    min + stripe
                } else {
                    min
                });
                ffi::mnn_depthwise_conv_s8_opt(
                    &context(&mut buf),
                    params,
                    &q,
                    &input_dims,
                    input.as_ptr(),
                    &filter_dims,
                    filter.as_ptr(),
                    b,
                    &output_dims,
                    out.as_mut_ptr(),
                )
            }
        }
    };
    status(s, "depthwise")?;
    Ok(out)
}

/// FULLY_CONNECTED. `input_dims`: n = batches, c = features; `filter_dims`: n = outputs,
/// c = features. `per_channel`: one multiplier per output (else `quant` has one entry).
#[allow(clippy::too_many_arguments)]
pub fn fully_connected(
    variant: Variant,
    params: &FcParams,
    quant: &ChannelQuant,
    per_channel: bool,
    input_dims: Dims,
    input: &[i8],
    filter_dims: Dims,
    weights: &[i8],
    bias: Option<&[i32]>,
) -> Result<Vec<i8>, KernelError> {
    check_len("fully connected input", input.len(), input_dims.len())?;
    check_len("fully connected weights", weights.len(), filter_dims.len())?;
    if input_dims.c != filter_dims.c {
        return Err(KernelError(
            "fully connected: dimensions do not agree".into(),
        ));
    }
    let outputs = filter_dims.n as usize;
    let q = quant.ffi(
        if per_channel { outputs } else { 1 },
        "fully connected quant",
    )?;
    let b = bias_ptr(bias, outputs, "fully connected bias")?;
    let mut out = vec![0i8; input_dims.n.max(0) as usize * outputs];
    let pc = i32::from(per_channel);
    // SAFETY: as in `conv`.
    let s = unsafe {
        match variant {
            Variant::Reference => ffi::mnn_fully_connected_s8_ref(
                params,
                &q,
                pc,
                &input_dims,
                input.as_ptr(),
                &filter_dims,
                weights.as_ptr(),
                b,
                out.as_mut_ptr(),
            ),
            Variant::Dispatch => {
                let mut buf = scratch(ffi::mnn_fully_connected_s8_get_buffer_size(&filter_dims));
                ffi::mnn_fully_connected_s8(
                    &context(&mut buf),
                    params,
                    &q,
                    pc,
                    &input_dims,
                    input.as_ptr(),
                    &filter_dims,
                    weights.as_ptr(),
                    b,
                    out.as_mut_ptr(),
                )
            }
            Variant::Dsp | Variant::Generic => {
                let mut buf = scratch(ffi::mnn_fully_connected_s8_dsp_get_buffer_size(
                    &filter_dims,
                ));
                ffi::mnn_fully_connected_s8_dsp(
                    &context(&mut buf),
                    params,
                    &q,
                    pc,
                    &input_dims,
                    input.as_ptr(),
                    &filter_dims,
                    weights.as_ptr(),
                    b,
                    out.as_mut_ptr(),
                )
            }
        }
    };
    status(s, "fully connected")?;
    Ok(out)
}

/// AVERAGE_POOL_2D (`average`) or MAX_POOL_2D.
pub fn pool(
    variant: Variant,
    average: bool,
    params: &PoolParams,
    input_dims: Dims,
    input: &[i8],
    output_dims: Dims,
) -> Result<Vec<i8>, KernelError> {
    check_len("pool input", input.len(), input_dims.len())?;
    if input_dims.c != output_dims.c || input_dims.n != output_dims.n {
        return Err(KernelError("pool: dimensions do not agree".into()));
    }
    let mut out = vec![0i8; output_dims.len()];
    let reference = variant == Variant::Reference;
    // SAFETY: as in `conv`.
    let s = unsafe {
        let f = match (average, reference) {
            (true, true) => ffi::mnn_avgpool_s8_ref,
            (true, false) => ffi::mnn_avgpool_s8,
            (false, true) => ffi::mnn_maxpool_s8_ref,
            (false, false) => ffi::mnn_maxpool_s8,
        };
        f(
            params,
            &input_dims,
            input.as_ptr(),
            &output_dims,
            out.as_mut_ptr(),
        )
    };
    status(s, "pool")?;
    Ok(out)
}

fn check_broadcast(what: &str, d: Dims, out: Dims) -> Result<(), KernelError> {
    let ok = [(d.n, out.n), (d.h, out.h), (d.w, out.w), (d.c, out.c)]
        .iter()
        .all(|&(a, o)| a == o || a == 1);
    if ok {
        Ok(())
    } else {
        Err(KernelError(format!("{what}: shapes do not broadcast")))
    }
}

/// ADD with broadcast.
pub fn add(
    variant: Variant,
    params: &AddParams,
    a_dims: Dims,
    a: &[i8],
    b_dims: Dims,
    b: &[i8],
    output_dims: Dims,
) -> Result<Vec<i8>, KernelError> {
    check_len("add input 1", a.len(), a_dims.len())?;
    check_len("add input 2", b.len(), b_dims.len())?;
    check_broadcast("add", a_dims, output_dims)?;
    check_broadcast("add", b_dims, output_dims)?;
    let mut out = vec![0i8; output_dims.len()];
    // SAFETY: as in `conv`.
    let s = unsafe {
        let f = if variant == Variant::Reference {
            ffi::mnn_add_s8_ref
        } else {
            ffi::mnn_add_s8
        };
        f(
            params,
            &a_dims,
            a.as_ptr(),
            &b_dims,
            b.as_ptr(),
            &output_dims,
            out.as_mut_ptr(),
        )
    };
    status(s, "add")?;
    Ok(out)
}

/// MUL with broadcast.
pub fn mul(
    variant: Variant,
    params: &MulParams,
    a_dims: Dims,
    a: &[i8],
    b_dims: Dims,
    b: &[i8],
    output_dims: Dims,
) -> Result<Vec<i8>, KernelError> {
    check_len("mul input 1", a.len(), a_dims.len())?;
    check_len("mul input 2", b.len(), b_dims.len())?;
    check_broadcast("mul", a_dims, output_dims)?;
    check_broadcast("mul", b_dims, output_dims)?;
    let mut out = vec![0i8; output_dims.len()];
    // SAFETY: as in `conv`.
    let s = unsafe {
        let f = if variant == Variant::Reference {
            ffi::mnn_mul_s8_ref
        } else {
            ffi::mnn_mul_s8
        };
        f(
            params,
            &a_dims,
            a.as_ptr(),
            &b_dims,
            b.as_ptr(),
            &output_dims,
            out.as_mut_ptr(),
        )
    };
    status(s, "mul")?;
    Ok(out)
}

/// SOFTMAX over rows of `row_size`.
pub fn softmax(
    variant: Variant,
    params: &SoftmaxParams,
    row_size: usize,
    input: &[i8],
) -> Result<Vec<i8>, KernelError> {
    if row_size == 0 || !input.len().is_multiple_of(row_size) {
        return Err(KernelError("softmax: the input is not whole rows".into()));
    }
    let rows = i32::try_from(input.len() / row_size)
        .map_err(|_| KernelError("softmax: too large".into()))?;
    let mut out = vec![0i8; input.len()];
    // SAFETY: rows * row_size == input.len() == out.len().
    let s = unsafe {
        let f = if variant == Variant::Reference {
            ffi::mnn_softmax_s8_ref
        } else {
            ffi::mnn_softmax_s8
        };
        f(
            params,
            rows,
            row_size as i32,
            input.as_ptr(),
            out.as_mut_ptr(),
        )
    };
    status(s, "softmax")?;
    Ok(out)
}

/// LOGISTIC (`tanh` false) or TANH.
pub fn activation(
    variant: Variant,
    tanh: bool,
    params: &ActivationFnParams,
    input: &[i8],
) -> Result<Vec<i8>, KernelError> {
    let size =
        i32::try_from(input.len()).map_err(|_| KernelError("activation: too large".into()))?;
    let mut out = vec![0i8; input.len()];
    // SAFETY: out has the input's length.
    let s = unsafe {
        let f = match (tanh, variant == Variant::Reference) {
            (false, true) => ffi::mnn_logistic_s8_ref,
            (false, false) => ffi::mnn_logistic_s8,
            (true, true) => ffi::mnn_tanh_s8_ref,
            (true, false) => ffi::mnn_tanh_s8,
        };
        f(params, size, input.as_ptr(), out.as_mut_ptr())
    };
    status(s, "activation")?;
    Ok(out)
}

/// CONCATENATION: `outer` blocks, each the concatenation of one block of every input.
pub fn concatenation(
    variant: Variant,
    inputs: &[&[i8]],
    inner: &[i32],
    outer: i32,
) -> Result<Vec<i8>, KernelError> {
    if inputs.len() != inner.len() || inputs.is_empty() || outer < 0 || inner.iter().any(|&i| i < 0)
    {
        return Err(KernelError("concatenation: arguments do not agree".into()));
    }
    for (x, &i) in inputs.iter().zip(inner) {
        check_len("concatenation input", x.len(), i as usize * outer as usize)?;
    }
    let total: usize = inner.iter().map(|&i| i as usize).sum::<usize>() * outer as usize;
    let mut out = vec![0i8; total];
    let ptrs: Vec<*const i8> = inputs.iter().map(|x| x.as_ptr()).collect();
    // SAFETY: each input holds outer * inner[i] values; out holds their sum.
    let s = unsafe {
        (if variant == Variant::Reference {
            ffi::mnn_concatenation_s8_ref
        } else {
            ffi::mnn_concatenation_s8
        })(
            inputs.len() as i32,
            ptrs.as_ptr(),
            inner.as_ptr(),
            outer,
            out.as_mut_ptr(),
        )
    };
    status(s, "concatenation")?;
    Ok(out)
}

/// PAD of the four NHWC dimensions.
pub fn pad(
    variant: Variant,
    input_dims: Dims,
    input: &[i8],
    before: [i32; 4],
    after: [i32; 4],
    value: i8,
) -> Result<Vec<i8>, KernelError> {
    check_len("pad input", input.len(), input_dims.len())?;
    if before.iter().chain(&after).any(|&p| p < 0) {
        return Err(KernelError("pad: negative padding".into()));
    }
    let d = [input_dims.n, input_dims.h, input_dims.w, input_dims.c];
    let total: usize = (0..4)
        .map(|i| (d[i] + before[i] + after[i]).max(0) as usize)
        .product();
    let mut out = vec![0i8; total];
    // SAFETY: out holds the padded size.
    let s = unsafe {
        (if variant == Variant::Reference {
            ffi::mnn_pad_s8_ref
        } else {
            ffi::mnn_pad_s8
        })(
            &input_dims,
            input.as_ptr(),
            before.as_ptr(),
            after.as_ptr(),
            value,
            out.as_mut_ptr(),
        )
    };
    status(s, "pad")?;
    Ok(out)
}

/// QUANTIZE float32 -> int8.
pub fn quantize(scale: f32, zero_point: i32, input: &[f32]) -> Vec<i8> {
    let mut out = vec![0i8; input.len()];
    // SAFETY: equal lengths.
    unsafe {
        ffi::mnn_quantize_f32_s8(
            scale,
            zero_point,
            input.len() as i32,
            input.as_ptr(),
            out.as_mut_ptr(),
        )
    };
    out
}

/// DEQUANTIZE int8 -> float32.
pub fn dequantize(scale: f64, zero_point: i32, input: &[i8]) -> Vec<f32> {
    let mut out = vec![0f32; input.len()];
    // SAFETY: equal lengths.
    unsafe {
        ffi::mnn_dequantize_s8_f32(
            scale,
            zero_point,
            input.len() as i32,
            input.as_ptr(),
            out.as_mut_ptr(),
        )
    };
    out
}

/// What the C self-check found (see `kernels/tests/selfcheck/mnn_selfcheck.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelfCheck {
    pub hash: u32,
    pub cases: i32,
    pub mismatches: i32,
    pub first_bad: i32,
}

/// Runs the C self-check on the host: the expected result of the same check in firmware.
pub fn selfcheck(seed: u32, cases: i32) -> SelfCheck {
    // The check uses static buffers: one at a time.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // SAFETY: no pointers cross; the lock serialises use of the check's static buffers.
    let r = unsafe { ffi::mnn_selfcheck(seed, cases) };
    SelfCheck {
        hash: r.hash,
        cases: r.cases,
        mismatches: r.mismatches,
        first_bad: r.first_bad,
    }
}
