//! The NPU's cycle model: an Ethos-U55 of 32 to 256 MACs per cycle, as Arm's open-source Vela
//! compiler (`ethos-u-vela` 5.x, Apache-2.0) estimates it. Each function below follows one
//! function of Vela's `npu_performance.py` or `architecture_allocator.py`, or of its C++ core's
//! `ethos_u55_performance.cpp` where 5.2's command-line compiler estimates otherwise (named in
//! its comment); the constants are Vela's `architecture_features.py` tables for the U55
//! configurations. The structure, the derivation of every cycle, is the published one; the
//! code is mcusim's.
//!
//! What one layer (a descriptor) costs, as Vela's `estimate_full_op_performance`:
//! - **compute** (`npu_cycles`): per output block, the MAC array's cycles for the kernel's
//!   sub-kernels and micro-blocks, against the output unit's cycles per element; the larger
//!   of the two per block, times the blocks, plus one of the other (blocks pipelined);
//! - **memory** (`port_cycles`): the bytes each port moves (feature maps re-read per
//!   sub-kernel and output block, weights re-read per output block), scaled by the burst
//!   efficiency, over the port's bytes per cycle;
//! - the layer takes the largest of compute and each port: they overlap per block, so the
//!   slowest of them bounds the layer (`bound`).
//!
//! Weights are read once per output block in height and width, from where they lie: flash,
//! or the SRAM staging buffer the firmware had the NPU's weight DMA copy them into ahead of
//! the layer (Vela's weight buffering; the DMA and the wait for it are the device's,
//! `devices/npu.rs`). Approximations: the weights are stored as int8 and timed at the size
//! Vela's encoder would give them ([`encoded_weight_bytes`]). Feature maps are int8, in NHWC
//! or in the U55's NHCWB16 bricks ([`Format`]), each timed as it lies.

/// Bits in the feature maps: mcusim's NPU runs int8 networks.
const IFM_BITS: u32 = 8;

/// A tensor shape, NHWC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub n: u32,
    pub h: u32,
    pub w: u32,
    pub c: u32,
}

impl Shape {
    pub const fn new(n: u32, h: u32, w: u32, c: u32) -> Shape {
        Shape { n, h, w, c }
    }
    pub fn elements(self) -> u64 {
        u64::from(self.n) * u64::from(self.h) * u64::from(self.w) * u64::from(self.c)
    }
    fn elements_wh(self) -> u64 {
        u64::from(self.h) * u64::from(self.w)
    }
    fn min(self, o: Shape) -> Shape {
        Shape::new(
            self.n.min(o.n),
            self.h.min(o.h),
            self.w.min(o.w),
            self.c.min(o.c),
        )
    }
    fn div_round_up(self, o: Shape) -> Shape {
        Shape::new(
            self.n.div_ceil(o.n.max(1)),
            self.h.div_ceil(o.h.max(1)),
            self.w.div_ceil(o.w.max(1)),
            self.c.div_ceil(o.c.max(1)),
        )
    }
}

fn round_up(x: u32, q: u32) -> u32 {
    x.div_ceil(q.max(1)) * q.max(1)
}

/// How a feature map lies in memory (Vela's `TensorFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Channels innermost, as the CPU kernels (and TensorFlow Lite) store tensors.
    #[default]
    Nhwc,
    /// Bricks of 16 channels: for each row, channels 0-15 of every column, then 16-31, and
    /// so on, the depth padded to a multiple of 16 (the U55's `NHCWB16`, which Vela gives
    /// every feature map that only the NPU writes and reads).
    Nhcwb16,
}

impl Format {
    /// The depth the format stores (Vela's `GetStorageRounding`).
    pub fn depth(self, c: u32) -> u32 {
        match self {
            Format::Nhwc => c,
            Format::Nhcwb16 => round_up(c, 16),
        }
    }
    fn round(self, s: Shape) -> Shape {
        Shape {
            c: self.depth(s.c),
            ..s
        }
    }
}

/// The block types of the U55's command stream, as Vela's `NpuBlockType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// CONV_2D.
    Convolution,
    /// DEPTHWISE_CONV_2D.
    Depthwise,
    /// FULLY_CONNECTED.
    VectorProduct,
    /// AVERAGE_POOL_2D, MAX_POOL_2D (`max` picks the max-pool output rate).
    Pooling { max: bool },
    /// ADD, MUL.
    Elementwise { mul: bool },
}

/// One configuration of the U55, from Vela's `ArchitectureFeatures.accelerator_configs` and
/// `_generate_output_perf_tables`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    pub macs: u32,
    /// The output micro-block (h, w, c): what the MAC array produces per step.
    ublock: (u32, u32, u32),
    /// The input micro-block depth.
    ifm_ublock_c: u32,
    shram_banks: u32,
    /// SHRAM granules: IFM8, IFM16, IFM8 elementwise, IFM16 elementwise, IFM32, Acc16, Acc32,
    /// Acc40.
    granules: [u32; 8],
    /// Output unit cycles per element (Vela's `output_cycles_per_elem`).
    output_cycles: [f64; 8],
    /// Activation unit cycles per element (`activation_cycles_per_elem`).
    activation_cycles: [f64; 3],
}

impl Config {
    /// The U55 with `macs` MACs per cycle (32, 64, 128 or 256), if it exists.
    pub fn u55(macs: u32) -> Option<Config> {
        let c = match macs {
            32 => Config {
                macs,
                ublock: (1, 1, 4),
                ifm_ublock_c: 8,
                shram_banks: 16,
                granules: [2, 2, 2, 2, 4, 4, 4, 4],
                output_cycles: [2.0, 3.0, 3.0, 3.0, 4.0, 6.0, 1.0, 2.0],
                activation_cycles: [1.0, 1.0, 0.0],
            },
            64 => Config {
                macs,
                ublock: (1, 1, 8),
                ifm_ublock_c: 8,
                shram_banks: 16,
                granules: [2, 2, 2, 2, 4, 4, 4, 8],
                output_cycles: [1.0, 1.5, 1.5, 1.5, 2.0, 3.0, 0.5, 1.0],
                activation_cycles: [1.0, 1.0, 0.0],
            },
            128 => Config {
                macs,
                ublock: (1, 2, 8),
                ifm_ublock_c: 8,
                shram_banks: 24,
                granules: [4, 4, 4, 4, 8, 4, 8, 12],
                output_cycles: [0.75, 1.25, 0.75, 0.75, 1.0, 1.5, 0.25, 0.5],
                activation_cycles: [1.0, 0.5, 0.0],
            },
            256 => Config {
                macs,
                ublock: (2, 2, 8),
                ifm_ublock_c: 8,
                shram_banks: 48,
                granules: [8, 8, 8, 8, 16, 8, 16, 20],
                output_cycles: [0.625, 1.125, 0.5, 0.375, 0.5, 0.75, 0.125, 0.25],
                activation_cycles: [1.0, 0.25, 0.0],
            },
            _ => return None,
        };
        Some(c)
    }

    /// SHRAM: 2 banks reserved for output, 1 KiB banks, 2 reserved at the end above 16 banks
    /// (Vela's `SHRAMConfig` for the U55).
    fn reserved_end_banks(&self) -> u32 {
        if self.shram_banks > 16 { 2 } else { 0 }
    }
}

/// One AXI port's memory as Vela's system configuration describes it (`vela.ini`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    /// Bytes per NPU cycle: the port's 8 bytes times the memory's clock scale.
    pub bytes_per_cycle: f64,
    /// Burst length in bytes.
    pub burst: u32,
    pub read_latency: u32,
    pub write_latency: u32,
    /// The AXI port it is reached by: 0 (SRAM) or 1 (flash and external memory).
    pub port: u8,
}

/// The fused activation, for the activation unit's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    None,
    /// A ReLU-like clamp (min above -128 or max below 127).
    Relu,
}

/// One layer as the timing sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layer {
    pub block: Block,
    pub ifm: Shape,
    /// The second input of an elementwise layer.
    pub ifm2: Option<Shape>,
    pub ofm: Shape,
    /// Kernel (h, w), stride (h, w), dilation (h, w).
    pub kernel: (u32, u32),
    pub stride: (u32, u32),
    pub dilation: (u32, u32),
    pub activation: Activation,
    /// Whether it has weights with per-channel scales and biases (convolutions, FC).
    pub weighted: bool,
    /// The weights' bytes as streamed from flash ([`encoded_weight_bytes`]; 0: as stored).
    pub weight_stream: u64,
    /// The memory each operand is in: feature maps, second input, output, weights, and the
    /// weights' scales and biases.
    pub ifm_mem: Memory,
    pub ifm2_mem: Memory,
    pub ofm_mem: Memory,
    pub weights_mem: Memory,
    pub scales_mem: Memory,
    /// How the input, the second input and the output lie.
    pub ifm_format: Format,
    pub ifm2_format: Format,
    pub ofm_format: Format,
}

impl Layer {
    fn area(&self) -> (u32, u32) {
        (
            (self.kernel.0.max(1) - 1) * self.dilation.0.max(1) + 1,
            (self.kernel.1.max(1) - 1) * self.dilation.1.max(1) + 1,
        )
    }
    fn convolution(&self) -> bool {
        matches!(self.block, Block::Convolution | Block::Depthwise)
    }
}

/// The bytes of `weights` as the NPU's weight decoder would stream them encoded.
/// Approximation of Vela's weight compression (the mlw codec, not reproduced here): each run
/// of 64 weights, zigzag-mapped, Golomb-Rice coded with the best of six divisors (a stop bit,
/// the unary quotient and the remainder's bits per weight, 8 bits of header per run), the
/// stream padded to 16 bytes and never more than the raw weights. On the shared models it
/// gives 0.67 of the raw size for AD01 (Vela's encoder: 0.65), 0.95 for ResNet-8 (0.92).
pub fn encoded_weight_bytes(weights: &[i8]) -> u64 {
    let bits: u64 = weights
        .chunks(64)
        .map(|c| {
            let zigzag = |v: i8| {
                let v = i32::from(v);
                (if v >= 0 { 2 * v } else { -2 * v - 1 }) as u32
            };
            let best = (0..6u32)
                .map(|k| {
                    c.iter()
                        .map(|&v| u64::from(1 + (zigzag(v) >> k) + k))
                        .sum::<u64>()
                })
                .min()
                .unwrap_or(0);
            best + 8
        })
        .sum();
    (bits.div_ceil(8).div_ceil(16) * 16).min(weights.len() as u64)
}

/// The block configuration: the output block the NPU computes at once and the input block
/// feeding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockConfig {
    pub ofm: Shape,
    pub ifm: Shape,
    /// Part-kernel-first traversal (Vela's `is_partkernel`).
    pub part_kernel: bool,
}

/// The largest output block (Vela's `ofm_block_max`: 32 high, 64 wide, 128 deep).
const OFM_BLOCK_MAX: Shape = Shape::new(1, 32, 64, 128);
/// Sub-kernels are at most 8 x 8 (Vela's `SubKernelMax`).
const SUB_KERNEL_MAX: u32 = 8;
/// Output depth is split in multiples of 16 (Vela's `OFMSplitDepth`).
const SPLIT_DEPTH: u32 = 16;

/// Whether part-kernel-first beats depth-first (Vela's `_choose_kernel_method`).
fn part_kernel(ifm: Shape, kernel: (u32, u32)) -> bool {
    if ifm.c <= 8 {
        return true;
    }
    let k = f64::from(kernel.0 * kernel.1);
    let depth = f64::from(ifm.c) / f64::from(round_up(ifm.c, 32));
    let part =
        f64::from(ifm.c) * k / (f64::from(round_up(ifm.c, 8)) * f64::from(round_up(k as u32, 4)));
    part > depth
}

/// The input block an output block needs (Vela's `_get_ifm_blocksize`).
fn ifm_block(cfg: &Config, l: &Layer, ofm: Shape) -> Shape {
    let (ah, aw) = l.area();
    let h = (ofm.h - 1) * l.stride.0.max(1) + ah.min(SUB_KERNEL_MAX);
    let w = (ofm.w - 1) * l.stride.1.max(1) + aw.min(SUB_KERNEL_MAX);
    Shape::new(
        1,
        round_up(h, cfg.ublock.0),
        round_up(w, cfg.ublock.1),
        ofm.c,
    )
}

/// What the block configuration depends on besides the output block: the larger input (an
/// elementwise layer's second may be), whether it is a scalar, whether the input block is
/// as deep as the output block, the traversal and the input block's depth otherwise.
struct Traversal {
    ifm_shape: Shape,
    scalar: bool,
    equal_depth: bool,
    part_kernel: bool,
    ifm_depth: u32,
}

fn traversal(cfg: &Config, l: &Layer) -> Traversal {
    let mut ifm_shape = l.ifm;
    let mut scalar = false;
    if let Some(i2) = l.ifm2 {
        scalar = i2.elements() == 1;
        if i2.elements() > ifm_shape.elements() {
            ifm_shape = i2;
        }
    }
    let part = l.convolution() && part_kernel(ifm_shape, l.kernel);
    Traversal {
        ifm_shape,
        scalar,
        equal_depth: matches!(
            l.block,
            Block::Elementwise { .. } | Block::Pooling { .. } | Block::Depthwise
        ),
        part_kernel: part,
        // Vela's `_ifm_blockdepth` for 8-bit inputs.
        ifm_depth: round_up(
            ifm_shape.c.min(if part { 16 } else { 32 }),
            cfg.ifm_ublock_c,
        ),
    }
}

fn config_for(cfg: &Config, l: &Layer, t: &Traversal, ofm: Shape) -> BlockConfig {
    let mut ifm = ifm_block(cfg, l, ofm);
    if !t.equal_depth {
        ifm.c = t.ifm_depth;
    }
    BlockConfig {
        ofm,
        ifm,
        part_kernel: t.part_kernel,
    }
}

/// The block configuration with output block `ofm` (a descriptor's own choice), its input
/// block derived as for Vela's search.
pub fn block_config(cfg: &Config, l: &Layer, ofm: Shape) -> BlockConfig {
    config_for(cfg, l, &traversal(cfg, l), ofm)
}

/// Whether the blocks fit in SHRAM (Vela's `_try_block_config`, without the LUT).
fn fits(cfg: &Config, elementwise: bool, scalar: bool, ofm: Shape, ifm: Shape) -> bool {
    const BANK: u32 = 1024;
    const RESERVED_OUTPUT: u32 = 2;
    let ifm_granule = if elementwise {
        cfg.granules[2]
    } else {
        cfg.granules[0]
    };
    let ifm_bytes = ifm.elements_wh() as u32 * round_up(ifm.c * IFM_BITS / 8, 8);
    let ifm_banks = round_up(ifm_bytes.div_ceil(BANK) * 2, ifm_granule);
    let lut_start = cfg.shram_banks - cfg.reserved_end_banks();
    let ifm_end = RESERVED_OUTPUT + ifm_banks;
    if elementwise {
        let ifm2 = if scalar { 0 } else { ifm_banks };
        return ifm_end + ifm2 <= lut_start;
    }
    // 32-bit accumulators for int8 (Vela's `_acc_type`).
    let acc_bytes = ofm.elements_wh() as u32 * round_up(ofm.c, 8) * 32 / 8;
    let acc_banks = round_up(acc_bytes.div_ceil(BANK) * 2, cfg.granules[6]);
    ifm_end <= lut_start.saturating_sub(acc_banks)
}

/// The block configuration Vela would choose (`find_block_config`): the output block, over
/// every height, width and depth that fits SHRAM, with the least feature-map and weight
/// fetch per output element.
pub fn find_block_config(cfg: &Config, l: &Layer) -> Option<BlockConfig> {
    let elementwise = matches!(l.block, Block::Elementwise { .. });
    let t = traversal(cfg, l);
    let (ifm_shape, scalar) = (t.ifm_shape, t.scalar);
    let depthwise = l.block == Block::Depthwise;
    let equal_depth = t.equal_depth;
    let (ah, aw) = l.area();
    let ifm_repeats = u64::from(aw.div_ceil(SUB_KERNEL_MAX) * ah.div_ceil(SUB_KERNEL_MAX));
    let weight_fetch_wh = if l.convolution() {
        u64::from(aw * ah)
    } else {
        0
    };
    let (uh, uw, uc) = cfg.ublock;
    let space = l.ofm.min(OFM_BLOCK_MAX);
    let space = Shape::new(
        1,
        round_up(space.h, uh),
        round_up(space.w, uw),
        round_up(space.c, uc),
    );
    let mut best: Option<(f64, f64, BlockConfig)> = None;
    let mut depth = uc.max(space.c.min(SPLIT_DEPTH));
    if depth < l.ofm.c {
        depth = round_up(depth, SPLIT_DEPTH);
    }
    while depth <= space.c {
        let mut wont_fit = std::collections::HashSet::new();
        for height in (uh..=space.h).step_by(uh as usize) {
            for width in (uw..=space.w).step_by(uw as usize) {
                if wont_fit.contains(&(height, width)) {
                    continue;
                }
                let block = Shape::new(1, height, width, depth);
                let config = config_for(cfg, l, &t, block);
                let ifm = config.ifm;
                // The Conv1D optimisation of the 256 (`fit_block_for_ofm`).
                let fitted = if l.ofm.h == 1 && l.kernel.0 == 1 && uh == 2 {
                    Shape::new(1, height.min(l.ofm.h), width, depth)
                } else {
                    block
                };
                if !fits(cfg, elementwise, scalar, fitted, ifm) {
                    wont_fit.insert((width, height));
                    continue;
                }
                let full = l.ofm.div_round_up(fitted);
                let ratio = |a: u32, b: u32| f64::from(a) / f64::from(b);
                let blocks_wh = ratio(l.ofm.h, fitted.h) * ratio(l.ofm.w, fitted.w);
                let mut weight_fetch =
                    (weight_fetch_wh * u64::from(ifm_shape.c) * full.elements_wh()) as f64;
                if !depthwise {
                    weight_fetch *= f64::from(fitted.c) * ratio(l.ofm.c, fitted.c);
                }
                let mut ifm_fetch = ifm.elements_wh() as f64
                    * f64::from(ifm_shape.c)
                    * ifm_repeats as f64
                    * blocks_wh;
                if !equal_depth {
                    ifm_fetch *= f64::from(full.c);
                }
                let mut cost = if elementwise {
                    (l.ofm.elements() as f64 / f64::from(height * width * depth)).max(1.0)
                } else {
                    (ifm_fetch + weight_fetch) / l.ofm.elements() as f64
                };
                if ifm_shape.elements() < ifm.elements() * 2 {
                    cost /= 2.0;
                }
                match best {
                    Some((b, _, _)) if cost > b => {}
                    Some((b, coverage, _)) if cost == b => {
                        let cov = ifm_shape.min(ifm);
                        let c = ifm_shape.elements_wh() as f64 / cov.elements_wh() as f64;
                        if c <= coverage && height <= 4 && width <= 4 {
                            best = Some((cost, c, config));
                        }
                    }
                    _ => best = Some((cost, f64::INFINITY, config)),
                }
            }
        }
        depth += uc;
        if depth < l.ofm.c {
            depth = round_up(depth, SPLIT_DEPTH);
        }
    }
    best.map(|(_, _, c)| c)
}

/// Bytes moved per burst-length bytes of useful data (Vela 5.2's `EstimateMemoryTransfer`):
/// `bytes` of tensor `shape`, lying in `format`, moved in `block`s, scaled up when the
/// bursts are shorter than the memory's.
fn transfer(
    mem: &Memory,
    read: bool,
    format: Format,
    block: Shape,
    shape: Shape,
    bytes: f64,
) -> f64 {
    let bits = IFM_BITS;
    // One core on every U55 (Vela's `cores`).
    let cores = 1;
    let burst_bits = match format {
        // Vela compares a brick's stride through the tensor (16 channels of a whole row, in
        // bytes) with the block's depth: equal, the block's bricks are contiguous; otherwise
        // a read takes one brick of the block's width at a time, a write as much per core.
        Format::Nhcwb16 => {
            if shape.w * 16 * bits / 8 == block.c {
                bits * block.c * block.w
            } else if read {
                16 * bits * block.w
            } else {
                16 * bits * block.w * cores
            }
        }
        // Vela compares the tensor's x stride (its depth in bytes) with the block's depth: a
        // block as deep as the tensor has its rows contiguous and moves each in one burst.
        Format::Nhwc => {
            let contiguous = shape.c * bits / 8 == block.c;
            if read {
                if contiguous {
                    bits * block.c * block.w
                } else {
                    bits * block.c
                }
            } else if block.c <= 16 && contiguous {
                bits * block.c * block.w
            } else {
                (64 * 8).min(16 * bits * cores).min(block.c * bits)
            }
        }
    };
    let burst = (burst_bits / 8).min(mem.burst).max(1);
    bytes * (f64::from(mem.burst) / f64::from(burst))
}

/// One block's input and output transfer cycles (Vela's `_estimate_minimum_memory_cycles`).
fn block_memory_cycles(l: &Layer, bc: &BlockConfig) -> (f64, f64) {
    let ifm = l.ifm.min(bc.ifm);
    let ifm_cycles = f64::from(l.ifm_mem.read_latency)
        + transfer(
            &l.ifm_mem,
            true,
            l.ifm_format,
            bc.ifm,
            l.ifm,
            ifm.elements() as f64,
        ) / l.ifm_mem.bytes_per_cycle;
    let ofm = l.ofm.min(bc.ofm);
    let ofm_cycles = f64::from(l.ofm_mem.write_latency)
        + transfer(
            &l.ofm_mem,
            false,
            l.ofm_format,
            bc.ofm,
            l.ofm,
            ofm.elements() as f64,
        ) / l.ofm_mem.bytes_per_cycle;
    (ifm_cycles, ofm_cycles)
}

/// Output unit cycles per element (Vela's `_estimate_output_cycles_per_element`, int8).
fn output_cycles_per_element(cfg: &Config, l: &Layer, bc: &BlockConfig) -> f64 {
    let output = match l.block {
        Block::Elementwise { mul: true } => 3,
        Block::Elementwise { mul: false } => 5,
        Block::Pooling { max: true } => 6,
        _ => 7,
    };
    let activation = match l.activation {
        Activation::Relu => 1,
        Activation::None => 2,
    };
    let mut per = cfg.output_cycles[output].max(cfg.activation_cycles[activation]);
    if let Block::Elementwise { .. } = l.block {
        let n = bc.ofm.elements() as f64;
        let (i, o) = block_memory_cycles(l, bc);
        let cmd = (i + o + per * n) / 4.0;
        per = per.max(cmd / n);
    }
    per
}

/// The MAC array and output unit's cycles for the whole layer (Vela's
/// `_estimate_conv_cycles`).
fn conv_cycles(cfg: &Config, l: &Layer, bc: &BlockConfig) -> f64 {
    let ifm_block = l.ifm.min(bc.ifm);
    let mut ofm_block = l.ofm.min(bc.ofm);
    let (uh, uw, uc) = cfg.ublock;
    let ublock = if uh == 2
        && matches!(
            l.block,
            Block::Convolution | Block::Depthwise | Block::VectorProduct
        )
        && l.ofm.h == 1
        && l.ofm.w.is_multiple_of(2)
        && l.kernel.0 == 1
    {
        ofm_block.h = 1;
        (1, 4, uc)
    } else {
        (uh, uw, uc)
    };
    let ublk_x = ofm_block.w.div_ceil(ublock.1);
    let ublk_y = ofm_block.h.div_ceil(ublock.0);
    let ublk_xy = f64::from(ublk_x * ublk_y);
    let ublk_z = f64::from(ofm_block.c.div_ceil(ublock.2));
    let limit = if l.block == Block::VectorProduct {
        1
    } else {
        SUB_KERNEL_MAX
    };
    let (kh, kw) = (l.kernel.0.max(1), l.kernel.1.max(1));
    let ys: Vec<u32> = (0..kh.div_ceil(limit))
        .map(|i| (kh - i * limit).min(limit))
        .collect();
    let xs: Vec<u32> = (0..kw.div_ceil(limit))
        .map(|i| (kw - i * limit).min(limit))
        .collect();
    let cycles_wb = f64::from(32 * ublock.2 / 8);
    let mut dpu = 0.0;
    for &y in &ys {
        for &x in &xs {
            let elems = x * y;
            let (cycles, steps) = match l.block {
                // Vela 5.2's C++ core (`EstimateMacCyclesPerBlock`): a pooling step takes
                // half the input's bits in cycles on every U55 but the 32-MAC one.
                Block::Pooling { .. } => {
                    let bits = if cfg.macs == 32 {
                        1.0
                    } else {
                        f64::from(IFM_BITS / 2)
                    };
                    (f64::from(4.max(elems)) * ublk_xy * ublk_z * bits, 1)
                }
                Block::Depthwise => {
                    let steps = elems.div_ceil(4);
                    (
                        cycles_wb.max(4.0 * ublk_xy) * f64::from(steps) * ublk_z,
                        steps,
                    )
                }
                Block::Convolution if bc.part_kernel => {
                    let steps = elems.div_ceil(4);
                    let c = cycles_wb.max(4.0 * ublk_xy)
                        * f64::from(steps)
                        * f64::from(ifm_block.c.div_ceil(8))
                        * ublk_z;
                    (c, steps)
                }
                _ => (
                    cycles_wb.max(4.0 * ublk_xy) * f64::from(elems) * ublk_z,
                    elems,
                ),
            };
            let delay_per = if cfg.macs == 32 { 3.0 } else { 2.0 };
            let mut delay = 0.0;
            if ublk_x == 1 && ublk_y == 1 {
                if ublk_z == 1.0 {
                    delay = delay_per * f64::from(steps);
                } else if steps > 1 {
                    delay = delay_per * f64::from(steps - 1) * ublk_z;
                }
            }
            if l.block == Block::Convolution && bc.part_kernel {
                delay *= f64::from(ifm_block.c.div_ceil(8));
            }
            dpu += cycles + delay;
        }
    }
    if matches!(l.block, Block::Convolution | Block::VectorProduct) {
        dpu *= f64::from(l.ifm.c.div_ceil(ifm_block.c.max(1)));
    }
    // Output blocks, fractional: the edge blocks count for the micro-blocks they hold (Vela
    // 5.2's `EstimateMacOpCycles`: micro-blocks of the output over micro-blocks per block).
    let ub = Shape::new(1, ublock.0, ublock.1, ublock.2);
    let blocks =
        l.ofm.div_round_up(ub).elements() as f64 / ofm_block.div_round_up(ub).elements() as f64;
    let mut output = (output_cycles_per_element(cfg, l, bc) * ofm_block.elements() as f64).ceil();
    if l.weighted {
        // Vela's `biasCyclesPerBlock`, from the weights' memory (staged or not).
        let bias = 10.0 * f64::from(ofm_block.c) * f64::from(l.weights_mem.read_latency) / 256.0;
        output = output.max(bias);
    }
    // The command issue limit: the difference of a block's input and output transfers
    // (`minMemCycles`), with the MAC and output cycles, over the four DPU stages.
    let (i, o) = block_memory_cycles(l, bc);
    let memory = if blocks > 1.0 { (o - i).abs() } else { 0.0 };
    let cmd = (memory + output + dpu) / 4.0;
    let dpu = dpu.max(cmd);
    let output = output.max(cmd);
    if dpu > output {
        dpu * blocks + output
    } else {
        output * blocks + dpu
    }
}

/// What limits a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Compute,
    /// Port 0: SRAM.
    Sram,
    /// Port 1: flash.
    Flash,
}

/// A layer's estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub block: BlockConfig,
    /// The MAC array and output unit.
    pub npu_cycles: u64,
    pub macs: u64,
    /// Bytes read from and written to each memory, as the NPU moves them: (read, write).
    pub ifm_read: u64,
    pub ifm2_read: u64,
    pub weights_read: u64,
    pub scales_read: u64,
    pub ofm_write: u64,
    /// Cycles each port is busy (the bytes scaled by burst efficiency, over the bandwidth),
    /// SRAM-side and flash-side as the operands lie.
    pub port_cycles: [u64; 2],
    /// The layer: the largest of compute and the ports.
    pub cycles: u64,
    pub bound: Bound,
}

/// How many times a layer reads its weights: once per output block in height and width
/// (Vela's `weightsRefetch`, `ofmBlocks.ElementsWH()`).
pub fn weights_refetch(l: &Layer, bc: &BlockConfig) -> u64 {
    l.ofm.div_round_up(l.ofm.min(bc.ofm)).elements_wh().max(1)
}

/// The cost of layer `l` on `cfg` with block configuration `bc` (Vela's
/// `estimate_full_op_performance` with `measure_cycle_cost` and `measure_element_access`).
pub fn estimate(cfg: &Config, l: &Layer, bc: BlockConfig) -> Estimate {
    let ifm_block = l.ifm.min(bc.ifm);
    let ofm_block = l.ofm.min(bc.ofm);
    let (npu, macs) = match l.block {
        // Every element stored, the padding of the last brick included (Vela 5.2's
        // `EstimateElementwiseCycles`).
        Block::Elementwise { .. } => (
            (output_cycles_per_element(cfg, l, &bc) * l.ofm_format.round(l.ofm).elements() as f64)
                .ceil(),
            0,
        ),
        Block::Depthwise | Block::Pooling { .. } => (
            conv_cycles(cfg, l, &bc),
            u64::from(l.kernel.0 * l.kernel.1) * l.ofm.elements(),
        ),
        _ => (
            conv_cycles(cfg, l, &bc),
            u64::from(l.kernel.0 * l.kernel.1) * u64::from(l.ifm.c) * l.ofm.elements(),
        ),
    };
    // Element access (`measure_element_access`; Vela 5.2's `MeasureElementAccess` counts the
    // depth a brick format stores).
    let (mut weights_read, mut scales_read) = (0u64, 0u64);
    let (ifm_read, ifm2_read) = match l.block {
        Block::Elementwise { .. } => {
            let second = l.ifm2.is_some_and(|s| s.elements() > 1);
            let n = l.ifm_format.round(l.ofm).elements();
            (n, if second { n } else { 0 })
        }
        _ => {
            let mut blocks = l.ofm.div_round_up(ofm_block);
            let per_channel = matches!(l.block, Block::Depthwise | Block::Pooling { .. });
            if per_channel {
                blocks.c = 1;
            }
            let limit = if l.block == Block::VectorProduct {
                1
            } else {
                SUB_KERNEL_MAX
            };
            let sub = u64::from(l.kernel.1.div_ceil(limit) * l.kernel.0.div_ceil(limit));
            let count = blocks.elements();
            let ifm_fetch = ifm_block.elements_wh() * u64::from(l.ifm_format.depth(l.ifm.c));
            let kernel_read = u64::from(l.kernel.0 * l.kernel.1)
                * if per_channel { 1 } else { u64::from(l.ifm.c) };
            if l.weighted {
                // The weights, encoded, and Vela's 10 bytes of encoded scale and bias per
                // output channel (`npu_encode_bias`), each read again for every output block
                // in height and width (`weightsRefetch`, `MeasureElementAccess`): from flash
                // when they stay there, from SRAM when the firmware staged them there (the
                // staging copy itself is the NPU's weight DMA, timed by the device).
                let raw = kernel_read * u64::from(if per_channel { l.ifm.c } else { l.ofm.c });
                let stream = if l.weight_stream > 0 {
                    l.weight_stream
                } else {
                    raw
                };
                let refetch = weights_refetch(l, &bc);
                weights_read = stream * refetch;
                scales_read = u64::from(l.ofm.c) * 10 * refetch;
            }
            (ifm_fetch * sub * count, 0)
        }
    };
    let ofm_write = l.ofm_format.round(l.ofm).elements();
    let mut ports = [0.0f64; 2];
    let add = |ports: &mut [f64; 2], mem: &Memory, scaled: f64| {
        ports[usize::from(mem.port.min(1))] += scaled / mem.bytes_per_cycle;
    };
    add(
        &mut ports,
        &l.ofm_mem,
        transfer(
            &l.ofm_mem,
            false,
            l.ofm_format,
            bc.ofm,
            l.ofm,
            ofm_write as f64,
        ),
    );
    add(
        &mut ports,
        &l.ifm_mem,
        transfer(
            &l.ifm_mem,
            true,
            l.ifm_format,
            bc.ifm,
            l.ifm,
            ifm_read as f64,
        ),
    );
    if l.ifm2.is_some() {
        add(
            &mut ports,
            &l.ifm2_mem,
            transfer(
                &l.ifm2_mem,
                true,
                l.ifm2_format,
                bc.ifm,
                l.ifm2.unwrap_or(l.ifm),
                ifm2_read as f64,
            ),
        );
    }
    add(&mut ports, &l.weights_mem, weights_read as f64);
    add(&mut ports, &l.scales_mem, scales_read as f64);
    // Vela truncates the convolution estimate and rounds the elementwise one up.
    let npu_cycles = match l.block {
        Block::Elementwise { .. } => npu.ceil() as u64,
        _ => npu as u64,
    };
    let port_cycles = [ports[0].ceil() as u64, ports[1].ceil() as u64];
    let cycles = npu_cycles.max(port_cycles[0]).max(port_cycles[1]);
    let bound = if cycles == npu_cycles {
        Bound::Compute
    } else if cycles == port_cycles[0] {
        Bound::Sram
    } else {
        Bound::Flash
    };
    Estimate {
        block: bc,
        npu_cycles,
        macs,
        ifm_read,
        ifm2_read,
        weights_read,
        scales_read,
        ofm_write,
        port_cycles,
        cycles,
        bound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vela's `Ethos_U55_High_End_Embedded`: SRAM on port 0, flash at an eighth of the clock.
    const SRAM: Memory = Memory {
        bytes_per_cycle: 8.0,
        burst: 32,
        read_latency: 32,
        write_latency: 32,
        port: 0,
    };
    const FLASH: Memory = Memory {
        bytes_per_cycle: 1.0,
        burst: 128,
        read_latency: 64,
        write_latency: 0,
        port: 1,
    };

    fn layer(
        block: Block,
        ifm: [u32; 3],
        ofm: [u32; 3],
        kernel: (u32, u32),
        stride: (u32, u32),
    ) -> Layer {
        Layer {
            block,
            ifm: Shape::new(1, ifm[0], ifm[1], ifm[2]),
            ifm2: None,
            ofm: Shape::new(1, ofm[0], ofm[1], ofm[2]),
            kernel,
            stride,
            dilation: (1, 1),
            activation: Activation::Relu,
            weighted: matches!(
                block,
                Block::Convolution | Block::Depthwise | Block::VectorProduct
            ),
            weight_stream: 0,
            ifm_mem: SRAM,
            ifm2_mem: SRAM,
            ofm_mem: SRAM,
            weights_mem: FLASH,
            scales_mem: FLASH,
            ifm_format: Format::Nhwc,
            ifm2_format: Format::Nhwc,
            ofm_format: Format::Nhwc,
        }
    }

    fn with_sram_weights(mut l: Layer) -> Layer {
        l.weights_mem = SRAM;
        l.scales_mem = SRAM;
        l.activation = Activation::None;
        l
    }

    /// The block configuration and compute cycles of KWS's layers (weights in flash) and the
    /// descriptors of `tests/firmware/npu_layers.c` (all in SRAM). The block configurations
    /// are those Vela 5.2.0's functions choose for the same query (`find_block_config`,
    /// computed by `xtask/vela/layer_cycles.py`, on the U55-128 and
    /// `Ethos_U55_High_End_Embedded`). The cycles began as its Python functions' values and
    /// follow its command-line compiler's C++ core now, the estimator `cargo xtask vela`
    /// compares whole layers with: edge blocks count for the micro-blocks they hold, the
    /// command-issue limit takes the difference of a block's input and output transfers
    /// (`EstimateMacOpCycles`), a pooling step takes 4 cycles per micro-block for int8
    /// (`EstimateMacCyclesPerBlock`), and a block as deep as its tensor moves in whole-row
    /// bursts (`EstimateMemoryTransfer`). KWS's first convolution, for one: 24,717 cycles here,
    /// 24,400 MAC cycles in Vela's debug database (29,598 from the Python functions).
    #[test]
    fn compute_cycles_follow_velas_estimator() {
        let cfg = Config::u55(128).unwrap();
        let conv = Block::Convolution;
        let cases = [
            (
                "kws conv 1x1",
                layer(conv, [25, 5, 64], [25, 5, 64], (1, 1), (1, 1)),
                (9, 6, 32),
                5520,
            ),
            (
                "kws conv 10x4 s2",
                layer(conv, [49, 10, 1], [25, 5, 64], (10, 4), (2, 2)),
                (10, 6, 16),
                24717,
            ),
            (
                "kws depthwise 3x3",
                layer(Block::Depthwise, [25, 5, 64], [25, 5, 64], (3, 3), (1, 1)),
                (14, 6, 16),
                7760,
            ),
            (
                "conv 3x3",
                with_sram_weights(layer(conv, [16, 16, 16], [16, 16, 16], (3, 3), (1, 1))),
                (8, 10, 16),
                6804,
            ),
            (
                "depthwise 3x3 s2",
                with_sram_weights(layer(
                    Block::Depthwise,
                    [16, 16, 16],
                    [8, 8, 16],
                    (3, 3),
                    (2, 2),
                )),
                (8, 8, 16),
                1280,
            ),
            (
                "fully connected",
                with_sram_weights(layer(
                    Block::VectorProduct,
                    [1, 1, 1024],
                    [1, 1, 64],
                    (1, 1),
                    (1, 1),
                )),
                (1, 2, 64),
                10260,
            ),
            (
                "average pool",
                with_sram_weights(layer(
                    Block::Pooling { max: false },
                    [16, 16, 16],
                    [8, 8, 16],
                    (2, 2),
                    (2, 2),
                )),
                (5, 8, 16),
                1344,
            ),
            (
                "max pool",
                with_sram_weights(layer(
                    Block::Pooling { max: true },
                    [16, 16, 16],
                    [8, 8, 16],
                    (2, 2),
                    (2, 2),
                )),
                (5, 8, 16),
                1284,
            ),
        ];
        for (name, l, block, cycles) in cases {
            let bc = find_block_config(&cfg, &l).unwrap();
            let e = estimate(&cfg, &l, bc);
            assert_eq!((bc.ofm.h, bc.ofm.w, bc.ofm.c), block, "{name}: block");
            assert_eq!(e.npu_cycles, cycles, "{name}: cycles");
        }
        // Weights are read once per output block in height and width (Vela's refetch): KWS's
        // pointwise convolution in blocks 9 high and 6 wide reads its 4,096 weights (and 640
        // bytes of encoded scales) 3 times, which from flash makes it flash-bound; staged in
        // SRAM it is faster.
        let l = layer(conv, [25, 5, 64], [25, 5, 64], (1, 1), (1, 1));
        let bc = find_block_config(&cfg, &l).unwrap();
        assert_eq!(weights_refetch(&l, &bc), 3);
        let e = estimate(&cfg, &l, bc);
        assert_eq!((e.weights_read, e.scales_read), (3 * 4096, 3 * 640));
        assert_eq!(e.bound, Bound::Flash);
        let staged = estimate(
            &cfg,
            &Layer {
                weights_mem: SRAM,
                ..l
            },
            bc,
        );
        assert_ne!(staged.bound, Bound::Flash);
        assert!(staged.cycles < e.cycles);
        // Uniform bytes do not compress; small weights do.
        let uniform: Vec<i8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as i8)
            .collect();
        assert_eq!(encoded_weight_bytes(&uniform), 4096);
        let small: Vec<i8> = (0..4096).map(|i| (i % 5 - 2) as i8).collect();
        assert!(encoded_weight_bytes(&small) < 2048);
        for (mul, cycles) in [(false, 6144), (true, 3072)] {
            let mut l = with_sram_weights(layer(
                Block::Elementwise { mul },
                [16, 16, 16],
                [16, 16, 16],
                (1, 1),
                (1, 1),
            ));
            l.ifm2 = Some(l.ifm);
            let bc = find_block_config(&cfg, &l).unwrap();
            assert_eq!(
                estimate(&cfg, &l, bc).npu_cycles,
                cycles,
                "elementwise (mul {mul})"
            );
        }
    }

    /// Feature maps in NHCWB16 bricks move in longer bursts than NHWC ones whose blocks are
    /// shallower than the tensor (Vela 5.2's `EstimateMemoryTransfer`) and count their padded
    /// depth (`MeasureElementAccess`). KWS's pointwise convolution on the U55-256, weights in
    /// SRAM: SRAM-bound at 4,976 cycles in NHWC, 3,976 in bricks as Vela lays the tensors
    /// out; `vela --verbose-performance` gives the layer 3,960.
    #[test]
    fn brick_format_lengthens_bursts() {
        let cfg = Config::u55(256).unwrap();
        let l = with_sram_weights(layer(
            Block::Convolution,
            [25, 5, 64],
            [25, 5, 64],
            (1, 1),
            (1, 1),
        ));
        let bricks = Layer {
            ifm_format: Format::Nhcwb16,
            ofm_format: Format::Nhcwb16,
            ..l
        };
        let bc = find_block_config(&cfg, &l).unwrap();
        assert_eq!((bc.ofm.h, bc.ofm.w, bc.ofm.c), (10, 6, 64));
        let (linear, brick) = (estimate(&cfg, &l, bc), estimate(&cfg, &bricks, bc));
        assert_eq!((linear.cycles, linear.bound), (4976, Bound::Sram));
        assert_eq!((brick.cycles, brick.bound), (3976, Bound::Sram));
        assert_eq!(brick.npu_cycles, linear.npu_cycles);
        // A depth of 20 is stored as 32: the bytes written grow with it.
        let deep = |f: Format| {
            let l = Layer {
                ofm: Shape::new(1, 8, 8, 20),
                ofm_format: f,
                ..layer(Block::Convolution, [8, 8, 16], [8, 8, 20], (1, 1), (1, 1))
            };
            estimate(&cfg, &l, find_block_config(&cfg, &l).unwrap()).ofm_write
        };
        assert_eq!(
            (deep(Format::Nhwc), deep(Format::Nhcwb16)),
            (8 * 8 * 20, 8 * 8 * 32)
        );
    }
}
