//! The board file format, version 1.
//!
//! A board file is TOML. Every field below is one key; its doc line is the format's
//! documentation (`mcusim boards show NAME` prints a commented example). Unknown keys are
//! an error, so a typo never silently falls back to a default. Address ranges are
//! half-open: a region covers `base..base + size`.

use serde::{Deserialize, Serialize};

/// The processor core of a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Core {
    /// Arm Cortex-M0+ (Armv6-M): no DSP, no divide, every unaligned access faults.
    #[serde(rename = "cortex-m0plus")]
    CortexM0Plus,
    /// Arm Cortex-M3 (Armv7-M).
    #[serde(rename = "cortex-m3")]
    CortexM3,
    /// Arm Cortex-M4 without FPU (Armv7E-M: DSP extension).
    #[serde(rename = "cortex-m4")]
    CortexM4,
    /// Arm Cortex-M4 with the single-precision FPU (FPv4-SP).
    #[serde(rename = "cortex-m4f")]
    CortexM4F,
    /// Arm Cortex-M7 (Armv7E-M, dual issue, FPv5).
    #[serde(rename = "cortex-m7")]
    CortexM7,
    /// Arm Cortex-M33 (Armv8-M Mainline with DSP and FPU).
    #[serde(rename = "cortex-m33")]
    CortexM33,
}

impl Core {
    /// Every core, in the order they are documented.
    pub const ALL: [Core; 6] = [
        Core::CortexM0Plus,
        Core::CortexM3,
        Core::CortexM4,
        Core::CortexM4F,
        Core::CortexM7,
        Core::CortexM33,
    ];

    /// The name used in board files and by `arm-none-eabi-gcc -mcpu`.
    pub fn name(self) -> &'static str {
        match self {
            Core::CortexM0Plus => "cortex-m0plus",
            Core::CortexM3 => "cortex-m3",
            Core::CortexM4 => "cortex-m4",
            Core::CortexM4F => "cortex-m4f",
            Core::CortexM7 => "cortex-m7",
            Core::CortexM33 => "cortex-m33",
        }
    }

    /// Armv6-M: the baseline profile, where any unaligned access faults.
    pub fn is_armv6m(self) -> bool {
        self == Core::CortexM0Plus
    }

    /// Whether the core has a floating-point unit enabled by this core name.
    pub fn has_fpu(self) -> bool {
        matches!(self, Core::CortexM4F | Core::CortexM7 | Core::CortexM33)
    }

    /// The reset value of SCB CPUID for this core, as on the silicon of the built-in boards.
    ///
    /// Sources: the CPUID register description in each core's TRM (M0+ DDI 0484C r0p1,
    /// M3 DDI 0337I r2p1, M4 DDI 0439B r0p1, M7 DDI 0489F r1p2, M33 100230 r0p4).
    pub fn cpuid(self) -> u32 {
        match self {
            Core::CortexM0Plus => 0x410C_C601,
            Core::CortexM3 => 0x412F_C231,
            Core::CortexM4 | Core::CortexM4F => 0x410F_C241,
            Core::CortexM7 => 0x411F_C272,
            Core::CortexM33 => 0x410F_D214,
        }
    }
}

impl std::fmt::Display for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A board file, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardFile {
    /// The board's name, as given to `--board` (lower case, digits and `-`).
    pub name: String,
    /// One line describing the board and the part it models.
    pub description: String,
    /// Where the board's numbers come from (datasheet, reference manual, QEMU source).
    pub source: String,
    /// The processor core: one of `cortex-m0plus`, `cortex-m3`, `cortex-m4`, `cortex-m4f`,
    /// `cortex-m7`, `cortex-m33`.
    pub core: String,
    /// Core clock in Hz; simulated time is cycles divided by this.
    pub clock_hz: u64,
    /// The region holding the vector table at reset: initial SP and PC are read from its base,
    /// and VTOR starts there (on STM32 parts the boot alias at 0 maps onto it).
    pub boot_region: String,
    /// The region where firmware built for this board places data, heap and stack. Adjacent
    /// regions of the same kind that follow it are used as one.
    pub ram_region: String,
    /// Number of external interrupt lines the NVIC implements (IRQ 0 to `irq_lines - 1`).
    pub irq_lines: u32,
    /// Bits of priority the NVIC implements (2 on Armv6-M, 3 to 8 on the others).
    pub priority_bits: u32,
    /// The memory map: flash, SRAM, TCM and peripheral (MMIO) regions.
    #[serde(rename = "memory")]
    pub memory: Vec<MemoryRegion>,
    /// The flash accelerator or instruction cache in front of flash, if any.
    #[serde(default)]
    pub flash_accelerator: Option<FlashAccelerator>,
    /// The core's own L1 caches (Cortex-M7), if the part has them.
    #[serde(default)]
    pub l1_cache: Option<L1Cache>,
    /// Modelled peripherals, each with its register block and interrupt line.
    #[serde(default, rename = "peripheral")]
    pub peripherals: Vec<Peripheral>,
    /// Energy coefficients (used by the profiler; each figure cites its source).
    #[serde(default)]
    pub energy: Option<Energy>,
}

/// What a memory region is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionKind {
    /// Non-volatile program memory: executable, read-only to the core.
    Flash,
    /// On-chip static RAM: read, write and execute.
    Sram,
    /// Tightly coupled memory: SRAM on a dedicated core port.
    Tcm,
    /// Peripheral registers: accesses reach modelled peripherals or fault.
    Mmio,
}

impl RegionKind {
    /// Whether instructions may be fetched from this kind of region.
    pub fn executable(self) -> bool {
        !matches!(self, RegionKind::Mmio)
    }

    /// Whether the core may write this kind of region with ordinary stores.
    pub fn writable(self) -> bool {
        !matches!(self, RegionKind::Flash)
    }
}

/// One region of the memory map, `base..base + size`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryRegion {
    /// A short unique name (`flash`, `sram1`, `dtcm`).
    pub name: String,
    /// What the region is.
    pub kind: RegionKind,
    /// First address; must be a multiple of 4 KiB.
    pub base: u64,
    /// Size in bytes; must be a non-zero multiple of 4 KiB.
    pub size: u64,
    /// Wait states the core pays per access at `clock_hz`, before any accelerator.
    #[serde(default)]
    pub wait_states: u32,
    /// Width of one access to the memory array, in bits (flash: 64 or 128; SRAM: 32).
    #[serde(default = "default_access_width")]
    pub access_width_bits: u32,
}

fn default_access_width() -> u32 {
    32
}

impl MemoryRegion {
    /// One past the last address of the region.
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// Whether `addr` lies inside the region.
    pub fn contains(&self, addr: u64) -> bool {
        (self.base..self.end()).contains(&addr)
    }
}

/// The kind of flash accelerator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AcceleratorKind {
    /// ST's adaptive real-time accelerator: prefetch buffer plus instruction and data caches.
    Art,
    /// A plain instruction cache in front of flash.
    Icache,
}

/// Settings of the flash accelerator or cache in front of the flash region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlashAccelerator {
    /// Which kind of accelerator.
    pub kind: AcceleratorKind,
    /// Bytes delivered by one read of the flash array (8 for 64-bit, 16 for 128-bit).
    pub fetch_bytes: u32,
    /// Whether sequential instruction prefetch is enabled.
    #[serde(default)]
    pub prefetch: bool,
    /// Instruction cache lines (0: none).
    #[serde(default)]
    pub icache_lines: u32,
    /// Bytes per instruction cache line.
    #[serde(default)]
    pub icache_line_bytes: u32,
    /// Ways of the instruction cache (0: fully associative).
    #[serde(default)]
    pub icache_ways: u32,
    /// Data cache lines for literal and constant reads from flash (0: none).
    #[serde(default)]
    pub dcache_lines: u32,
    /// Bytes per data cache line.
    #[serde(default)]
    pub dcache_line_bytes: u32,
}

/// The Cortex-M7's L1 instruction and data caches (M7 TRM, DDI 0489F, chapter 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1Cache {
    /// Instruction cache size in bytes (0: none).
    pub icache_bytes: u32,
    /// Data cache size in bytes (0: none).
    pub dcache_bytes: u32,
    /// Bytes per line (32 on the Cortex-M7).
    pub line_bytes: u32,
    /// Ways of the instruction cache (2 on the Cortex-M7).
    pub icache_ways: u32,
    /// Ways of the data cache (4 on the Cortex-M7).
    pub dcache_ways: u32,
}

/// A peripheral's model and the model's own settings: what a board file's `kind` picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeripheralModel {
    /// Arm CMSDK APB UART (as on the MPS2 boards and in QEMU's `cmsdk-apb-uart`).
    CmsdkUart {
        /// Whether firmware built for this board prints through it.
        console: bool,
    },
    /// STM32 USART/LPUART with the ISR/TDR register layout of L4, G0, F7 and U5 parts.
    Stm32Usart {
        /// Whether firmware built for this board prints through it.
        console: bool,
    },
    /// Arm CMSDK APB timer (Cortex-M System Design Kit TRM, DDI 0479C, 4.5; QEMU's
    /// `cmsdk-apb-timer`): a 32-bit down-counter at the core clock that reloads and raises its
    /// interrupt at zero.
    CmsdkTimer,
    /// ST's DMA controller of the STM32L4/L4+/G0 (RM0432 chapter 11, RM0444 chapter 10):
    /// channels with CCR/CNDTR/CPAR/CMAR, ISR/IFCR, one interrupt line per channel.
    Stm32Dma {
        /// How many channels it has (1 to 8).
        channels: u8,
        /// Each channel's NVIC line, in channel order (lines may be shared).
        irqs: [u16; 8],
        /// The DMAMUX channel its channel 1 takes requests from (the next channels follow),
        /// or none: then only memory-to-memory transfers run.
        dmamux_channel: Option<u8>,
    },
    /// ST's DMA request multiplexer (RM0432 chapter 12, RM0444 chapter 11): per channel a
    /// CxCR whose DMAREQ_ID routes one peripheral's request line to one DMA channel.
    Stm32Dmamux {
        /// How many channels it has (1 to 32).
        channels: u8,
    },
    /// mcusim's sample source (not on any part; it stands in for an ADC or audio interface):
    /// plays the run's sample file at the run's rate into a data register, one sample at a
    /// time, with a DMA request per sample and an end-of-stream flag.
    SampleStream {
        /// The DMAMUX request line it drives (1 to 127).
        dma_request: u8,
    },
    /// mcusim's Ethos-U55-class NPU (its own register interface and descriptor format,
    /// `sim/src/devices/npu.rs`), timed as Arm's Vela models the U55.
    Npu {
        /// MACs per cycle: 32, 64, 128 or 256 (the U55's configurations).
        macs: u16,
        /// The memory on its AXI port 0 (SRAM) and port 1 (flash), as Vela's `vela.ini`
        /// system configurations describe them.
        sram: NpuPort,
        flash: NpuPort,
    },
}

/// One NPU port's memory, as a Vela system configuration gives it (`<Mem>_clock_scale`,
/// `_burst_length`, `_read_latency`, `_write_latency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NpuPort {
    /// The memory's clock divided from the NPU's (1: the same; 8: Vela's clock scale 0.125).
    pub clock_divider: u8,
    /// Burst length in bytes.
    pub burst_bytes: u16,
    /// Cycles of latency per read and per write burst.
    pub read_latency: u16,
    pub write_latency: u16,
}

/// A peripheral instance: its register block, its interrupt line and its model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "PeripheralEntry", into = "PeripheralEntry")]
pub struct Peripheral {
    /// A short unique name (`uart0`, `lpuart1`).
    pub name: String,
    /// Base address of its register block; must lie inside an `mmio` region.
    pub base: u64,
    /// Size of its register block in bytes.
    pub size: u64,
    /// Its NVIC interrupt line, if it raises one.
    pub irq: Option<u32>,
    /// The model and its settings.
    pub model: PeripheralModel,
}

/// A `[[peripheral]]` table as written: `kind` names the model; every model has `name`,
/// `base`, `size` and an optional `irq`, then its own keys. Unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum PeripheralEntry {
    /// `kind = "cmsdk-uart"`: Arm CMSDK APB UART.
    CmsdkUart {
        /// A short unique name.
        name: String,
        /// Base address of the register block.
        base: u64,
        /// Size of the register block in bytes.
        size: u64,
        /// Its transmit interrupt's NVIC line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        irq: Option<u32>,
        /// Whether firmware built for this board prints through it (`printf`, `puts`).
        #[serde(default)]
        console: bool,
    },
    /// `kind = "stm32-usart"`: STM32 USART/LPUART.
    Stm32Usart {
        /// A short unique name.
        name: String,
        /// Base address of the register block.
        base: u64,
        /// Size of the register block in bytes.
        size: u64,
        /// Its NVIC interrupt line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        irq: Option<u32>,
        /// Whether firmware built for this board prints through it (`printf`, `puts`).
        #[serde(default)]
        console: bool,
    },
    /// `kind = "cmsdk-timer"`: Arm CMSDK APB timer.
    CmsdkTimer {
        /// A short unique name.
        name: String,
        /// Base address of the register block.
        base: u64,
        /// Size of the register block in bytes.
        size: u64,
        /// Its NVIC interrupt line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        irq: Option<u32>,
    },
    /// `kind = "stm32-dma"`: ST's DMA controller (L4, L4+, G0).
    Stm32Dma {
        /// A short unique name.
        name: String,
        /// Base address of the register block.
        base: u64,
        /// Size of the register block in bytes.
        size: u64,
        /// Each channel's NVIC line, channel 1 first: as many as it has channels (1 to 8).
        irqs: Vec<u32>,
        /// The DMAMUX channel its channel 1 takes peripheral requests from, the others
        /// following (DMA1 on the L4+ and G0: 0; DMA2: 7). Without it, memory to memory only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dmamux_channel: Option<u8>,
    },
    /// `kind = "stm32-dmamux"`: ST's DMA request multiplexer (L4+, G0).
    Stm32Dmamux {
        /// A short unique name.
        name: String,
        /// Base address of the register block.
        base: u64,
        /// Size of the register block in bytes.
        size: u64,
        /// How many request channels it has (1 to 32; the DMAs' channels in order).
        channels: u8,
    },
    /// `kind = "sample-stream"`: mcusim's sample source (`--stream FILE`), standing in for an
    /// ADC or audio interface.
    SampleStream {
        /// A short unique name.
        name: String,
        /// Base address of the register block.
        base: u64,
        /// Size of the register block in bytes.
        size: u64,
        /// Its interrupt's NVIC line (sample ready, overrun, end of stream).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        irq: Option<u32>,
        /// The DMAMUX request line it drives, 1 to 127 (the line of the part's peripheral it
        /// stands in for).
        dma_request: u8,
    },
    /// `kind = "npu"`: mcusim's Ethos-U55-class NPU.
    Npu {
        /// A short unique name.
        name: String,
        /// Base address of the register block.
        base: u64,
        /// Size of the register block in bytes.
        size: u64,
        /// Its completion interrupt's NVIC line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        irq: Option<u32>,
        /// MACs per cycle: 32, 64, 128 or 256.
        macs: u16,
        /// The memory on AXI port 0 (feature maps in SRAM).
        sram: NpuPort,
        /// The memory on AXI port 1 (weights in flash).
        flash: NpuPort,
    },
}

impl From<PeripheralEntry> for Peripheral {
    fn from(e: PeripheralEntry) -> Peripheral {
        let (name, base, size, irq, model) = match e {
            PeripheralEntry::CmsdkUart {
                name,
                base,
                size,
                irq,
                console,
            } => (
                name,
                base,
                size,
                irq,
                PeripheralModel::CmsdkUart { console },
            ),
            PeripheralEntry::Stm32Usart {
                name,
                base,
                size,
                irq,
                console,
            } => (
                name,
                base,
                size,
                irq,
                PeripheralModel::Stm32Usart { console },
            ),
            PeripheralEntry::CmsdkTimer {
                name,
                base,
                size,
                irq,
            } => (name, base, size, irq, PeripheralModel::CmsdkTimer),
            PeripheralEntry::Stm32Dmamux {
                name,
                base,
                size,
                channels,
            } => (
                name,
                base,
                size,
                None,
                PeripheralModel::Stm32Dmamux { channels },
            ),
            PeripheralEntry::Npu {
                name,
                base,
                size,
                irq,
                macs,
                sram,
                flash,
            } => (
                name,
                base,
                size,
                irq,
                PeripheralModel::Npu { macs, sram, flash },
            ),
            PeripheralEntry::SampleStream {
                name,
                base,
                size,
                irq,
                dma_request,
            } => (
                name,
                base,
                size,
                irq,
                PeripheralModel::SampleStream { dma_request },
            ),
            PeripheralEntry::Stm32Dma {
                name,
                base,
                size,
                irqs,
                dmamux_channel,
            } => {
                let mut lines = [u16::MAX; 8];
                for (l, irq) in lines.iter_mut().zip(&irqs) {
                    *l = u16::try_from(*irq).unwrap_or(u16::MAX);
                }
                (
                    name,
                    base,
                    size,
                    None,
                    PeripheralModel::Stm32Dma {
                        channels: u8::try_from(irqs.len()).unwrap_or(u8::MAX),
                        irqs: lines,
                        dmamux_channel,
                    },
                )
            }
        };
        Peripheral {
            name,
            base,
            size,
            irq,
            model,
        }
    }
}

impl From<Peripheral> for PeripheralEntry {
    fn from(p: Peripheral) -> PeripheralEntry {
        let Peripheral {
            name,
            base,
            size,
            irq,
            model,
        } = p;
        match model {
            PeripheralModel::CmsdkUart { console } => PeripheralEntry::CmsdkUart {
                name,
                base,
                size,
                irq,
                console,
            },
            PeripheralModel::Stm32Usart { console } => PeripheralEntry::Stm32Usart {
                name,
                base,
                size,
                irq,
                console,
            },
            PeripheralModel::CmsdkTimer => PeripheralEntry::CmsdkTimer {
                name,
                base,
                size,
                irq,
            },
            PeripheralModel::Stm32Dma {
                channels,
                irqs,
                dmamux_channel,
            } => PeripheralEntry::Stm32Dma {
                name,
                base,
                size,
                irqs: irqs
                    .iter()
                    .take(usize::from(channels))
                    .map(|&l| u32::from(l))
                    .collect(),
                dmamux_channel,
            },
            PeripheralModel::Stm32Dmamux { channels } => PeripheralEntry::Stm32Dmamux {
                name,
                base,
                size,
                channels,
            },
            PeripheralModel::SampleStream { dma_request } => PeripheralEntry::SampleStream {
                name,
                base,
                size,
                irq,
                dma_request,
            },
            PeripheralModel::Npu { macs, sram, flash } => PeripheralEntry::Npu {
                name,
                base,
                size,
                irq,
                macs,
                sram,
                flash,
            },
        }
    }
}

impl Peripheral {
    /// Whether firmware built for the board prints through it.
    pub fn console(&self) -> bool {
        matches!(
            self.model,
            PeripheralModel::CmsdkUart { console: true }
                | PeripheralModel::Stm32Usart { console: true }
        )
    }

    /// Its NVIC lines, in the order of the device's outputs: the one `irq`, or a DMA's
    /// channels'.
    pub fn lines(&self) -> Vec<u32> {
        match self.model {
            PeripheralModel::Stm32Dma { channels, irqs, .. } => irqs
                .iter()
                .take(usize::from(channels).min(8))
                .map(|&l| u32::from(l))
                .collect(),
            _ => self.irq.into_iter().collect(),
        }
    }

    /// One past the last address of the register block.
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }
}

/// Energy coefficients. Reserved for the profiler: the simulator does not read them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Energy {
    /// Supply voltage in volts the figures below were measured at.
    pub supply_volts: f64,
    /// Core and always-on logic current per MHz while executing, in microamps per MHz.
    pub run_ua_per_mhz: f64,
    /// Current while sleeping in WFI/WFE, in microamps.
    pub sleep_ua: f64,
    /// Energy of moving one byte to or from SRAM, in picojoules: the SRAM part of the run
    /// current (the profiler splits the measured whole-rail figure with it; the total stays).
    #[serde(default)]
    pub sram_pj_per_byte: f64,
    /// The same for a byte read from flash.
    #[serde(default)]
    pub flash_pj_per_byte: f64,
    /// Energy of one multiply-accumulate of the board's NPU, in picojoules, on top of the
    /// run current (required on a board with an NPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npu_pj_per_mac: Option<f64>,
    /// Energy of one byte the NPU moves through its ports, in picojoules (required with an NPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npu_pj_per_byte: Option<f64>,
    /// Energy of one byte a DMA controller moves (read and written), in picojoules (required
    /// on a board with a DMA controller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dma_pj_per_byte: Option<f64>,
    /// Where the figures come from.
    pub source: String,
}
