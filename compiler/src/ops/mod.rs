//! The operator table: one file per operator holds everything about it — how a TFLite
//! operator lowers to its kernel's arguments (and its MACs), the C that calls the `mnn` kernel,
//! the scratch the kernel asks for, and its reference interpretation. Lowering, the planner,
//! code generation and the interpreter consult [`Operator`] and [`LOWERINGS`]; none matches on
//! operators itself.
//!
//! Adding an operator: its file here (a struct, its `lower` function, `impl Operator`), one
//! variant of [`Kernel`] with its arm in [`Kernel::operator`], and one row of [`LOWERINGS`].
//! Adding a backend (an NPU): one more method of [`Operator`] with a default where the
//! operator does not run there.

mod activation;
mod add;
mod concatenation;
mod conv;
mod depthwise;
mod fully_connected;
mod mul;
mod pad;
mod pool;
mod quantize;
mod reshape;
mod softmax;

pub use activation::{Activation, ActivationKind};
pub use add::Add;
pub use concatenation::Concatenation;
pub use conv::Conv;
pub use depthwise::DepthwiseConv;
pub use fully_connected::FullyConnected;
pub use mul::Mul;
pub use pad::Pad;
pub use pool::{Pool, PoolKind};
pub use quantize::{Dequantize, Quantize};
pub use reshape::Reshape;
pub use softmax::Softmax;

use crate::lower::{Dims, Layer, LowerError};
use crate::quant::Multiplier;
use crate::tflite::{Model, Op, Operator as TfliteOperator, Tensor};

/// The rest of a convolution's call (CONV_2D, DEPTHWISE_CONV_2D), once its `p` parameters are
/// written: the quantisation and the three shapes, then `KERNEL_ref(&p, &q, ...)` or, for the
/// optimised kernels, `KERNEL(&ctx, &p, &q, ...)` with the layer's weights and bias.
pub(crate) fn conv_call(
    c: &mut String,
    at: &CallSite<'_>,
    kernel: &str,
    [input, filter, output]: [Dims; 3],
) -> String {
    crate::codegen::quant_and_dims(
        c,
        at.pos,
        &[("in", input), ("filter", filter), ("out", output)],
    );
    let (x, weights, bias, out) = (&at.input, &at.weights, &at.bias, &at.out);
    let args = format!("&p, &q, &in, {x}, &filter, {weights}, {bias}, &out, {out}");
    if at.reference() {
        format!("{kernel}{}({args}{})", at.suffix, at.npu_formats())
    } else {
        format!("{kernel}(&ctx, {args})")
    }
}

/// The rest of a two-input elementwise kernel's call (ADD, MUL), once its `p` parameters are
/// written: the three shapes, and `KERNEL(&p, &d1, a, &d2, b, &out, y)`.
pub(crate) fn elementwise_call(
    c: &mut String,
    at: &CallSite<'_>,
    kernel: &str,
    [d1, d2, out]: [Dims; 3],
) -> String {
    use crate::codegen::dims;
    use std::fmt::Write as _;
    let _ = writeln!(
        c,
        "        static const mnn_dims d1 = {}, d2 = {}, out = {};",
        dims(d1),
        dims(d2),
        dims(out)
    );
    format!(
        "{kernel}{}(&p, &d1, {}, &d2, {}, &out, {}{})",
        at.suffix,
        at.input,
        (at.tensor)(at.layer.inputs[1]),
        at.out,
        at.npu_formats()
    )
}

/// Refuses a layer whose tensors disagree (`what`: how), before anything indexes them: a
/// model can claim any shapes, and a kernel must never read past an operand.
pub(crate) fn agree(
    l: &Lowering<'_>,
    ok: bool,
    what: impl FnOnce() -> String,
) -> Result<(), LowerError> {
    if ok { Ok(()) } else { Err(l.fail(&what())) }
}

/// Shapes for a layer's tensors: every dimension at least 1.
pub(crate) fn positive(l: &Lowering<'_>, name: &str, d: Dims) -> Result<(), LowerError> {
    agree(l, [d.n, d.h, d.w, d.c].iter().all(|&x| x >= 1), || {
        format!("the {name} has an empty or negative dimension ({d:?})")
    })
}

/// A convolution's shapes are not empty and its strides and dilations at least 1.
pub(crate) fn conv_shapes(
    l: &Lowering<'_>,
    [input, filter, output]: [Dims; 3],
    stride: (i32, i32),
    dilation: (i32, i32),
) -> Result<(), LowerError> {
    positive(l, "input", input)?;
    positive(l, "filter", filter)?;
    positive(l, "output", output)?;
    steps(l, "stride", stride)?;
    steps(l, "dilation", dilation)
}

/// The bias (input `slot`, if present) holds one value per output channel.
pub(crate) fn bias_agrees(l: &Lowering<'_>, slot: usize, channels: i32) -> Result<(), LowerError> {
    if let Some(b) = l.optional(slot) {
        let n = l.model.tensors.get(b).map_or(0, |t| t.elements());
        agree(l, n == channels as usize, || {
            format!("the bias has {n} values for {channels} output channels")
        })?;
    }
    Ok(())
}

/// Strides, dilations and windows (TFLite's (w, h) pairs) are at least 1.
pub(crate) fn steps(l: &Lowering<'_>, what: &str, v: (i32, i32)) -> Result<(), LowerError> {
    agree(l, v.0 >= 1 && v.1 >= 1, || {
        format!("{what} {}x{} is not at least 1x1", v.1, v.0)
    })
}

/// Broadcasting: each dimension of `input` is the output's or 1.
pub(crate) fn broadcasts(l: &Lowering<'_>, input: Dims, out: Dims) -> Result<(), LowerError> {
    let pairs = [
        (input.n, out.n),
        (input.h, out.h),
        (input.w, out.w),
        (input.c, out.c),
    ];
    agree(l, pairs.iter().all(|&(a, b)| a == b || a == 1), || {
        format!("an input of {input:?} does not broadcast to the output's {out:?}")
    })
}

/// The U55's stride limit, as Vela checks it (`tflite_supported_operators.py`: stride values
/// in the range [1, 3]); beyond it a layer stays on the CPU.
pub(crate) fn npu_stride(stride: (i32, i32)) -> Result<(), String> {
    if (1..=3).contains(&stride.0) && (1..=3).contains(&stride.1) {
        Ok(())
    } else {
        Err(format!(
            "stride {}x{}: the NPU takes strides of 1 to 3",
            stride.0, stride.1
        ))
    }
}

/// What an operator becomes: its kernel and every argument the kernel takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Kernel {
    Conv(Conv),
    DepthwiseConv(DepthwiseConv),
    FullyConnected(FullyConnected),
    Pool(Pool),
    Add(Add),
    Mul(Mul),
    Softmax(Softmax),
    Activation(Activation),
    Reshape(Reshape),
    Concatenation(Concatenation),
    Pad(Pad),
    Quantize(Quantize),
    Dequantize(Dequantize),
}

impl Kernel {
    /// The operator's entry in the table.
    pub fn operator(&self) -> &dyn Operator {
        match self {
            Kernel::Conv(k) => k,
            Kernel::DepthwiseConv(k) => k,
            Kernel::FullyConnected(k) => k,
            Kernel::Pool(k) => k,
            Kernel::Add(k) => k,
            Kernel::Mul(k) => k,
            Kernel::Softmax(k) => k,
            Kernel::Activation(k) => k,
            Kernel::Reshape(k) => k,
            Kernel::Concatenation(k) => k,
            Kernel::Pad(k) => k,
            Kernel::Quantize(k) => k,
            Kernel::Dequantize(k) => k,
        }
    }
}

/// How each TFLite operator lowers.
pub const LOWERINGS: &[(Op, Lowerer)] = &[
    (Op::Conv2d, conv::lower),
    (Op::DepthwiseConv2d, depthwise::lower),
    (Op::FullyConnected, fully_connected::lower),
    (Op::AveragePool2d, pool::lower),
    (Op::MaxPool2d, pool::lower),
    (Op::Add, add::lower),
    (Op::Mul, mul::lower),
    (Op::Softmax, softmax::lower),
    (Op::Logistic, activation::lower),
    (Op::Tanh, activation::lower),
    (Op::Reshape, reshape::lower),
    (Op::Concatenation, concatenation::lower),
    (Op::Pad, pad::lower),
    (Op::Quantize, quantize::lower),
    (Op::Dequantize, quantize::lower_dequantize),
];

/// An operator's lowering.
pub type Lowerer = fn(&Lowering<'_>) -> Result<Lowered, LowerError>;

/// What an operator does, for each part of the compiler.
/// A windowed operator's geometry, each as (height, width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub kernel: (i32, i32),
    pub stride: (i32, i32),
    /// Padding before the first row and before the first column.
    pub pad: (i32, i32),
    pub dilation: (i32, i32),
}

impl Window {
    /// A convolution's window: its filter's height and width with the geometry's steps.
    pub fn of_conv(g: &crate::lower::ConvGeometry, filter: crate::lower::Dims) -> Window {
        Window {
            kernel: (filter.h, filter.w),
            stride: g.stride,
            pad: g.pad,
            dilation: g.dilation,
        }
    }
}

pub trait Operator {
    /// The filter window, stride, padding and dilation of a convolution or pooling layer.
    fn window(&self) -> Option<Window> {
        None
    }

    /// Scratch bytes the optimised kernel asks for on a core with (`dsp`) or without the DSP
    /// extension: the C `*_get_buffer_size` formulas.
    fn scratch_bytes(&self, _dsp: bool) -> u32 {
        0
    }

    /// The C expression for the scratch the optimised kernel asks for, which the generated
    /// code checks against the plan at start-up, if the kernel takes scratch.
    fn scratch_check(&self) -> Option<String> {
        None
    }

    /// Whether the output is the input's bytes unchanged, so the planner gives both one place.
    fn output_is_input(&self) -> bool {
        false
    }

    /// Whether the kernel reads its input flattened to rows of its own depth (a fully
    /// connected layer), not with the tensor's own height, width and depth.
    fn flattens(&self) -> bool {
        false
    }

    /// Per-channel requantisation, emitted as the arrays `multiplier_N` and `shift_N`.
    fn channel_quant(&self) -> Option<&[Multiplier]> {
        None
    }

    /// Whether the board's NPU runs this layer (`sim/src/devices/npu.rs`): `Ok` if it does,
    /// else why it stays on the CPU. The NPU's entry point takes the reference kernel's
    /// arguments (`KERNEL_npu`, `kernels/runtime/mcusim_npu.h`).
    fn npu(&self) -> Result<(), String> {
        Err("the NPU has no such operation".into())
    }

    /// Writes the kernel's parameter declarations into `c` and returns the call expression.
    fn c_call(&self, c: &mut String, at: &CallSite<'_>) -> String;

    /// The layer's output by TFLite Micro's reference integer arithmetic.
    fn interpret(&self, x: &Operands<'_>) -> Result<Vec<i8>, String>;
}

/// Where a layer's call is generated.
pub struct CallSite<'a> {
    /// The layer's position in the model (names its constants: `weights_3`, `bias_3`).
    pub pos: usize,
    pub layer: &'a Layer,
    /// C expressions: the first input, the output, the weights (`weights_3`, or their SRAM
    /// staging copy), the bias (`NULL` without one).
    pub input: String,
    pub out: String,
    pub weights: String,
    pub bias: String,
    /// `_ref` when the reference kernels are called, `_npu` when the NPU runs the layer (both
    /// take the reference kernel's arguments, no scratch).
    pub suffix: &'static str,
    /// A tensor's address in the arena, as C.
    pub tensor: &'a dyn Fn(usize) -> String,
    /// On the NPU, which of the layer's tensors lie in NHCWB16 bricks
    /// (`MCUSIM_NPU_*_BRICKS`, [`crate::plan::Plan::bricks`]).
    pub formats: u32,
}

impl CallSite<'_> {
    /// Whether the reference kernel's arguments are passed (the reference kernels or the NPU).
    pub fn reference(&self) -> bool {
        !self.suffix.is_empty()
    }

    /// The NPU entry points' last argument, the tensors' formats (`, 0x6u`); nothing
    /// elsewhere.
    pub fn npu_formats(&self) -> String {
        if self.suffix == "_npu" {
            format!(", {:#x}u", self.formats)
        } else {
            String::new()
        }
    }
}

/// A layer's operands for the interpreter.
pub struct Operands<'a> {
    /// The activation inputs, in `Layer::inputs` order (at least one).
    pub inputs: &'a [&'a [i8]],
    pub weights: Option<Vec<i8>>,
    pub bias: Option<Vec<i32>>,
}

impl Operands<'_> {
    /// The first input.
    pub fn x(&self) -> &[i8] {
        self.inputs[0]
    }

    /// Input `slot`.
    pub fn input(&self, slot: usize) -> Result<&[i8], String> {
        self.inputs
            .get(slot)
            .copied()
            .ok_or_else(|| "no second input".to_owned())
    }

    pub fn weights(&self) -> Result<&[i8], String> {
        self.weights.as_deref().ok_or_else(|| "no weights".into())
    }
}

/// One TFLite operator being lowered, and what every lowering needs of it.
pub struct Lowering<'a> {
    pub model: &'a Model,
    pub op: &'a TfliteOperator,
    /// Its first output tensor, its dimensions, scale and zero point.
    pub out: &'a Tensor,
    pub out_dims: Dims,
    pub out_scale: f32,
    pub out_zp: i32,
    /// Who it is, for errors (`operator 3 (CONV_2D)`).
    pub who: String,
}

impl Lowering<'_> {
    pub fn fail(&self, message: &str) -> LowerError {
        LowerError {
            who: self.who.clone(),
            message: message.to_owned(),
        }
    }

    /// Input tensor `slot`.
    pub fn tensor(&self, slot: usize) -> Result<&Tensor, LowerError> {
        self.op
            .inputs
            .get(slot)
            .filter(|&&i| i >= 0)
            .and_then(|&i| self.model.tensors.get(i as usize))
            .ok_or_else(|| self.fail(&format!("input {slot} missing")))
    }

    /// The index of input `slot` (which [`Lowering::tensor`] has found).
    pub fn index(&self, slot: usize) -> usize {
        self.op.inputs[slot] as usize
    }

    /// The optional input `slot` (a bias), if present.
    pub fn optional(&self, slot: usize) -> Option<usize> {
        self.op
            .inputs
            .get(slot)
            .filter(|&&i| i >= 0)
            .map(|&i| i as usize)
    }

    /// The non-constant inputs, for operators whose every activation input is an input.
    pub fn activations(&self) -> Vec<usize> {
        let is_const = |i: i32| {
            i >= 0
                && self
                    .model
                    .tensors
                    .get(i as usize)
                    .is_some_and(|t| t.data.is_some())
        };
        self.op
            .inputs
            .iter()
            .filter(|&&i| i >= 0 && !is_const(i))
            .map(|&i| i as usize)
            .collect()
    }

    /// A lowered operator with its activation inputs and no weights.
    pub fn plain(&self, kernel: Kernel) -> Lowered {
        Lowered {
            kernel,
            inputs: self.activations(),
            weights: None,
            bias: None,
            macs: 0,
        }
    }
}

/// An operator lowered: its kernel, the tensors it reads (activations, then constant weights
/// and bias) and its multiply-accumulates.
pub struct Lowered {
    pub kernel: Kernel,
    pub inputs: Vec<usize>,
    pub weights: Option<usize>,
    pub bias: Option<usize>,
    pub macs: u64,
}
