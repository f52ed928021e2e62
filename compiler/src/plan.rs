//! Static memory planning: every activation tensor and every layer's kernel scratch gets an
//! offset in one arena, from their lifetimes in execution order.
//!
//! Greedy by size (the strategy of TFLite Micro's `GreedyMemoryPlanner`): buffers are placed
//! largest first, each at the lowest 4-byte-aligned offset where it overlaps no already placed
//! buffer whose lifetime it shares. RESHAPE outputs share their input's bytes (no copy). The
//! lower bound any plan must meet is the largest sum of buffers live at one layer.

use crate::lower::{Kernel, Layer};
use crate::tflite::Model;

/// What a buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferKind {
    /// An activation tensor, by tensor index.
    Tensor(usize),
    /// The kernel scratch of a layer, by layer index.
    Scratch(usize),
    /// The SRAM copy of a layer's weights the NPU's weight DMA stages ahead of it, by layer
    /// index.
    Staging(usize),
}

/// A layer whose weights the NPU's weight DMA copies into the arena before it runs: the copy
/// starts with layer `from` (the NPU layer before it, or itself when none is) and is live
/// until `layer` has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Staging {
    pub layer: usize,
    pub from: usize,
    pub bytes: u32,
}

/// One placed buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buffer {
    pub kind: BufferKind,
    pub offset: u32,
    pub size: u32,
    /// Live from the start of layer `first` to the end of layer `last` (inclusive).
    pub first: usize,
    pub last: usize,
}

/// The arena plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub buffers: Vec<Buffer>,
    /// Bytes the arena needs.
    pub arena_bytes: u32,
    /// The largest sum of bytes live at one layer: no plan can be smaller.
    pub lower_bound: u32,
    /// Offset of each activation tensor (aliases resolved), by tensor index.
    pub tensor_offsets: Vec<Option<u32>>,
    /// Offset and size of each layer's scratch, by layer position.
    pub scratch: Vec<Option<(u32, u32)>>,
    /// The staged weights and their buffers' offsets, in layer order.
    pub staging: Vec<(Staging, u32)>,
    /// Which tensors lie in NHCWB16 bricks, by tensor index ([`bricks`]).
    pub bricks: Vec<bool>,
}

const ALIGN: u32 = 4;

/// `MNN_DW_STRIPE_MAX` in `mnn_functions.h`: the largest padded-stripe buffer a depthwise
/// convolution asks scratch for.
pub const DW_STRIPE_MAX: u32 = 8192;

pub(crate) fn align(x: u32) -> u32 {
    x.div_ceil(ALIGN) * ALIGN
}

/// Scratch bytes a layer's kernel asks for on a core with (`dsp`) or without the DSP
/// extension: the C `*_get_buffer_size` formulas (the generated code checks them at start-up).
pub fn scratch_bytes(kernel: &Kernel, dsp: bool) -> u32 {
    kernel.operator().scratch_bytes(dsp)
}

/// Plans the arena for `layers` of `model`.
pub fn plan(model: &Model, layers: &[Layer], dsp: bool) -> Plan {
    plan_with_npu(model, layers, dsp, &[], &[])
}

/// [`plan`] for a board with an NPU: the layers `on_npu` marks run there and take no scratch;
/// each of `staging` takes a buffer for its weights from its `from` layer to its own.
pub fn plan_with_npu(
    model: &Model,
    layers: &[Layer],
    dsp: bool,
    on_npu: &[bool],
    staging: &[Staging],
) -> Plan {
    let n_tensors = model.tensors.len();
    // Outputs that are their input's bytes (RESHAPE) share its place.
    let mut root: Vec<usize> = (0..n_tensors).collect();
    for layer in layers {
        if layer.kernel.operator().output_is_input() {
            root[layer.outputs[0]] = find(&root, layer.inputs[0]);
        }
    }
    let end = layers.len().saturating_sub(1);
    // Lifetimes of tensor roots: model inputs from the start, outputs to the end.
    let mut life: Vec<Option<(usize, usize)>> = vec![None; n_tensors];
    let touch = |t: usize, at: usize, life: &mut Vec<Option<(usize, usize)>>| {
        let r = find(&root, t);
        life[r] = Some(match life[r] {
            Some((a, b)) => (a.min(at), b.max(at)),
            None => (at, at),
        });
    };
    for &t in &model.inputs {
        touch(t, 0, &mut life);
    }
    for (pos, layer) in layers.iter().enumerate() {
        for &t in layer.inputs.iter().chain(&layer.outputs) {
            touch(t, pos, &mut life);
        }
    }
    for &t in &model.outputs {
        touch(t, end, &mut life);
    }
    let bricks = bricks(model, layers, on_npu);
    let mut buffers: Vec<Buffer> = Vec::new();
    for (t, l) in life.iter().enumerate() {
        if let Some((first, last)) = *l
            && model.tensors[t].data.is_none()
        {
            let size = align(if bricks[t] {
                brick_bytes(&model.tensors[t])
            } else {
                tensor_bytes(&model.tensors[t])
            });
            buffers.push(Buffer {
                kind: BufferKind::Tensor(t),
                offset: 0,
                size,
                first,
                last,
            });
        }
    }
    for (pos, layer) in layers.iter().enumerate() {
        let size = if on_npu.get(pos).copied().unwrap_or(false) {
            0
        } else {
            align(scratch_bytes(&layer.kernel, dsp))
        };
        if size > 0 {
            buffers.push(Buffer {
                kind: BufferKind::Scratch(pos),
                offset: 0,
                size,
                first: pos,
                last: pos,
            });
        }
    }
    for s in staging {
        buffers.push(Buffer {
            kind: BufferKind::Staging(s.layer),
            offset: 0,
            size: align(s.bytes),
            first: s.from.min(s.layer),
            last: s.layer,
        });
    }
    // Largest first; ties by earlier start, then by kind order, for a deterministic plan.
    let mut order: Vec<usize> = (0..buffers.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(buffers[i].size), buffers[i].first, i));
    let mut placed: Vec<usize> = Vec::new();
    for i in order {
        let (first, last, size) = (buffers[i].first, buffers[i].last, buffers[i].size);
        let mut conflicts: Vec<(u32, u32)> = placed
            .iter()
            .map(|&j| &buffers[j])
            .filter(|b| b.first <= last && first <= b.last)
            .map(|b| (b.offset, b.offset + b.size))
            .collect();
        conflicts.sort_unstable();
        let mut offset = 0;
        for (start, stop) in conflicts {
            if offset + size <= start {
                break;
            }
            offset = offset.max(stop);
        }
        buffers[i].offset = offset;
        placed.push(i);
    }
    let arena_bytes = buffers.iter().map(|b| b.offset + b.size).max().unwrap_or(0);
    let lower_bound = (0..layers.len().max(1))
        .map(|pos| {
            buffers
                .iter()
                .filter(|b| b.first <= pos && pos <= b.last)
                .map(|b| b.size)
                .sum::<u32>()
        })
        .max()
        .unwrap_or(0);
    let mut tensor_offsets = vec![None; n_tensors];
    let mut scratch = vec![None; layers.len()];
    let mut staged = vec![None; layers.len()];
    for b in &buffers {
        match b.kind {
            BufferKind::Tensor(t) => tensor_offsets[t] = Some(b.offset),
            BufferKind::Scratch(pos) => scratch[pos] = Some((b.offset, b.size)),
            BufferKind::Staging(pos) => staged[pos] = Some(b.offset),
        }
    }
    for t in 0..n_tensors {
        let r = find(&root, t);
        if r != t {
            tensor_offsets[t] = tensor_offsets[r];
        }
    }
    Plan {
        buffers,
        arena_bytes,
        lower_bound,
        tensor_offsets,
        scratch,
        staging: staging
            .iter()
            .filter_map(|s| staged.get(s.layer).copied().flatten().map(|o| (*s, o)))
            .collect(),
        bricks,
    }
}

/// Which tensors lie in the NPU's NHCWB16 bricks (`sim/src/devices/npu.rs`), by tensor index:
/// the feature maps only the NPU writes and reads, as Vela 5.2's scheduler gives them the
/// brick format (`needsLinearFormat` false in `UpdateSchedulerTensor`). A tensor qualifies
/// when an NPU layer writes it, at least one layer reads it and every one is on the NPU, it is
/// neither a model input nor an output, it is int8, and every layer sees it with its own
/// width and depth (one a fully connected layer flattens must be a row of channels per batch
/// row).
pub fn bricks(model: &Model, layers: &[Layer], on_npu: &[bool]) -> Vec<bool> {
    let n = model.tensors.len();
    let npu = |pos: usize| on_npu.get(pos).copied().unwrap_or(false);
    // Per tensor: written by an NPU layer, read at all, touched by a CPU layer or in a way
    // the bricks cannot serve.
    let (mut written, mut read, mut linear) = (vec![false; n], vec![false; n], vec![false; n]);
    for (pos, layer) in layers.iter().enumerate() {
        let op = layer.kernel.operator();
        let touches = layer.inputs.iter().map(|&t| (t, false));
        for (t, output) in touches.chain(layer.outputs.iter().map(|&t| (t, true))) {
            if t >= n {
                continue;
            }
            let shape = &model.tensors[t].shape;
            let rows_of_channels =
                shape.len() < 2 || shape[1..shape.len() - 1].iter().all(|&d| d == 1);
            if !npu(pos) || (op.flattens() && !rows_of_channels) {
                linear[t] = true;
            }
            if output {
                written[t] |= npu(pos);
            } else {
                read[t] = true;
            }
        }
    }
    for &t in model.inputs.iter().chain(&model.outputs) {
        if t < n {
            linear[t] = true;
        }
    }
    (0..n)
        .map(|t| {
            let tensor = &model.tensors[t];
            written[t]
                && read[t]
                && !linear[t]
                && tensor.data.is_none()
                && !tensor.shape.is_empty()
                && tensor_bytes(tensor) == tensor.elements() as u32
        })
        .collect()
}

/// Bytes of an int8 tensor in NHCWB16 bricks: its depth padded to 16.
pub fn brick_bytes(t: &crate::tflite::Tensor) -> u32 {
    let depth = t.shape.last().map_or(1, |&c| c.max(1) as u32);
    t.elements() as u32 / depth * depth.div_ceil(16) * 16
}

/// Bytes of a tensor's values.
pub fn tensor_bytes(t: &crate::tflite::Tensor) -> u32 {
    use crate::tflite::TensorType;
    let width = match t.dtype {
        TensorType::Float32 | TensorType::Int32 => 4,
        TensorType::Int64 => 8,
        TensorType::Float16 | TensorType::Int16 => 2,
        _ => 1,
    };
    t.elements() as u32 * width
}

fn find(root: &[usize], mut t: usize) -> usize {
    while root[t] != t {
        t = root[t];
    }
    t
}
