//! mcusim's NPU: an Ethos-U55-class accelerator (32 to 256 MACs per cycle) with a register
//! interface and command format of mcusim's own (Arm's are not public at register level).
//! Firmware writes a queue of layer descriptors to memory, points `QBASE`/`QSIZE` at it and
//! starts it; the NPU runs the descriptors one after another through its own ports to
//! memory, raises its interrupt when the queue is done (or a descriptor fails), and counts
//! what it did in counters firmware can read.
//!
//! Registers (32-bit, offsets from the base):
//!
//! | offset | name      | access | meaning |
//! |--------|-----------|--------|---------|
//! | 0x00   | ID        | RO     | `0x4D4E5055` ("MNPU") |
//! | 0x04   | CONFIG    | RO     | MACs per cycle (32, 64, 128, 256) |
//! | 0x08   | QBASE     | RW     | address of the first descriptor (4-byte aligned) |
//! | 0x0C   | QSIZE     | RW     | descriptors in the queue |
//! | 0x10   | CMD       | WO     | bit 0 START, bit 1 CLEAR (the interrupt and DONE/ERROR), bit 2 RESET_COUNTERS |
//! | 0x14   | STATUS    | RO     | bit 0 BUSY, bit 1 DONE, bit 2 ERROR, bit 3 DMA (a weight DMA in flight); bits 8-15 the error code |
//! | 0x18   | INTEN     | RW     | bit 0: interrupt on DONE or ERROR |
//! | 0x1C   | ERRINDEX  | RO     | the descriptor that failed |
//! | 0x20   | ACTIVE    | RO     | cycles running descriptors since RESET_COUNTERS (low word; 0x24 high) |
//! | 0x28   | IDLE      | RO     | cycles not running them (low; 0x2C high) |
//! | 0x30   | MACS      | RO     | multiply-accumulates (low; 0x34 high) |
//! | 0x38   | P0_READ   | RO     | bytes read through port 0 (SRAM) |
//! | 0x3C   | P0_WRITE  | RO     | bytes written through port 0 |
//! | 0x40   | P1_READ   | RO     | bytes read through port 1 (flash) |
//! | 0x44   | P1_WRITE  | RO     | bytes written through port 1 |
//! | 0x48   | DONE      | RO     | descriptors completed |
//!
//! Error codes: 1 bad descriptor (unknown operation, dimensions that do not agree or exceed
//! [`MAX_TENSOR_BYTES`], more work than [`MAX_WORK`]), 2 bus fault (an operand outside memory), 3 the kernel refused its
//! arguments. A descriptor is 48 little-endian words ([`DESCRIPTOR_BYTES`]); `WORD_*` names
//! each word, and `kernels/runtime/mcusim_npu.h` declares the same layout for firmware.
//!
//! `FLAGS` (word 44): bit 0, a fully connected layer's quantisation is per output channel;
//! bits 1, 2, 3, the input, the second input, the output lie in NHCWB16 bricks (the U55's
//! brick format, which Vela gives feature maps only the NPU touches: per row, channels 0-15
//! of every column, then 16-31, the depth padded to 16; `Format`) instead of NHWC. A brick
//! tensor takes `n * h * w * round_up(c, 16)` bytes; the NPU writes a brick's padding
//! channels as 0. The timing follows the format (its bursts and padded bytes).
//!
//! Weight DMA: a `WEIGHT_DMA` descriptor (operation 8: `IFM` the source, `OFM` the
//! destination, `LENGTH` the bytes) starts a copy on the NPU's own DMA channel, from flash
//! into an SRAM staging buffer, and completes at once: the copy runs in the background, one
//! after another, under whatever runs next (other descriptors, or the core), as the U55's
//! command stream issues `NPU_OP_DMA_START` ahead of the layer that waits for it. A later
//! descriptor whose weights are being copied starts when its first depth slice (its output
//! block's share of the channels) has arrived and ends no earlier than the whole copy (Vela's
//! buffered weights: `npuCycles = max(fullTransfer - slack, opCycles + initial - slack)` in
//! `EstimateFullOpPerformance`, the slack here being the time that really passed); one that
//! reads the destination otherwise waits for the whole copy. The copy is timed as Vela's
//! `MemToMemCycles` at the weights' encoded size; its bytes land at its end.
//!
//! Function: each operation is computed by the reference kernels of the `mnn` library, so the
//! NPU's results are bit-exact with the CPU kernels (and through them with TensorFlow Lite
//! Micro). Timing: [`crate::timing::npu`], Vela's model of the U55, per descriptor: the
//! descriptor's operands are read at its start (spread over its duration on the bus log, for
//! the core's contention with them), its output written at its end. Approximation: the NPU is
//! not slowed by the core's accesses in turn (as the DMA, `machine/contention.rs`).

use super::{Context, Device};
use crate::timing::npu::{self, Activation, Block, Format, Layer, Memory, Shape};
use mcusim_kernels as mnn;
use mcusim_traces::Cycles;

/// Weight DMAs under way at once: a further one waits for the oldest (guest-controlled
/// work is bounded: at most this many copies of at most [`MAX_TENSOR_BYTES`] are held).
const MAX_COPIES: usize = 4;
/// Bytes of one descriptor.
pub const DESCRIPTOR_BYTES: u32 = 48 * 4;
/// The largest tensor a descriptor may name (guest-controlled sizes are capped).
pub const MAX_TENSOR_BYTES: u64 = 16 << 20;
/// The most multiply-accumulates (or window elements, for pooling) one descriptor may ask
/// for: 2^30, about 50 times the largest layer of the MLPerf Tiny models and a few seconds of
/// the host's reference kernels. Guest-controlled work is bounded like its sizes.
pub const MAX_WORK: u64 = 1 << 30;
/// Cycles from START to the first descriptor's fetch, and between descriptors: the
/// descriptor fetch (48 words through the SRAM port). Approximation: the U55's command
/// stream parsing is not published; Vela counts none.
const FETCH_CYCLES: u64 = 32;

const ID: u32 = 0x4D4E_5055;

/// Descriptor words.
pub mod word {
    pub const OP: usize = 0;
    pub const IFM: usize = 1;
    pub const IFM2: usize = 2;
    pub const OFM: usize = 3;
    pub const WEIGHTS: usize = 4;
    pub const BIAS: usize = 5;
    pub const MULTIPLIER: usize = 6;
    pub const SHIFT: usize = 7;
    pub const IFM_DIMS: usize = 8;
    pub const IFM2_DIMS: usize = 12;
    pub const OFM_DIMS: usize = 16;
    pub const FILTER_DIMS: usize = 20;
    pub const STRIDE: usize = 24;
    pub const PAD: usize = 26;
    pub const DILATION: usize = 28;
    pub const DEPTH_MULTIPLIER: usize = 30;
    pub const ACT: usize = 31;
    pub const IFM_OFFSET: usize = 33;
    pub const IFM2_OFFSET: usize = 34;
    pub const OFM_OFFSET: usize = 35;
    pub const FILTER_OFFSET: usize = 36;
    pub const IFM_SCALE: usize = 37;
    pub const IFM2_SCALE: usize = 39;
    pub const LEFT_SHIFT: usize = 41;
    pub const OFM_SCALE: usize = 42;
    pub const FLAGS: usize = 44;
    pub const BLOCK: usize = 45;
    /// A weight DMA's bytes.
    pub const LENGTH: usize = 46;
}

/// The operations, as `word::OP` holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Conv = 1,
    Depthwise = 2,
    FullyConnected = 3,
    AvgPool = 4,
    MaxPool = 5,
    Add = 6,
    Mul = 7,
    WeightDma = 8,
}

impl Op {
    fn from_word(w: u32) -> Option<Op> {
        Some(match w {
            1 => Op::Conv,
            2 => Op::Depthwise,
            3 => Op::FullyConnected,
            4 => Op::AvgPool,
            5 => Op::MaxPool,
            6 => Op::Add,
            7 => Op::Mul,
            8 => Op::WeightDma,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Conv => "CONV_2D",
            Op::Depthwise => "DEPTHWISE_CONV_2D",
            Op::FullyConnected => "FULLY_CONNECTED",
            Op::AvgPool => "AVERAGE_POOL_2D",
            Op::MaxPool => "MAX_POOL_2D",
            Op::Add => "ADD",
            Op::Mul => "MUL",
            Op::WeightDma => "WEIGHT_DMA",
        }
    }
}

/// FLAGS: a fully connected layer's quantisation is per output channel.
const FLAG_PER_CHANNEL: u32 = 1;
/// FLAGS: the input, the second input, the output lie in NHCWB16 bricks ([`Format`]).
const FLAG_IFM_BRICKS: u32 = 2;
const FLAG_IFM2_BRICKS: u32 = 4;
const FLAG_OFM_BRICKS: u32 = 8;

const STATUS_BUSY: u32 = 1;
const STATUS_DONE: u32 = 2;
const STATUS_ERROR: u32 = 4;
const STATUS_DMA: u32 = 8;
const CMD_START: u32 = 1;
const CMD_CLEAR: u32 = 2;
const CMD_RESET_COUNTERS: u32 = 4;

/// Why a descriptor failed (the error code in STATUS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Descriptor = 1,
    Bus = 2,
    Kernel = 3,
}

/// The NPU's memories, per port: how the timing sees SRAM and flash.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ports {
    pub sram: Memory,
    pub flash: Memory,
}

impl Ports {
    /// The ports a board file gives.
    pub fn of(sram: &mcusim_boards::NpuPort, flash: &mcusim_boards::NpuPort) -> Ports {
        let memory = |p: &mcusim_boards::NpuPort, port: u8| Memory {
            // A 64-bit AXI port (Vela: 8 bytes per cycle for the U55) at the memory's clock.
            bytes_per_cycle: 8.0 / f64::from(p.clock_divider.max(1)),
            burst: u32::from(p.burst_bytes),
            read_latency: u32::from(p.read_latency),
            write_latency: u32::from(p.write_latency),
            port,
        };
        Ports {
            sram: memory(sram, 0),
            flash: memory(flash, 1),
        }
    }
}

/// A descriptor being run: its output, written when it ends.
#[derive(Debug)]
struct Running {
    index: u32,
    began: Cycles,
    end: Cycles,
    ofm: u32,
    out: Vec<i8>,
    macs: u64,
    /// What the profile calls it (the operation and its bound); empty for a weight DMA,
    /// which is logged as its copy.
    label: String,
    bytes: [u64; 4],
}

/// A weight DMA under way: its bytes, read at its start, land at `dst` at `end`.
#[derive(Debug)]
struct Copy {
    dst: u32,
    data: Vec<u8>,
    begin: Cycles,
    end: Cycles,
    /// The bytes as timed (encoded).
    moved: u64,
    /// The descriptor that started it.
    index: u32,
}

impl Copy {
    fn overlaps(&self, addr: u32, len: u64) -> bool {
        let (a, b) = (u64::from(addr), u64::from(addr) + len);
        let (c, d) = (
            u64::from(self.dst),
            u64::from(self.dst) + self.data.len() as u64,
        );
        a < d && c < b
    }
}

#[derive(Debug)]
pub struct Npu {
    cfg: npu::Config,
    ports: Ports,
    qbase: u32,
    qsize: u32,
    inten: u32,
    status: u32,
    error_index: u32,
    next: u32,
    running: Option<Running>,
    /// Weight DMAs under way, oldest first (they run one after another).
    copies: Vec<Copy>,
    /// When the counters were last reset, and the active cycles and MACs since.
    since: Cycles,
    active: u64,
    macs: u64,
    /// Port 0 read/write, port 1 read/write.
    bytes: [u64; 4],
    done: u32,
}

/// A descriptor's words.
struct Words([u32; 48]);

impl Words {
    fn i(&self, w: usize) -> i32 {
        self.0[w] as i32
    }
    fn dims(&self, w: usize) -> Result<mnn::Dims, Fault> {
        let d = mnn::Dims::new(self.i(w), self.i(w + 1), self.i(w + 2), self.i(w + 3));
        let ok =
            [d.n, d.h, d.w, d.c].iter().all(|&x| x > 0) && (d.len() as u64) <= MAX_TENSOR_BYTES;
        ok.then_some(d).ok_or(Fault::Descriptor)
    }
    fn act(&self) -> mnn::Activation {
        mnn::Activation {
            min: self.i(word::ACT),
            max: self.i(word::ACT + 1),
        }
    }
}

fn shape(d: mnn::Dims) -> Shape {
    Shape::new(d.n as u32, d.h as u32, d.w as u32, d.c as u32)
}

/// The bytes a tensor of `d` takes in `format`.
fn stored(d: mnn::Dims, format: Format) -> usize {
    d.len() / d.c.max(1) as usize * format.depth(d.c as u32) as usize
}

/// Where element (row `y` of batch `n`, column `x`, channel `c`) of a tensor of `d` lies in
/// `format`: NHWC, or NHCWB16 (per row, 16 channels of every column, then the next 16).
fn offset(d: mnn::Dims, format: Format, n: usize, y: usize, x: usize, c: usize) -> usize {
    let (h, w, depth) = (d.h as usize, d.w as usize, d.c as usize);
    let row = n * h + y;
    match format {
        Format::Nhwc => (row * w + x) * depth + c,
        Format::Nhcwb16 => {
            let padded = format.depth(d.c as u32) as usize;
            row * w * padded + (c / 16) * w * 16 + x * 16 + c % 16
        }
    }
}

/// A tensor of `d` read in `format`, as NHWC.
fn to_nhwc(d: mnn::Dims, format: Format, data: Vec<i8>) -> Vec<i8> {
    if format == Format::Nhwc {
        return data;
    }
    let mut out = Vec::with_capacity(d.len());
    for n in 0..d.n as usize {
        for y in 0..d.h as usize {
            for x in 0..d.w as usize {
                for c in 0..d.c as usize {
                    out.push(data[offset(d, format, n, y, x, c)]);
                }
            }
        }
    }
    out
}

/// An NHWC tensor of `d` laid out in `format` (a brick's channels past the depth are 0).
fn from_nhwc(d: mnn::Dims, format: Format, data: Vec<i8>) -> Vec<i8> {
    if format == Format::Nhwc {
        return data;
    }
    let mut out = vec![0i8; stored(d, format)];
    let mut k = 0;
    for n in 0..d.n as usize {
        for y in 0..d.h as usize {
            for x in 0..d.w as usize {
                for c in 0..d.c as usize {
                    out[offset(d, format, n, y, x, c)] = data[k];
                    k += 1;
                }
            }
        }
    }
    out
}

impl Npu {
    /// An NPU of `macs` MACs per cycle (32, 64, 128 or 256) with memories `ports`.
    pub fn new(macs: u16, ports: Ports) -> Npu {
        Npu {
            cfg: npu::Config::u55(u32::from(macs))
                .unwrap_or_else(|| npu::Config::u55(128).expect("128 is a U55 configuration")),
            ports,
            qbase: 0,
            qsize: 0,
            inten: 0,
            status: 0,
            error_index: 0,
            next: 0,
            running: None,
            copies: Vec::new(),
            since: Cycles::ZERO,
            active: 0,
            macs: 0,
            bytes: [0; 4],
            done: 0,
        }
    }

    fn memory(&self, addr: u32, cx: &mut Context<'_>) -> Memory {
        if cx.bus().is_flash(addr) {
            self.ports.flash
        } else {
            self.ports.sram
        }
    }

    fn fetch(
        &self,
        cx: &mut Context<'_>,
        addr: u32,
        len: u64,
        at: Cycles,
        span: u64,
    ) -> Result<Vec<u8>, Fault> {
        if len > MAX_TENSOR_BYTES {
            return Err(Fault::Descriptor);
        }
        let mut buf = vec![0u8; len as usize];
        // Read in bursts spread over the descriptor's time, for the core's contention.
        const CHUNK: usize = 1024;
        let chunks = buf.len().div_ceil(CHUNK).max(1) as u64;
        for (k, part) in buf.chunks_mut(CHUNK).enumerate() {
            let a = addr.checked_add((k * CHUNK) as u32).ok_or(Fault::Bus)?;
            cx.bus().set_time(at + Cycles(span * k as u64 / chunks));
            cx.bus().read(a, part).map_err(|_| Fault::Bus)?;
        }
        Ok(buf)
    }

    fn read_i8(
        &self,
        cx: &mut Context<'_>,
        addr: u32,
        len: usize,
        at: Cycles,
        span: u64,
    ) -> Result<Vec<i8>, Fault> {
        Ok(self
            .fetch(cx, addr, len as u64, at, span)?
            .into_iter()
            .map(|b| b as i8)
            .collect())
    }

    fn read_i32(
        &self,
        cx: &mut Context<'_>,
        addr: u32,
        n: usize,
        at: Cycles,
        span: u64,
    ) -> Result<Vec<i32>, Fault> {
        Ok(self
            .fetch(cx, addr, 4 * n as u64, at, span)?
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// Fetches and runs descriptor `self.next` from `at`; sets `running` or the error.
    fn launch(&mut self, at: Cycles, cx: &mut Context<'_>) {
        let index = self.next;
        match self.run(index, at, cx) {
            Ok(r) => self.running = Some(r),
            Err(f) => self.fail(f, index, cx),
        }
    }

    fn run(&mut self, index: u32, at: Cycles, cx: &mut Context<'_>) -> Result<Running, Fault> {
        let addr = index
            .checked_mul(DESCRIPTOR_BYTES)
            .and_then(|o| self.qbase.checked_add(o))
            .ok_or(Fault::Bus)?;
        let raw = self.fetch(cx, addr, u64::from(DESCRIPTOR_BYTES), at, 0)?;
        let mut w = [0u32; 48];
        for (v, c) in w.iter_mut().zip(raw.chunks_exact(4)) {
            *v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        let d = Words(w);
        let op = Op::from_word(d.0[word::OP]).ok_or(Fault::Descriptor)?;
        let start = at + Cycles(FETCH_CYCLES);
        if op == Op::WeightDma {
            let end = self.start_copy(&d, index, start, cx)?;
            return Ok(Running {
                index,
                began: at,
                end,
                ofm: 0,
                out: Vec::new(),
                macs: 0,
                label: String::new(),
                bytes: [0; 4],
            });
        }
        let ifm_d = d.dims(word::IFM_DIMS)?;
        let ofm_d = d.dims(word::OFM_DIMS)?;
        let elementwise = matches!(op, Op::Add | Op::Mul);
        let ifm2_d = if elementwise {
            Some(d.dims(word::IFM2_DIMS)?)
        } else {
            None
        };
        let filter_d = match op {
            Op::Conv | Op::Depthwise | Op::FullyConnected => Some(d.dims(word::FILTER_DIMS)?),
            _ => None,
        };
        let (kernel, stride, dilation) = match op {
            Op::FullyConnected | Op::Add | Op::Mul => ((1, 1), (1, 1), (1, 1)),
            _ => {
                let k = (d.0[word::FILTER_DIMS + 1], d.0[word::FILTER_DIMS + 2]);
                let s = (d.0[word::STRIDE], d.0[word::STRIDE + 1]);
                let dl = if matches!(op, Op::Conv | Op::Depthwise) {
                    (d.0[word::DILATION], d.0[word::DILATION + 1])
                } else {
                    (1, 1)
                };
                let ok = [k.0, k.1, s.0, s.1, dl.0, dl.1]
                    .iter()
                    .all(|&x| (1..=1024).contains(&x));
                if !ok {
                    return Err(Fault::Descriptor);
                }
                (k, s, dl)
            }
        };
        // The work the datapath (the reference kernels, on the host) would do: capped, so a
        // descriptor cannot keep mcusim busy for hours between two of its looks at the time.
        let window = u64::from(kernel.0) * u64::from(kernel.1);
        let per_output = match (op, filter_d) {
            (Op::Conv, Some(f)) => window * f.c as u64,
            (Op::FullyConnected, Some(f)) => f.c as u64,
            (Op::Depthwise | Op::AvgPool | Op::MaxPool, _) => window,
            _ => 1,
        };
        if (ofm_d.len() as u64).saturating_mul(per_output) > MAX_WORK {
            return Err(Fault::Descriptor);
        }
        let flags = d.0[word::FLAGS];
        let format = |bit: u32| {
            if flags & bit != 0 {
                Format::Nhcwb16
            } else {
                Format::Nhwc
            }
        };
        let (ifm_f, ifm2_f, ofm_f) = (
            format(FLAG_IFM_BRICKS),
            format(FLAG_IFM2_BRICKS),
            format(FLAG_OFM_BRICKS),
        );
        let act = d.act();
        let activation = if act.min > -128 || act.max < 127 {
            Activation::Relu
        } else {
            Activation::None
        };
        let weighted = filter_d.is_some();
        // FC as Vela sees it: one 1x1 vector product per batch row.
        let (ifm_s, ofm_s) = if op == Op::FullyConnected {
            let rows = ifm_d.len() as u32 / filter_d.map_or(1, |f| f.c.max(1) as u32);
            (
                Shape::new(1, 1, rows.max(1), filter_d.map_or(1, |f| f.c as u32)),
                Shape::new(1, 1, rows.max(1), filter_d.map_or(1, |f| f.n as u32)),
            )
        } else {
            (shape(ifm_d), shape(ofm_d))
        };
        let layer = Layer {
            block: match op {
                Op::Conv => Block::Convolution,
                Op::Depthwise => Block::Depthwise,
                Op::FullyConnected => Block::VectorProduct,
                Op::AvgPool => Block::Pooling { max: false },
                Op::MaxPool => Block::Pooling { max: true },
                Op::Add => Block::Elementwise { mul: false },
                Op::Mul | Op::WeightDma => Block::Elementwise { mul: true },
            },
            ifm: ifm_s,
            ifm2: ifm2_d.map(shape),
            ofm: ofm_s,
            kernel,
            stride,
            dilation,
            activation,
            weighted,
            weight_stream: 0,
            ifm_mem: self.memory(d.0[word::IFM], cx),
            ifm2_mem: self.memory(d.0[word::IFM2], cx),
            ofm_mem: self.memory(d.0[word::OFM], cx),
            weights_mem: self.memory(d.0[word::WEIGHTS], cx),
            scales_mem: self.memory(
                match d.0[word::BIAS] {
                    0 => d.0[word::MULTIPLIER],
                    a => a,
                },
                cx,
            ),
            ifm_format: ifm_f,
            ifm2_format: ifm2_f,
            ofm_format: ofm_f,
        };
        let block = d.0[word::BLOCK];
        let bc = if block == 0 {
            npu::find_block_config(&self.cfg, &layer).ok_or(Fault::Descriptor)?
        } else {
            let ofm = Shape::new(1, block & 0xFF, (block >> 8) & 0xFF, (block >> 16) & 0xFFFF);
            if ofm.elements() == 0 {
                return Err(Fault::Descriptor);
            }
            // The input block follows the descriptor's output block, not the search's.
            npu::block_config(&self.cfg, &layer, ofm)
        };
        let per_out = |d: &Words| -> usize {
            match op {
                Op::FullyConnected if d.0[word::FLAGS] & FLAG_PER_CHANNEL == 0 => 1,
                Op::FullyConnected => filter_d.map_or(1, |f| f.n as usize),
                _ => ofm_d.c as usize,
            }
        };
        // Weight DMAs into this descriptor's operands: the weights' own may still be
        // arriving (the layer starts on its first depth slice); any other must have landed.
        let channels = match (op, filter_d) {
            (Op::FullyConnected, Some(f)) => f.n as u64,
            _ => ofm_d.c as u64,
        };
        let mut operands = vec![
            (d.0[word::IFM], stored(ifm_d, ifm_f) as u64),
            (d.0[word::OFM], stored(ofm_d, ofm_f) as u64),
        ];
        if let Some(d2) = ifm2_d {
            operands.push((d.0[word::IFM2], stored(d2, ifm2_f) as u64));
        }
        if weighted {
            let nq = 4 * per_out(&d) as u64;
            if d.0[word::BIAS] != 0 {
                operands.push((d.0[word::BIAS], 4 * channels));
            }
            operands.push((d.0[word::MULTIPLIER], nq));
            operands.push((d.0[word::SHIFT], nq));
        }
        let start = self
            .land(cx, &operands)
            .map_or(start, |(_, end)| start.max(end));
        let staged = match filter_d {
            Some(f) => self.land(cx, &[(d.0[word::WEIGHTS], f.len() as u64)]),
            None => None,
        };
        // The weights first: their encoded size sets the weight stream's time.
        let mut layer = layer;
        let weights = match filter_d {
            Some(f) => {
                let w = self.read_i8(cx, d.0[word::WEIGHTS], f.len(), start, 0)?;
                layer.weight_stream = npu::encoded_weight_bytes(&w);
                Some(w)
            }
            None => None,
        };
        let est = npu::estimate(&self.cfg, &layer, bc);
        let span = est.cycles;
        let x = self.read_i8(cx, d.0[word::IFM], stored(ifm_d, ifm_f), start, span)?;
        let x = to_nhwc(ifm_d, ifm_f, x);
        let kernel_err = |_| Fault::Kernel;
        // Staged weights: the first depth slice before the first block, the whole copy
        // before the last.
        let cycles = match staged {
            Some((begin, end)) => {
                let depth = u128::from(est.block.ofm.c.min(layer.ofm.c));
                let slice = u128::from((end - begin).0) * depth / u128::from(layer.ofm.c.max(1));
                let first = begin + Cycles(slice as u64);
                let wait = (first - first.min(start)).0;
                (est.cycles + wait).max((end - end.min(start)).0)
            }
            None => est.cycles,
        };
        let mut bytes = [0u64; 4];
        let mut count = |addr: u32, n: u64, write: bool, this: &Self, cx: &mut Context<'_>| {
            let p = usize::from(this.memory(addr, cx).port.min(1));
            bytes[2 * p + usize::from(write)] += n;
        };
        count(d.0[word::IFM], stored(ifm_d, ifm_f) as u64, false, self, cx);
        let out = match op {
            Op::Conv | Op::Depthwise | Op::FullyConnected => {
                let f = filter_d.ok_or(Fault::Descriptor)?;
                let weights = weights.unwrap_or_default();
                count(d.0[word::WEIGHTS], est.weights_read, false, self, cx);
                let channels = if op == Op::FullyConnected {
                    f.n as usize
                } else {
                    ofm_d.c as usize
                };
                let bias = match d.0[word::BIAS] {
                    0 => None,
                    a => {
                        count(a, 4 * channels as u64, false, self, cx);
                        Some(self.read_i32(cx, a, channels, start, span)?)
                    }
                };
                let nq = per_out(&d);
                let quant = mnn::ChannelQuant {
                    multiplier: self.read_i32(cx, d.0[word::MULTIPLIER], nq, start, span)?,
                    shift: self.read_i32(cx, d.0[word::SHIFT], nq, start, span)?,
                };
                count(d.0[word::MULTIPLIER], 8 * nq as u64, false, self, cx);
                let r = mnn::Variant::Reference;
                match op {
                    Op::Conv => mnn::conv(
                        r,
                        &mnn::ConvParams {
                            input_offset: d.i(word::IFM_OFFSET),
                            output_offset: d.i(word::OFM_OFFSET),
                            stride_h: d.i(word::STRIDE),
                            stride_w: d.i(word::STRIDE + 1),
                            pad_h: d.i(word::PAD),
                            pad_w: d.i(word::PAD + 1),
                            dilation_h: d.i(word::DILATION),
                            dilation_w: d.i(word::DILATION + 1),
                            activation: act,
                        },
                        &quant,
                        ifm_d,
                        &x,
                        f,
                        &weights,
                        bias.as_deref(),
                        ofm_d,
                    ),
                    Op::Depthwise => mnn::depthwise_conv(
                        r,
                        &mnn::DwConvParams {
                            input_offset: d.i(word::IFM_OFFSET),
                            output_offset: d.i(word::OFM_OFFSET),
                            depth_multiplier: d.i(word::DEPTH_MULTIPLIER),
                            stride_h: d.i(word::STRIDE),
                            stride_w: d.i(word::STRIDE + 1),
                            pad_h: d.i(word::PAD),
                            pad_w: d.i(word::PAD + 1),
                            dilation_h: d.i(word::DILATION),
                            dilation_w: d.i(word::DILATION + 1),
                            activation: act,
                        },
                        &quant,
                        ifm_d,
                        &x,
                        f,
                        &weights,
                        bias.as_deref(),
                        ofm_d,
                    ),
                    _ => mnn::fully_connected(
                        r,
                        &mnn::FcParams {
                            input_offset: d.i(word::IFM_OFFSET),
                            filter_offset: d.i(word::FILTER_OFFSET),
                            output_offset: d.i(word::OFM_OFFSET),
                            activation: act,
                        },
                        &quant,
                        d.0[word::FLAGS] & FLAG_PER_CHANNEL != 0,
                        ifm_d,
                        &x,
                        f,
                        &weights,
                        bias.as_deref(),
                    ),
                }
                .map_err(kernel_err)?
            }
            Op::AvgPool | Op::MaxPool => mnn::pool(
                mnn::Variant::Reference,
                op == Op::AvgPool,
                &mnn::PoolParams {
                    stride_h: d.i(word::STRIDE),
                    stride_w: d.i(word::STRIDE + 1),
                    pad_h: d.i(word::PAD),
                    pad_w: d.i(word::PAD + 1),
                    filter_h: d.i(word::FILTER_DIMS + 1),
                    filter_w: d.i(word::FILTER_DIMS + 2),
                    activation: act,
                },
                ifm_d,
                &x,
                ofm_d,
            )
            .map_err(kernel_err)?,
            Op::WeightDma => return Err(Fault::Descriptor),
            Op::Add | Op::Mul => {
                let d2 = ifm2_d.ok_or(Fault::Descriptor)?;
                let y = self.read_i8(cx, d.0[word::IFM2], stored(d2, ifm2_f), start, span)?;
                let y = to_nhwc(d2, ifm2_f, y);
                count(d.0[word::IFM2], stored(d2, ifm2_f) as u64, false, self, cx);
                if op == Op::Add {
                    mnn::add(
                        mnn::Variant::Reference,
                        &mnn::AddParams {
                            input1_offset: d.i(word::IFM_OFFSET),
                            input1_multiplier: d.i(word::IFM_SCALE),
                            input1_shift: d.i(word::IFM_SCALE + 1),
                            input2_offset: d.i(word::IFM2_OFFSET),
                            input2_multiplier: d.i(word::IFM2_SCALE),
                            input2_shift: d.i(word::IFM2_SCALE + 1),
                            left_shift: d.i(word::LEFT_SHIFT),
                            output_offset: d.i(word::OFM_OFFSET),
                            output_multiplier: d.i(word::OFM_SCALE),
                            output_shift: d.i(word::OFM_SCALE + 1),
                            activation: act,
                        },
                        ifm_d,
                        &x,
                        d2,
                        &y,
                        ofm_d,
                    )
                } else {
                    mnn::mul(
                        mnn::Variant::Reference,
                        &mnn::MulParams {
                            input1_offset: d.i(word::IFM_OFFSET),
                            input2_offset: d.i(word::IFM2_OFFSET),
                            output_offset: d.i(word::OFM_OFFSET),
                            output_multiplier: d.i(word::OFM_SCALE),
                            output_shift: d.i(word::OFM_SCALE + 1),
                            activation: act,
                        },
                        ifm_d,
                        &x,
                        d2,
                        &y,
                        ofm_d,
                    )
                }
                .map_err(kernel_err)?
            }
        };
        // The kernels' output is NHWC of the output's dimensions (a fully connected layer's
        // is [batch, out]).
        let out = if ofm_f == Format::Nhwc {
            out
        } else if out.len() == ofm_d.len() {
            from_nhwc(ofm_d, ofm_f, out)
        } else {
            return Err(Fault::Descriptor);
        };
        count(d.0[word::OFM], out.len() as u64, true, self, cx);
        let bound = if cycles > est.cycles && staged.is_some() {
            "weights".to_string()
        } else {
            format!("{:?}", est.bound).to_lowercase()
        };
        Ok(Running {
            index,
            began: at,
            end: start + Cycles(cycles),
            ofm: d.0[word::OFM],
            out,
            macs: est.macs,
            label: format!("{} ({bound})", op.name().to_lowercase()),
            bytes,
        })
    }

    /// Starts the weight DMA of descriptor `d` at `at`, after the ones under way; returns
    /// when the descriptor is done (at once, unless [`MAX_COPIES`] are under way: then when
    /// the oldest has landed).
    fn start_copy(
        &mut self,
        d: &Words,
        index: u32,
        at: Cycles,
        cx: &mut Context<'_>,
    ) -> Result<Cycles, Fault> {
        let (src, dst, len) = (d.0[word::IFM], d.0[word::OFM], d.0[word::LENGTH]);
        if len == 0 || u64::from(len) > MAX_TENSOR_BYTES || dst.checked_add(len).is_none() {
            return Err(Fault::Descriptor);
        }
        let mut at = at;
        while self.copies.len() >= MAX_COPIES {
            let oldest = (self.copies[0].dst, self.copies[0].data.len() as u64);
            if let Some((_, end)) = self.land(cx, &[oldest]) {
                at = at.max(end);
            }
        }
        let (from, to) = (self.memory(src, cx), self.memory(dst, cx));
        let begin = self.copies.last().map_or(at, |c| c.end.max(at));
        // Read at the source's rate (its reads spread over the raw bytes' time, for the
        // core's contention), timed at the encoded size as Vela's `MemToMemCycles`.
        let raw_span = (f64::from(len) / from.bytes_per_cycle) as u64;
        let data = self.fetch(cx, src, u64::from(len), begin, raw_span)?;
        let weights: Vec<i8> = data.iter().map(|&b| b as i8).collect();
        let moved = npu::encoded_weight_bytes(&weights);
        let side = |m: &Memory, latency: u32| {
            (moved as f64 / m.bytes_per_cycle) as u64 + u64::from(latency)
        };
        let cycles = side(&from, from.read_latency).max(side(&to, to.write_latency));
        let p = |m: &Memory| usize::from(m.port.min(1));
        self.bytes[2 * p(&from)] += moved;
        self.bytes[2 * p(&to) + 1] += moved;
        self.copies.push(Copy {
            dst,
            data,
            begin,
            end: begin + Cycles(cycles),
            moved,
            index,
        });
        Ok(at)
    }

    /// Lands the weight DMAs that write into any of `ranges` (address, bytes), or with
    /// `ranges` empty, those that have ended by now; returns when the first of them began
    /// and the last ends.
    fn land(&mut self, cx: &mut Context<'_>, ranges: &[(u32, u64)]) -> Option<(Cycles, Cycles)> {
        let now = cx.now();
        let mut span: Option<(Cycles, Cycles)> = None;
        let mut k = 0;
        while k < self.copies.len() {
            let c = &self.copies[k];
            let hit = if ranges.is_empty() {
                c.end <= now
            } else {
                ranges.iter().any(|&(a, n)| c.overlaps(a, n))
            };
            if !hit {
                k += 1;
                continue;
            }
            let c = self.copies.remove(k);
            span = Some(span.map_or((c.begin, c.end), |(b, e)| (b.min(c.begin), e.max(c.end))));
            cx.bus().set_time(c.end);
            if cx.bus().write(c.dst, &c.data).is_err() {
                self.fail(Fault::Bus, c.index, cx);
            }
            cx.record(c.begin, c.end, 2 * c.moved, 0, "weight dma");
        }
        span
    }

    fn fail(&mut self, f: Fault, index: u32, cx: &mut Context<'_>) {
        self.status = (self.status & !(STATUS_BUSY | 0xFF00)) | STATUS_ERROR | ((f as u32) << 8);
        self.error_index = index;
        self.irq(cx);
    }

    fn irq(&self, cx: &mut Context<'_>) {
        cx.set_irq(self.inten & 1 != 0 && self.status & (STATUS_DONE | STATUS_ERROR) != 0);
    }

    fn counters(&self, now: Cycles) -> (u64, u64) {
        let total = (now - self.since.min(now)).0;
        (self.active, total.saturating_sub(self.active))
    }
}

impl Device for Npu {
    fn read(&mut self, offset: u32, _size: usize, cx: &mut Context<'_>) -> u32 {
        let (active, idle) = self.counters(cx.now());
        match offset {
            0x00 => ID,
            0x04 => self.cfg.macs,
            0x08 => self.qbase,
            0x0C => self.qsize,
            0x14 => {
                self.status
                    | if self.copies.is_empty() {
                        0
                    } else {
                        STATUS_DMA
                    }
            }
            0x18 => self.inten,
            0x1C => self.error_index,
            0x20 => active as u32,
            0x24 => (active >> 32) as u32,
            0x28 => idle as u32,
            0x2C => (idle >> 32) as u32,
            0x30 => self.macs as u32,
            0x34 => (self.macs >> 32) as u32,
            0x38..=0x44 => self.bytes[((offset - 0x38) / 4) as usize] as u32,
            0x48 => self.done,
            _ => 0,
        }
    }

    fn write(&mut self, offset: u32, _size: usize, value: u32, cx: &mut Context<'_>) {
        match offset {
            0x08 => self.qbase = value & !3,
            0x0C => self.qsize = value,
            0x18 => {
                self.inten = value & 1;
                self.irq(cx);
            }
            0x10 => {
                if value & CMD_RESET_COUNTERS != 0 {
                    self.since = cx.now();
                    self.active = 0;
                    self.macs = 0;
                    self.bytes = [0; 4];
                    self.done = 0;
                }
                if value & CMD_CLEAR != 0 {
                    self.status &= STATUS_BUSY;
                    self.irq(cx);
                }
                if value & CMD_START != 0 && self.status & STATUS_BUSY == 0 {
                    self.status = STATUS_BUSY;
                    self.next = 0;
                    self.irq(cx);
                    if self.qsize == 0 {
                        self.status = STATUS_DONE;
                        self.irq(cx);
                    } else {
                        self.launch(cx.now(), cx);
                    }
                }
            }
            _ => {}
        }
    }

    fn advance(&mut self, cx: &mut Context<'_>) {
        while let Some(r) = self.running.take_if(|r| r.end <= cx.now()) {
            // The output, written back over the descriptor's time.
            if !r.out.is_empty() {
                let data: Vec<u8> = r.out.iter().map(|&v| v as u8).collect();
                cx.bus().set_time(r.end);
                if cx.bus().write(r.ofm, &data).is_err() {
                    self.fail(Fault::Bus, r.index, cx);
                    return;
                }
            }
            let cycles = (r.end - r.began).0;
            self.active += cycles;
            self.macs += r.macs;
            for (t, b) in self.bytes.iter_mut().zip(r.bytes) {
                *t += b;
            }
            self.done += 1;
            if !r.label.is_empty() {
                let moved: u64 = r.bytes.iter().sum();
                cx.record(r.began, r.end, moved, r.macs, &r.label);
            }
            self.next = r.index + 1;
            if self.next < self.qsize {
                self.launch(r.end, cx);
            } else {
                self.status = STATUS_DONE;
                self.irq(cx);
            }
        }
        self.land(cx, &[]);
    }

    fn next_event(&self) -> Option<Cycles> {
        let copy = self.copies.iter().map(|c| c.end).min();
        match (self.running.as_ref().map(|r| r.end), copy) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NHCWB16 puts 16 channels of a whole row side by side, then the next 16, the last
    /// brick padded; converting there and back is the identity.
    #[test]
    fn bricks_lay_out_rows_of_16_channels() {
        let d = mnn::Dims::new(1, 2, 3, 20);
        let f = Format::Nhcwb16;
        assert_eq!(stored(d, f), 2 * 3 * 32);
        assert_eq!(stored(d, Format::Nhwc), 2 * 3 * 20);
        assert_eq!(offset(d, f, 0, 0, 0, 0), 0);
        assert_eq!(offset(d, f, 0, 0, 1, 0), 16);
        assert_eq!(offset(d, f, 0, 0, 0, 16), 3 * 16);
        assert_eq!(offset(d, f, 0, 1, 2, 19), 3 * 32 + 3 * 16 + 2 * 16 + 3);
        let nhwc: Vec<i8> = (0..d.len()).map(|i| (i % 251) as i8).collect();
        let bricks = from_nhwc(d, f, nhwc.clone());
        assert_eq!(bricks.len(), stored(d, f));
        assert_eq!(bricks[3 * 16 + 4..3 * 16 + 16], [0; 12]);
        assert_eq!(to_nhwc(d, f, bricks), nhwc);
    }
}
