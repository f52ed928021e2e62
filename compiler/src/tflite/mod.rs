//! Reading a TensorFlow Lite model: the parts of its FlatBuffers schema mcusim needs
//! (tensorflow/lite/schema/schema.fbs: Model, SubGraph, Tensor, QuantizationParameters,
//! Operator, OperatorCode, Buffer and the builtin options of the supported operators), then
//! checking that mcusim can run it: every problem is reported at once, with the operator's
//! index and name.

mod flatbuf;
pub mod writer;

use flatbuf::{Buf, FbError, Table};
use std::path::Path;

/// Why a model cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("{path}: cannot read model")]
    Io {
        /// The model file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a readable TFLite flatbuffer.
    #[error("{path}: not a valid .tflite model: {message}")]
    Corrupt {
        /// The model file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The model is well formed but uses what mcusim does not support.
    #[error("{path}: {} problem(s): {}", problems.len(), problems.join("; "))]
    Unsupported {
        /// The model file.
        path: String,
        /// Every problem, each naming its operator or tensor.
        problems: Vec<String>,
    },
}

/// Element types (schema.fbs `TensorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorType {
    Float32,
    Float16,
    Int32,
    UInt8,
    Int64,
    Int16,
    Int8,
    /// Any other type, by its schema number.
    Other(u8),
}

impl TensorType {
    fn from_schema(v: u8) -> TensorType {
        match v {
            0 => TensorType::Float32,
            1 => TensorType::Float16,
            2 => TensorType::Int32,
            3 => TensorType::UInt8,
            4 => TensorType::Int64,
            7 => TensorType::Int16,
            9 => TensorType::Int8,
            other => TensorType::Other(other),
        }
    }

    /// The schema's name of the type.
    pub fn name(self) -> String {
        match self {
            TensorType::Float32 => "float32".into(),
            TensorType::Float16 => "float16".into(),
            TensorType::Int32 => "int32".into(),
            TensorType::UInt8 => "uint8".into(),
            TensorType::Int64 => "int64".into(),
            TensorType::Int16 => "int16".into(),
            TensorType::Int8 => "int8".into(),
            TensorType::Other(v) => format!("type {v}"),
        }
    }
}

/// Quantization of a tensor: `real = scale * (q - zero_point)`, per tensor or per channel
/// along `dimension`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantization {
    pub scale: Vec<f32>,
    pub zero_point: Vec<i64>,
    pub dimension: i32,
}

/// A tensor of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Its index in the subgraph.
    pub index: usize,
    pub name: String,
    pub shape: Vec<i32>,
    /// The shape with -1 for dimensions unknown until run time, when the model says.
    pub shape_signature: Vec<i32>,
    pub dtype: TensorType,
    /// Constant contents (weights, biases, shapes), if any.
    pub data: Option<Vec<u8>>,
    pub quantization: Option<Quantization>,
}

impl Tensor {
    /// Number of elements.
    pub fn elements(&self) -> usize {
        self.shape.iter().map(|&d| d.max(0) as usize).product()
    }

    /// Bytes per element.
    pub fn width(&self) -> u64 {
        match self.dtype {
            TensorType::Float32 | TensorType::Int32 => 4,
            TensorType::Int64 => 8,
            TensorType::Float16 | TensorType::Int16 => 2,
            _ => 1,
        }
    }

    /// What makes this tensor unusable: a size past [`MAX_TENSOR_BYTES`], an activation
    /// with an empty dimension, constant data shorter than its shape, a scale that is not a
    /// finite positive number (zero allowed for weights, whose all-zero channels have it).
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let who = format!("tensor {} '{}'", self.index, short_name(&self.name));
        let bytes = self
            .shape
            .iter()
            .fold(self.width(), |b, &d| b.saturating_mul(d.max(0) as u64));
        if bytes > MAX_TENSOR_BYTES {
            out.push(format!(
                "{who} of shape {:?} is too large ({bytes} bytes; the limit is {} MiB, more than \
                 any microcontroller's memory)",
                self.shape,
                MAX_TENSOR_BYTES >> 20
            ));
        }
        match &self.data {
            None if self.shape.contains(&0) => {
                out.push(format!("{who} is empty (shape {:?})", self.shape));
            }
            Some(d) if (d.len() as u64) < bytes && bytes <= MAX_TENSOR_BYTES => {
                out.push(format!(
                    "{who} holds {} bytes of data where its shape {:?} needs {bytes}",
                    d.len(),
                    self.shape
                ));
            }
            _ => {}
        }
        if let Some(q) = &self.quantization {
            let constant = self.data.is_some();
            let bad = q
                .scale
                .iter()
                .find(|&&x| !x.is_finite() || x < 0.0 || (x == 0.0 && !constant));
            if let Some(x) = bad {
                out.push(format!(
                    "{who} has quantisation scale {x}: it must be a finite number above 0"
                ));
            }
            if self.dtype == TensorType::Int8
                && let Some(z) = q.zero_point.iter().find(|z| !(-128..=127).contains(*z))
            {
                out.push(format!(
                    "{who} has zero point {z}, outside int8's -128..=127"
                ));
            }
        }
        out
    }
}

/// The largest tensor mcusim takes: well past the memory of any microcontroller, and small
/// enough that planning and code generation stay bounded.
pub const MAX_TENSOR_BYTES: u64 = 64 << 20;

/// Operators (schema.fbs `BuiltinOperator`), the supported ones by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Add,
    AveragePool2d,
    Concatenation,
    Conv2d,
    DepthwiseConv2d,
    Dequantize,
    FullyConnected,
    Logistic,
    MaxPool2d,
    Mul,
    Reshape,
    Softmax,
    Tanh,
    Pad,
    Quantize,
    /// Any other builtin operator, by its schema number.
    Other(i32),
    /// A custom operator, by name.
    Custom,
}

impl Op {
    fn from_schema(code: i32) -> Op {
        match code {
            0 => Op::Add,
            1 => Op::AveragePool2d,
            2 => Op::Concatenation,
            3 => Op::Conv2d,
            4 => Op::DepthwiseConv2d,
            6 => Op::Dequantize,
            9 => Op::FullyConnected,
            14 => Op::Logistic,
            17 => Op::MaxPool2d,
            18 => Op::Mul,
            22 => Op::Reshape,
            25 => Op::Softmax,
            28 => Op::Tanh,
            34 => Op::Pad,
            114 => Op::Quantize,
            other => Op::Other(other),
        }
    }

    /// The TFLite name (`CONV_2D`).
    pub fn name(self) -> String {
        match self {
            Op::Add => "ADD".into(),
            Op::AveragePool2d => "AVERAGE_POOL_2D".into(),
            Op::Concatenation => "CONCATENATION".into(),
            Op::Conv2d => "CONV_2D".into(),
            Op::DepthwiseConv2d => "DEPTHWISE_CONV_2D".into(),
            Op::Dequantize => "DEQUANTIZE".into(),
            Op::FullyConnected => "FULLY_CONNECTED".into(),
            Op::Logistic => "LOGISTIC".into(),
            Op::MaxPool2d => "MAX_POOL_2D".into(),
            Op::Mul => "MUL".into(),
            Op::Reshape => "RESHAPE".into(),
            Op::Softmax => "SOFTMAX".into(),
            Op::Tanh => "TANH".into(),
            Op::Pad => "PAD".into(),
            Op::Quantize => "QUANTIZE".into(),
            Op::Other(code) => format!("builtin operator {code}"),
            Op::Custom => "custom operator".into(),
        }
    }
}

/// `Padding` of convolutions and pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    Same,
    Valid,
}

/// `ActivationFunctionType`, fused into an operator's output clamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    None,
    Relu,
    ReluN1To1,
    Relu6,
    /// TANH or SIGN_BIT: not supported fused.
    Other(u8),
}

impl Activation {
    fn from_schema(v: u8) -> Activation {
        match v {
            0 => Activation::None,
            1 => Activation::Relu,
            2 => Activation::ReluN1To1,
            3 => Activation::Relu6,
            other => Activation::Other(other),
        }
    }
}

/// The builtin options of an operator. Pairs are (width, height), the schema's field order.
#[derive(Debug, Clone, PartialEq)]
pub enum Options {
    None,
    Conv {
        padding: Padding,
        stride: (i32, i32),
        dilation: (i32, i32),
        activation: Activation,
    },
    Depthwise {
        padding: Padding,
        stride: (i32, i32),
        dilation: (i32, i32),
        depth_multiplier: i32,
        activation: Activation,
    },
    Pool {
        padding: Padding,
        stride: (i32, i32),
        filter: (i32, i32),
        activation: Activation,
    },
    FullyConnected {
        activation: Activation,
        keep_num_dims: bool,
    },
    Softmax {
        beta: f32,
    },
    Elementwise {
        activation: Activation,
    },
    Concatenation {
        axis: i32,
        activation: Activation,
    },
}

/// An operator of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    /// Its index in execution order.
    pub index: usize,
    pub op: Op,
    /// Input tensor indices (-1: an optional input left out).
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub options: Options,
}

/// A model: the first subgraph of a .tflite file.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub description: String,
    pub tensors: Vec<Tensor>,
    pub operators: Vec<Operator>,
    pub inputs: Vec<usize>,
    pub outputs: Vec<usize>,
}

impl Model {
    /// Read and check a model file.
    pub fn load(path: &Path) -> Result<Model, Error> {
        let shown = path.display().to_string();
        let bytes = mcusim_traces::file::read_capped(path, mcusim_traces::file::MAX_INPUT_BYTES)
            .map_err(|source| Error::Io {
                path: shown.clone(),
                source,
            })?;
        let model = Model::parse(&bytes, &shown)?;
        model.check(&shown)?;
        Ok(model)
    }

    /// Parse the flatbuffer (no semantic checks); `path` names the file in errors.
    pub fn parse(bytes: &[u8], path: &str) -> Result<Model, Error> {
        let corrupt = |e: FbError| Error::Corrupt {
            path: path.to_owned(),
            message: e.0,
        };
        if bytes.len() < 8 || &bytes[4..8] != b"TFL3" {
            return Err(Error::Corrupt {
                path: path.to_owned(),
                message: "no TFL3 file identifier (not a TensorFlow Lite flatbuffer)".into(),
            });
        }
        read_model(Buf(bytes)).map_err(corrupt)
    }

    /// The operator's display name: index, operator and the name of its first output.
    pub fn describe(&self, op: &Operator) -> String {
        let out = op
            .outputs
            .first()
            .and_then(|&t| self.tensors.get(t as usize))
            .map_or(String::new(), |t| short_name(&t.name));
        format!("operator {} ({}, '{}')", op.index, op.op.name(), out)
    }

    /// Every reason mcusim cannot run this model, or `Ok`.
    pub fn check(&self, path: &str) -> Result<(), Error> {
        let mut problems = Vec::new();
        let tensor = |i: i32| (i >= 0).then(|| self.tensors.get(i as usize)).flatten();
        // The subgraph's own inputs and outputs: at least one of each, every one a tensor.
        for (role, list) in [("input", &self.inputs), ("output", &self.outputs)] {
            if list.is_empty() {
                problems.push(format!("the subgraph has no {role} tensor"));
            }
            for &t in list.iter().filter(|&&t| t >= self.tensors.len()) {
                problems.push(if t == usize::MAX {
                    format!("a subgraph {role} has a negative tensor index")
                } else {
                    format!("subgraph {role} tensor index {t} does not exist")
                });
            }
        }
        // Every tensor the graph uses: a size a microcontroller can hold, activations not
        // empty, constants as long as their shape, scales usable.
        let mut used = vec![false; self.tensors.len()];
        for &t in self.inputs.iter().chain(&self.outputs) {
            if let Some(u) = used.get_mut(t) {
                *u = true;
            }
        }
        for op in &self.operators {
            for &i in op.inputs.iter().chain(&op.outputs) {
                if let Some(u) = usize::try_from(i).ok().and_then(|i| used.get_mut(i)) {
                    *u = true;
                }
            }
        }
        for t in self.tensors.iter().filter(|t| used[t.index]) {
            problems.extend(t.problems());
        }
        for op in &self.operators {
            let who = self.describe(op);
            match op.op {
                Op::Other(_) | Op::Custom => {
                    problems.push(format!("{who}: operator not supported"));
                    continue;
                }
                _ => {}
            }
            for &i in op.inputs.iter().chain(&op.outputs) {
                if i >= 0 && tensor(i).is_none() {
                    problems.push(format!("{who}: tensor index {i} does not exist"));
                }
            }
            // The activations must be int8, except what quantize/dequantize convert.
            let activations: Vec<(&str, i32)> = op
                .inputs
                .iter()
                .enumerate()
                .filter(|&(_, &i)| tensor(i).is_some_and(|t| t.data.is_none()))
                .map(|(_, &i)| ("input", i))
                .chain(op.outputs.iter().map(|&i| ("output", i)))
                .collect();
            for (role, i) in activations {
                let Some(t) = tensor(i) else { continue };
                let float_ok = (op.op == Op::Quantize && role == "input")
                    || (op.op == Op::Dequantize && role == "output");
                let ok = t.dtype == TensorType::Int8
                    || (float_ok && t.dtype == TensorType::Float32)
                    || (op.op == Op::Reshape && role == "input" && t.dtype == TensorType::Int32);
                if !ok {
                    problems.push(format!(
                        "{who}: {role} tensor {} '{}' is {}, not int8",
                        t.index,
                        short_name(&t.name),
                        t.dtype.name()
                    ));
                }
                // A batch of -1 in the signature is the exporter's "any batch": run as 1.
                let dynamic = t.shape_signature.iter().skip(1).any(|&d| d < 0)
                    || t.shape.iter().any(|&d| d < 0);
                if dynamic {
                    problems.push(format!(
                        "{who}: {role} tensor {} '{}' has a dynamic shape {:?}",
                        t.index,
                        short_name(&t.name),
                        t.shape_signature
                    ));
                }
            }
            // Weights of the layers that have them must be constant int8, biases int32.
            if matches!(op.op, Op::Conv2d | Op::DepthwiseConv2d | Op::FullyConnected) {
                if let Some(w) = op.inputs.get(1).and_then(|&i| tensor(i))
                    && (w.data.is_none() || w.dtype != TensorType::Int8)
                {
                    problems.push(format!(
                        "{who}: weights tensor {} '{}' must be constant int8 (is {}{})",
                        w.index,
                        w.name,
                        w.dtype.name(),
                        if w.data.is_none() {
                            ", not constant"
                        } else {
                            ""
                        }
                    ));
                }
                if let Some(b) = op.inputs.get(2).and_then(|&i| tensor(i))
                    && (b.data.is_none() || b.dtype != TensorType::Int32)
                {
                    problems.push(format!(
                        "{who}: bias tensor {} '{}' must be constant int32 (is {})",
                        b.index,
                        b.name,
                        b.dtype.name()
                    ));
                }
            }
            let fused = match &op.options {
                Options::Conv { activation, .. }
                | Options::Depthwise { activation, .. }
                | Options::Pool { activation, .. }
                | Options::FullyConnected { activation, .. }
                | Options::Elementwise { activation }
                | Options::Concatenation { activation, .. } => Some(*activation),
                _ => None,
            };
            if let Some(Activation::Other(a)) = fused {
                problems.push(format!("{who}: fused activation {a} not supported"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Unsupported {
                path: path.to_owned(),
                problems,
            })
        }
    }
}

/// A tensor name for messages: converters fuse several names with `;`; the first one is the
/// layer's.
pub fn short_name(name: &str) -> String {
    let first = name.split(';').next().unwrap_or(name);
    if first.chars().count() > 60 {
        let tail: String = first
            .chars()
            .rev()
            .take(57)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("...{tail}")
    } else {
        first.to_owned()
    }
}

fn read_model(buf: Buf<'_>) -> flatbuf::Result<Model> {
    let root = buf.root()?;
    let description = root.string(3)?.unwrap_or_default();
    let codes: Vec<Op> = root
        .vector(1)?
        .map(|v| v.tables())
        .transpose()?
        .unwrap_or_default()
        .iter()
        .map(|t| {
            // `builtin_code` (field 3) replaced the byte-sized `deprecated_builtin_code`
            // (field 0) at 127 operators; readers take the larger of the two.
            let deprecated = i32::from(t.u8_or(0, 0)? as i8);
            let code = t.i32_or(3, 0)?.max(deprecated);
            let custom = t.string(1)?.is_some_and(|s| !s.is_empty());
            Ok(if custom && code == 32 {
                Op::Custom
            } else {
                Op::from_schema(code)
            })
        })
        .collect::<flatbuf::Result<_>>()?;
    let buffers: Vec<Option<Vec<u8>>> = root
        .vector(4)?
        .map(|v| v.tables())
        .transpose()?
        .unwrap_or_default()
        .iter()
        .map(|b| {
            Ok(b.vector(0)?
                .map(|v| v.bytes())
                .transpose()?
                .map(<[u8]>::to_vec))
        })
        .collect::<flatbuf::Result<_>>()?;
    let subgraphs = root
        .vector(2)?
        .ok_or_else(|| FbError("the model has no subgraph".into()))?
        .tables()?;
    let graph = subgraphs
        .first()
        .ok_or_else(|| FbError("the model has no subgraph".into()))?;
    let tensors = graph
        .vector(0)?
        .map(|v| v.tables())
        .transpose()?
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(index, t)| read_tensor(index, t, &buffers))
        .collect::<flatbuf::Result<Vec<_>>>()?;
    let ints = |t: &Table<'_>, field| -> flatbuf::Result<Vec<i32>> {
        Ok(t.vector(field)?
            .map(|v| v.i32s())
            .transpose()?
            .unwrap_or_default())
    };
    let operators = graph
        .vector(3)?
        .map(|v| v.tables())
        .transpose()?
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(index, o)| {
            let code = o.u32_or(0, 0)? as usize;
            let op = *codes.get(code).ok_or_else(|| {
                FbError(format!(
                    "operator {index} uses missing operator code {code}"
                ))
            })?;
            let options_type = o.u8_or(3, 0)?;
            let options = match o.table(4)? {
                Some(t) => read_options(op, options_type, &t)?,
                None => Options::None,
            };
            Ok(Operator {
                index,
                op,
                inputs: ints(o, 1)?,
                outputs: ints(o, 2)?,
                options,
            })
        })
        .collect::<flatbuf::Result<Vec<_>>>()?;
    // A negative index becomes one no model has, for `check` to refuse.
    let to_indices = |v: Vec<i32>| {
        v.into_iter()
            .map(|i| usize::try_from(i).unwrap_or(usize::MAX))
            .collect()
    };
    Ok(Model {
        description,
        inputs: to_indices(ints(graph, 1)?),
        outputs: to_indices(ints(graph, 2)?),
        tensors,
        operators,
    })
}

fn read_tensor(
    index: usize,
    t: &Table<'_>,
    buffers: &[Option<Vec<u8>>],
) -> flatbuf::Result<Tensor> {
    let shape = t
        .vector(0)?
        .map(|v| v.i32s())
        .transpose()?
        .unwrap_or_default();
    let shape_signature = t
        .vector(7)?
        .map(|v| v.i32s())
        .transpose()?
        .unwrap_or_else(|| shape.clone());
    let buffer = t.u32_or(2, 0)? as usize;
    let data = buffers
        .get(buffer)
        .cloned()
        .flatten()
        .filter(|d| !d.is_empty());
    let quantization = match t.table(4)? {
        Some(q) => {
            let scale = q
                .vector(2)?
                .map(|v| v.f32s())
                .transpose()?
                .unwrap_or_default();
            let zero_point = q
                .vector(3)?
                .map(|v| v.i64s())
                .transpose()?
                .unwrap_or_default();
            (!scale.is_empty()).then_some(Quantization {
                scale,
                zero_point,
                dimension: q.i32_or(6, 0)?,
            })
        }
        None => None,
    };
    Ok(Tensor {
        index,
        name: t.string(3)?.unwrap_or_default(),
        shape,
        shape_signature,
        dtype: TensorType::from_schema(t.u8_or(1, 0)?),
        data,
        quantization,
    })
}

fn padding(v: u8) -> Padding {
    if v == 0 {
        Padding::Same
    } else {
        Padding::Valid
    }
}

/// Builtin options (schema.fbs): Conv2DOptions (union type 1), DepthwiseConv2DOptions (2),
/// Pool2DOptions (5), FullyConnectedOptions (8), SoftmaxOptions (9), ConcatenationOptions
/// (10), AddOptions (11), MulOptions (21).
fn read_options(op: Op, kind: u8, t: &Table<'_>) -> flatbuf::Result<Options> {
    let act = |i| -> flatbuf::Result<Activation> { Ok(Activation::from_schema(t.u8_or(i, 0)?)) };
    Ok(match (op, kind) {
        (Op::Conv2d, 1) => Options::Conv {
            padding: padding(t.u8_or(0, 0)?),
            stride: (t.i32_or(1, 1)?, t.i32_or(2, 1)?),
            activation: act(3)?,
            dilation: (t.i32_or(4, 1)?, t.i32_or(5, 1)?),
        },
        (Op::DepthwiseConv2d, 2) => Options::Depthwise {
            padding: padding(t.u8_or(0, 0)?),
            stride: (t.i32_or(1, 1)?, t.i32_or(2, 1)?),
            depth_multiplier: t.i32_or(3, 1)?,
            activation: act(4)?,
            dilation: (t.i32_or(5, 1)?, t.i32_or(6, 1)?),
        },
        (Op::AveragePool2d | Op::MaxPool2d, 5) => Options::Pool {
            padding: padding(t.u8_or(0, 0)?),
            stride: (t.i32_or(1, 1)?, t.i32_or(2, 1)?),
            filter: (t.i32_or(3, 1)?, t.i32_or(4, 1)?),
            activation: act(5)?,
        },
        (Op::FullyConnected, 8) => Options::FullyConnected {
            activation: act(0)?,
            keep_num_dims: t.bool_or(2, false)?,
        },
        (Op::Softmax, 9) => Options::Softmax {
            beta: t.f32_or(0, 0.0)?,
        },
        (Op::Concatenation, 10) => Options::Concatenation {
            axis: t.i32_or(0, 0)?,
            activation: act(1)?,
        },
        (Op::Add, 11) | (Op::Mul, 21) => Options::Elementwise {
            activation: act(0)?,
        },
        _ => Options::None,
    })
}

#[cfg(test)]
mod tests;
