//! Writing `.tflite` files: the schema's tables the reader knows (Model, SubGraph, Tensor,
//! QuantizationParameters, Buffer, Operator, OperatorCode and the options of the supported
//! operators), with the FlatBuffers project's builder. Used to make test graphs and example
//! models; what it writes, TensorFlow Lite reads.

use flatbuffers::{FlatBufferBuilder, WIPOffset};

/// `TensorType` codes (schema.fbs).
pub const FLOAT32: u8 = 0;
pub const INT32: u8 = 2;
pub const INT8: u8 = 9;

/// `BuiltinOperator` codes (schema.fbs).
pub mod code {
    pub const ADD: i32 = 0;
    pub const AVERAGE_POOL_2D: i32 = 1;
    pub const CONCATENATION: i32 = 2;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const FULLY_CONNECTED: i32 = 9;
    pub const LOGISTIC: i32 = 14;
    pub const MAX_POOL_2D: i32 = 17;
    pub const MUL: i32 = 18;
    pub const RESHAPE: i32 = 22;
    pub const SOFTMAX: i32 = 25;
    pub const TANH: i32 = 28;
    pub const PAD: i32 = 34;
}

/// A tensor to write.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<i32>,
    pub dtype: u8,
    /// Constant contents (weights, biases, shapes), little-endian.
    pub data: Option<Vec<u8>>,
    /// Quantisation: one scale and zero point (per tensor) or one per channel.
    pub scale: Vec<f32>,
    pub zero_point: Vec<i64>,
    pub quantized_dimension: i32,
}

/// `Padding`: SAME (0) or VALID (1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaddingSpec {
    Same = 0,
    Valid = 1,
}

/// Builtin options, with the schema's field order; activations as `ActivationFunctionType`
/// codes (0 none, 1 ReLU, 3 ReLU6).
#[derive(Debug, Clone, PartialEq)]
pub enum OptionsSpec {
    None,
    Conv {
        padding: PaddingSpec,
        stride: (i32, i32),
        activation: u8,
        dilation: (i32, i32),
    },
    Depthwise {
        padding: PaddingSpec,
        stride: (i32, i32),
        depth_multiplier: i32,
        activation: u8,
        dilation: (i32, i32),
    },
    Pool {
        padding: PaddingSpec,
        stride: (i32, i32),
        filter: (i32, i32),
        activation: u8,
    },
    FullyConnected {
        activation: u8,
    },
    Softmax {
        beta: f32,
    },
    Add {
        activation: u8,
    },
    Mul {
        activation: u8,
    },
    Concatenation {
        axis: i32,
        activation: u8,
    },
    Reshape {
        new_shape: Vec<i32>,
    },
    Pad,
}

/// An operator to write. Pairs are (height, width); the schema stores width first.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorSpec {
    pub code: i32,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub options: OptionsSpec,
}

/// A one-subgraph model to write.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelSpec {
    pub description: String,
    pub tensors: Vec<TensorSpec>,
    pub operators: Vec<OperatorSpec>,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
}

/// vtable slot of field `index`.
const fn slot(index: u16) -> u16 {
    4 + 2 * index
}

type Table = WIPOffset<flatbuffers::TableFinishedWIPOffset>;

fn options(b: &mut FlatBufferBuilder<'_>, o: &OptionsSpec) -> Option<(u8, Table)> {
    let start = |b: &mut FlatBufferBuilder<'_>| b.start_table();
    Some(match o {
        OptionsSpec::None => return None,
        OptionsSpec::Conv {
            padding,
            stride,
            activation,
            dilation,
        } => {
            let t = start(b);
            b.push_slot::<i8>(slot(0), *padding as i8, 0);
            b.push_slot::<i32>(slot(1), stride.1, 0);
            b.push_slot::<i32>(slot(2), stride.0, 0);
            b.push_slot::<i8>(slot(3), *activation as i8, 0);
            b.push_slot::<i32>(slot(4), dilation.1, 1);
            b.push_slot::<i32>(slot(5), dilation.0, 1);
            (1, b.end_table(t))
        }
        OptionsSpec::Depthwise {
            padding,
            stride,
            depth_multiplier,
            activation,
            dilation,
        } => {
            let t = start(b);
            b.push_slot::<i8>(slot(0), *padding as i8, 0);
            b.push_slot::<i32>(slot(1), stride.1, 0);
            b.push_slot::<i32>(slot(2), stride.0, 0);
            b.push_slot::<i32>(slot(3), *depth_multiplier, 0);
            b.push_slot::<i8>(slot(4), *activation as i8, 0);
            b.push_slot::<i32>(slot(5), dilation.1, 1);
            b.push_slot::<i32>(slot(6), dilation.0, 1);
            (2, b.end_table(t))
        }
        OptionsSpec::Pool {
            padding,
            stride,
            filter,
            activation,
        } => {
            let t = start(b);
            b.push_slot::<i8>(slot(0), *padding as i8, 0);
            b.push_slot::<i32>(slot(1), stride.1, 0);
            b.push_slot::<i32>(slot(2), stride.0, 0);
            b.push_slot::<i32>(slot(3), filter.1, 0);
            b.push_slot::<i32>(slot(4), filter.0, 0);
            b.push_slot::<i8>(slot(5), *activation as i8, 0);
            (5, b.end_table(t))
        }
        OptionsSpec::FullyConnected { activation } => {
            let t = start(b);
            b.push_slot::<i8>(slot(0), *activation as i8, 0);
            (8, b.end_table(t))
        }
        OptionsSpec::Softmax { beta } => {
            let t = start(b);
            b.push_slot::<f32>(slot(0), *beta, 0.0);
            (9, b.end_table(t))
        }
        OptionsSpec::Concatenation { axis, activation } => {
            let t = start(b);
            b.push_slot::<i32>(slot(0), *axis, 0);
            b.push_slot::<i8>(slot(1), *activation as i8, 0);
            (10, b.end_table(t))
        }
        OptionsSpec::Add { activation } => {
            let t = start(b);
            b.push_slot::<i8>(slot(0), *activation as i8, 0);
            (11, b.end_table(t))
        }
        OptionsSpec::Reshape { new_shape } => {
            let v = b.create_vector(new_shape);
            let t = start(b);
            b.push_slot_always(slot(0), v);
            (17, b.end_table(t))
        }
        OptionsSpec::Mul { activation } => {
            let t = start(b);
            b.push_slot::<i8>(slot(0), *activation as i8, 0);
            (21, b.end_table(t))
        }
        OptionsSpec::Pad => {
            let t = start(b);
            (22, b.end_table(t))
        }
    })
}

/// The `.tflite` bytes of `spec`.
pub fn write(spec: &ModelSpec) -> Vec<u8> {
    let mut b = FlatBufferBuilder::with_capacity(1024);
    // Buffers: 0 is the empty one; then one per constant tensor.
    let mut buffers = Vec::new();
    let empty = b.start_table();
    buffers.push(b.end_table(empty));
    let mut tensor_buffer = Vec::new();
    for t in &spec.tensors {
        match &t.data {
            None => tensor_buffer.push(0u32),
            Some(data) => {
                let v = b.create_vector(data);
                let bt = b.start_table();
                b.push_slot_always(slot(0), v);
                buffers.push(b.end_table(bt));
                tensor_buffer.push((buffers.len() - 1) as u32);
            }
        }
    }
    let mut tensors = Vec::new();
    for (t, &buffer) in spec.tensors.iter().zip(&tensor_buffer) {
        let name = b.create_string(&t.name);
        let shape = b.create_vector(&t.shape);
        let quantization = (!t.scale.is_empty()).then(|| {
            let scale = b.create_vector(&t.scale);
            let zero_point = b.create_vector(&t.zero_point);
            let q = b.start_table();
            b.push_slot_always(slot(2), scale);
            b.push_slot_always(slot(3), zero_point);
            b.push_slot::<i32>(slot(6), t.quantized_dimension, 0);
            b.end_table(q)
        });
        let tt = b.start_table();
        b.push_slot_always(slot(0), shape);
        b.push_slot::<u8>(slot(1), t.dtype, 0);
        b.push_slot::<u32>(slot(2), buffer, 0);
        b.push_slot_always(slot(3), name);
        if let Some(q) = quantization {
            b.push_slot_always(slot(4), q);
        }
        tensors.push(b.end_table(tt));
    }
    let mut codes: Vec<i32> = spec.operators.iter().map(|o| o.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let mut operators = Vec::new();
    for op in &spec.operators {
        let opts = options(&mut b, &op.options);
        let inputs = b.create_vector(&op.inputs);
        let outputs = b.create_vector(&op.outputs);
        let ot = b.start_table();
        b.push_slot::<u32>(
            slot(0),
            codes.binary_search(&op.code).unwrap_or(0) as u32,
            0,
        );
        b.push_slot_always(slot(1), inputs);
        b.push_slot_always(slot(2), outputs);
        if let Some((kind, table)) = opts {
            b.push_slot::<u8>(slot(3), kind, 0);
            b.push_slot_always(slot(4), table);
        }
        operators.push(b.end_table(ot));
    }
    let tensors = b.create_vector(&tensors);
    let operators = b.create_vector(&operators);
    let inputs = b.create_vector(&spec.inputs);
    let outputs = b.create_vector(&spec.outputs);
    let name = b.create_string("main");
    let sg = b.start_table();
    b.push_slot_always(slot(0), tensors);
    b.push_slot_always(slot(1), inputs);
    b.push_slot_always(slot(2), outputs);
    b.push_slot_always(slot(3), operators);
    b.push_slot_always(slot(4), name);
    let subgraph = b.end_table(sg);
    let mut code_tables = Vec::new();
    for &c in &codes {
        let ct = b.start_table();
        b.push_slot::<i8>(slot(0), c.min(127) as i8, 0);
        b.push_slot::<i32>(slot(2), 1, 1);
        b.push_slot::<i32>(slot(3), c, 0);
        code_tables.push(b.end_table(ct));
    }
    let codes_v = b.create_vector(&code_tables);
    let subgraphs = b.create_vector(&[subgraph]);
    let buffers = b.create_vector(&buffers);
    let description = b.create_string(&spec.description);
    let m = b.start_table();
    b.push_slot::<u32>(slot(0), 3, 0);
    b.push_slot_always(slot(1), codes_v);
    b.push_slot_always(slot(2), subgraphs);
    b.push_slot_always(slot(3), description);
    b.push_slot_always(slot(4), buffers);
    let model = b.end_table(m);
    b.finish(model, Some("TFL3"));
    b.finished_data().to_vec()
}
