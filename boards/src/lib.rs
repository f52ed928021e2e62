//! Board files: the schema, its validation, and the boards mcusim ships.
//!
//! A board says which core runs at which clock, what memory sits where and how slow it is,
//! which peripherals exist, and (for the profiler) what energy costs. [`Board::resolve`] takes
//! a built-in name or a path, parses the TOML, and checks it, reporting every problem at once.
//! This crate depends on nothing else of mcusim's.

mod schema;

pub use schema::{
    AcceleratorKind, BoardFile, Core, Energy, FlashAccelerator, L1Cache, MemoryRegion, NpuPort,
    Peripheral, PeripheralModel, RegionKind,
};

use std::fmt;
use std::path::Path;

/// The Private Peripheral Bus (SCS, DWT, ITM, ...): modelled by the simulator itself, so no
/// board region may cover it.
pub const PPB: std::ops::Range<u64> = 0xE000_0000..0xE010_0000;

/// The size every region's base and size must be a multiple of (the emulator's page size).
pub const REGION_ALIGN: u64 = 4096;

/// The built-in boards: (name, TOML text).
const BUILTIN: [(&str, &str); 6] = [
    ("nucleo-l4r5zi", include_str!("../nucleo-l4r5zi.toml")),
    ("stm32f746g-disco", include_str!("../stm32f746g-disco.toml")),
    ("nucleo-u575zi", include_str!("../nucleo-u575zi.toml")),
    ("nucleo-g0b1re", include_str!("../nucleo-g0b1re.toml")),
    ("mps2-an386", include_str!("../mps2-an386.toml")),
    ("corstone-300", include_str!("../corstone-300.toml")),
];

/// The board used when none is named.
pub const DEFAULT_BOARD: &str = "nucleo-l4r5zi";

/// One thing wrong with a board file: the key it concerns and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key, as a TOML path (`memory[2].base`, `clock_hz`).
    pub key: String,
    /// What is wrong, in lower case.
    pub reason: String,
}

/// Why a board could not be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The argument is neither a built-in name nor an existing file.
    #[error(
        "no board named '{name}': not a built-in board ({known}) and no such file",
        known = BUILTIN.map(|b| b.0).join(", ")
    )]
    Unknown {
        /// What was asked for.
        name: String,
    },
    /// The file could not be read.
    #[error("{path}: cannot read board file")]
    Io {
        /// The board file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the board schema.
    #[error("{path}:{message}")]
    Parse {
        /// The board file.
        path: String,
        /// `line:column: ` and the parser's message, naming the key.
        message: String,
    },
    /// The file parsed but describes an impossible board.
    #[error("{}", ProblemList { path, problems })]
    Invalid {
        /// The board file.
        path: String,
        /// Every problem found, in file order.
        problems: Vec<Problem>,
    },
}

struct ProblemList<'a> {
    path: &'a str,
    problems: &'a [Problem],
}

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}: {}: {}", self.path, p.key, p.reason)?;
        }
        Ok(())
    }
}

/// What-if changes to a board (`--clock-mhz`, `--flash-wait-states`, `--accelerator off`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// The core clock, in Hz.
    pub clock_hz: Option<u64>,
    /// Wait states of every flash region.
    pub flash_wait_states: Option<u32>,
    /// `Some(false)`: no flash accelerator and no L1 caches.
    pub accelerator: Option<bool>,
}

impl Overrides {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.clock_hz.is_none()
            && self.flash_wait_states.is_none()
            && self.accelerator != Some(false)
    }

    /// `clock 80 MHz, 2 flash wait states, accelerator off`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(hz) = self.clock_hz {
            parts.push(format!("clock {} MHz", hz as f64 / 1e6));
        }
        if let Some(ws) = self.flash_wait_states {
            parts.push(format!("{ws} flash wait states"));
        }
        if self.accelerator == Some(false) {
            parts.push("accelerator and caches off".to_owned());
        }
        parts.join(", ")
    }
}

/// A validated board.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    /// The board's name.
    pub name: String,
    /// Where it came from: `built-in` or the path given.
    pub origin: String,
    /// The file exactly as written (for `boards show` and for hashing into reports).
    pub text: String,
    /// The processor core.
    pub core: Core,
    /// The parsed file; `file.core` is the name of `core`.
    pub file: BoardFile,
}

impl Board {
    /// The names of the built-in boards, in the order they are listed.
    pub fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|b| b.0)
    }

    /// A built-in board by name.
    pub fn builtin(name: &str) -> Option<Result<Board, Error>> {
        BUILTIN
            .iter()
            .find(|b| b.0 == name)
            .map(|b| Board::parse(b.1, "built-in"))
    }

    /// A built-in board by name, or the board file at that path.
    pub fn resolve(name_or_path: &str) -> Result<Board, Error> {
        if let Some(board) = Board::builtin(name_or_path) {
            return board;
        }
        let path = Path::new(name_or_path);
        if path.exists() || name_or_path.contains('/') || name_or_path.ends_with(".toml") {
            return Board::load(path);
        }
        Err(Error::Unknown {
            name: name_or_path.to_owned(),
        })
    }

    /// Read and validate a board file.
    pub fn load(path: &Path) -> Result<Board, Error> {
        let shown = path.display().to_string();
        let text = mcusim_traces::file::read_text_capped(path, mcusim_traces::file::MAX_TEXT_BYTES)
            .map_err(|source| Error::Io {
                path: shown.clone(),
                source,
            })?;
        Board::parse(&text, &shown)
    }

    /// Parse and validate board-file text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Board, Error> {
        let file: BoardFile = toml::from_str(text).map_err(|e| Error::Parse {
            path: origin.to_owned(),
            message: toml_error(&e, text),
        })?;
        let (core, problems) = validate(&file);
        match core {
            Some(core) if problems.is_empty() => Ok(Board {
                name: file.name.clone(),
                origin: origin.to_owned(),
                text: text.to_owned(),
                core,
                file,
            }),
            _ => Err(Error::Invalid {
                path: origin.to_owned(),
                problems,
            }),
        }
    }

    /// This board with what-if changes (a clock, flash wait states, the flash accelerator and
    /// caches off): the file is rewritten with them, so its hash in reports says it changed, and
    /// validated again.
    pub fn with_overrides(&self, o: &Overrides) -> Result<Board, Error> {
        if o.is_empty() {
            return Ok(self.clone());
        }
        let mut file = self.file.clone();
        if let Some(hz) = o.clock_hz {
            file.clock_hz = hz;
        }
        if let Some(ws) = o.flash_wait_states {
            for r in file
                .memory
                .iter_mut()
                .filter(|r| r.kind == RegionKind::Flash)
            {
                r.wait_states = ws;
            }
        }
        if o.accelerator == Some(false) {
            file.flash_accelerator = None;
            file.l1_cache = None;
        }
        let body = toml::to_string(&file).map_err(|e| Error::Parse {
            path: self.origin.clone(),
            message: format!(" cannot write the changed board: {e}"),
        })?;
        let text = format!("# {} with {}\n{body}", self.name, o.describe());
        Board::parse(&text, &format!("{} ({})", self.origin, o.describe()))
    }

    /// The core clock in Hz (never zero).
    pub fn clock_hz(&self) -> u64 {
        self.file.clock_hz
    }

    /// The memory regions, in file order.
    pub fn regions(&self) -> &[MemoryRegion] {
        &self.file.memory
    }

    /// The region containing `addr`, if any.
    pub fn region_at(&self, addr: u64) -> Option<&MemoryRegion> {
        self.file.memory.iter().find(|r| r.contains(addr))
    }

    /// The region holding the reset vector table.
    pub fn boot_region(&self) -> &MemoryRegion {
        self.region_named(&self.file.boot_region)
            .expect("validated: boot_region names a region")
    }

    /// The RAM firmware uses for data and stack: the `ram_region` plus the adjacent
    /// SRAM/TCM regions that follow it, as one half-open range.
    pub fn ram_range(&self) -> std::ops::Range<u64> {
        let first = self
            .region_named(&self.file.ram_region)
            .expect("validated: ram_region names a region");
        let mut end = first.end();
        while let Some(next) = self
            .file
            .memory
            .iter()
            .find(|r| r.base == end && matches!(r.kind, RegionKind::Sram | RegionKind::Tcm))
        {
            end = next.end();
        }
        first.base..end
    }

    /// The region with that name.
    pub fn region_named(&self, name: &str) -> Option<&MemoryRegion> {
        self.file.memory.iter().find(|r| r.name == name)
    }

    /// The peripherals, in file order.
    pub fn peripherals(&self) -> &[Peripheral] {
        &self.file.peripherals
    }

    /// The peripheral firmware prints through, if the board has one.
    pub fn console(&self) -> Option<&Peripheral> {
        self.file.peripherals.iter().find(|p| p.console())
    }
}

/// A TOML error as one line, `line:column: message` (appended to the file's path, the form
/// editors and compilers use), a misspelled key named with the keys that fit there:
/// `12:1: unknown key ``budgt`` (expected one of ``path``, ``name``, ...)`.
pub fn toml_error(e: &toml::de::Error, text: &str) -> String {
    let first = e
        .message()
        .trim()
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .trim();
    let message = match first.strip_prefix("unknown field `") {
        Some(rest) => match rest.split_once("`, expected ") {
            Some((key, expected)) => format!("unknown key `{key}` (expected {expected})"),
            None => format!("unknown key `{rest}"),
        },
        None => first.replace("missing field `", "missing key `"),
    };
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{line}:{column}: {message}")
        }
        None => format!(" {message}"),
    }
}

fn parse_core(name: &str) -> Option<Core> {
    Core::ALL.into_iter().find(|c| c.name() == name)
}

/// Every problem with a parsed board file, and its core if the name is known.
/// The bounds of a board's numbers: past the largest of any microcontroller.
const MAX_CLOCK_HZ: u64 = 4_000_000_000;
const MAX_WAIT_STATES: u64 = 255;
const MAX_CACHE_LINES: u64 = 65_536;
const MAX_LINE_BYTES: u64 = 1024;
const MAX_L1_BYTES: u64 = 1 << 20;
const MAX_WAYS: u64 = 64;
const MAX_BURST_BYTES: u64 = 4096;

fn validate(file: &BoardFile) -> (Option<Core>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut problem = |key: String, reason: String| problems.push(Problem { key, reason });

    if file.name.is_empty()
        || !file
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        problem(
            "name".into(),
            format!(
                "'{}' is not a board name (lower-case letters, digits and '-')",
                file.name
            ),
        );
    }
    let core = parse_core(&file.core);
    if core.is_none() {
        problem(
            "core".into(),
            format!(
                "unknown core '{}' (known: {})",
                file.core,
                Core::ALL.map(Core::name).join(", ")
            ),
        );
    }
    // Every number a board gives is bounded, so no board file can make mcusim allocate or
    // loop without limit: sizes past any microcontroller's are refused.
    macro_rules! range {
        ($key:expr, $value:expr, $lo:expr, $hi:expr $(,)?) => {{
            let (value, lo, hi): (u64, u64, u64) = ($value, $lo, $hi);
            if !(lo..=hi).contains(&value) {
                problem($key, format!("{value} is outside {lo}..={hi}"));
            }
        }};
    }
    if file.clock_hz == 0 {
        problem("clock_hz".into(), "clock must be above zero".into());
    } else {
        range!("clock_hz".into(), file.clock_hz, 1, MAX_CLOCK_HZ);
    }
    for (i, r) in file.memory.iter().enumerate() {
        range!(
            format!("memory[{i}].wait_states"),
            r.wait_states.into(),
            0,
            MAX_WAIT_STATES,
        );
    }
    if let Some(acc) = &file.flash_accelerator {
        for (v, what) in [
            (acc.icache_lines, "icache_lines"),
            (acc.dcache_lines, "dcache_lines"),
            (acc.icache_ways, "icache_ways"),
        ] {
            range!(
                format!("flash_accelerator.{what}"),
                v.into(),
                0,
                MAX_CACHE_LINES,
            );
        }
        for (lines, v, what) in [
            (acc.icache_lines, acc.icache_line_bytes, "icache_line_bytes"),
            (acc.dcache_lines, acc.dcache_line_bytes, "dcache_line_bytes"),
        ] {
            if lines > 0 {
                range!(
                    format!("flash_accelerator.{what}"),
                    v.into(),
                    4,
                    MAX_LINE_BYTES,
                );
            }
        }
        if acc.icache_ways > acc.icache_lines.max(1) {
            problem(
                "flash_accelerator.icache_ways".into(),
                format!(
                    "{} ways for {} lines: a way holds at least one line",
                    acc.icache_ways, acc.icache_lines
                ),
            );
        }
    }
    if let Some(l1) = &file.l1_cache {
        for (v, what) in [
            (l1.icache_bytes, "icache_bytes"),
            (l1.dcache_bytes, "dcache_bytes"),
        ] {
            range!(format!("l1_cache.{what}"), v.into(), 0, MAX_L1_BYTES);
        }
        range!(
            "l1_cache.line_bytes".into(),
            l1.line_bytes.into(),
            4,
            MAX_LINE_BYTES
        );
        for (v, what) in [
            (l1.icache_ways, "icache_ways"),
            (l1.dcache_ways, "dcache_ways"),
        ] {
            range!(format!("l1_cache.{what}"), v.into(), 0, MAX_WAYS);
        }
    }
    for (i, p) in file.peripherals.iter().enumerate() {
        if let PeripheralModel::Npu { sram, flash, .. } = &p.model {
            for (port, what) in [(sram, "sram"), (flash, "flash")] {
                range!(
                    format!("peripheral[{i}].{what}.burst_bytes"),
                    port.burst_bytes.into(),
                    1,
                    MAX_BURST_BYTES,
                );
            }
        }
    }
    let max_irqs = if core.is_some_and(Core::is_armv6m) {
        32
    } else {
        496
    };
    if file.irq_lines == 0 || file.irq_lines > max_irqs {
        problem(
            "irq_lines".into(),
            format!("{} is outside 1..={max_irqs}", file.irq_lines),
        );
    }
    if !(2..=8).contains(&file.priority_bits) {
        problem(
            "priority_bits".into(),
            format!("{} is outside 2..=8", file.priority_bits),
        );
    }

    for (i, r) in file.memory.iter().enumerate() {
        let key = |field: &str| format!("memory[{i}].{field}");
        if file.memory[..i].iter().any(|o| o.name == r.name) {
            problem(
                key("name"),
                format!("region name '{}' is used twice", r.name),
            );
        }
        if r.base % REGION_ALIGN != 0 {
            problem(
                key("base"),
                format!("{:#x} is not a multiple of 4 KiB", r.base),
            );
        }
        if r.size == 0 || r.size % REGION_ALIGN != 0 {
            problem(
                key("size"),
                format!("{:#x} is not a non-zero multiple of 4 KiB", r.size),
            );
        }
        if r.end() > 1 << 32 {
            problem(
                key("size"),
                format!(
                    "region ends at {:#x}, past the 4 GiB address space",
                    r.end()
                ),
            );
        }
        if r.base < PPB.end && PPB.start < r.end() {
            problem(
                key("base"),
                "region overlaps the private peripheral bus 0xe0000000..0xe0100000, which mcusim models".into(),
            );
        }
        if ![8, 16, 32, 64, 128, 256].contains(&r.access_width_bits) {
            problem(
                key("access_width_bits"),
                format!("{} is not 8, 16, 32, 64, 128 or 256", r.access_width_bits),
            );
        }
        for (j, o) in file.memory[..i].iter().enumerate() {
            if r.base < o.end() && o.base < r.end() {
                problem(
                    key("base"),
                    format!(
                        "region '{}' {:#x}..{:#x} overlaps memory[{j}] '{}' {:#x}..{:#x}",
                        r.name,
                        r.base,
                        r.end(),
                        o.name,
                        o.base,
                        o.end()
                    ),
                );
            }
        }
    }

    let named = |name: &str| file.memory.iter().find(|r| r.name == name);
    match named(&file.boot_region) {
        None => problem(
            "boot_region".into(),
            format!("no memory region named '{}'", file.boot_region),
        ),
        Some(r) if !r.kind.executable() => problem(
            "boot_region".into(),
            format!("region '{}' is mmio and cannot hold code", r.name),
        ),
        Some(_) => {}
    }
    match named(&file.ram_region) {
        None => problem(
            "ram_region".into(),
            format!("no memory region named '{}'", file.ram_region),
        ),
        Some(r) if !matches!(r.kind, RegionKind::Sram | RegionKind::Tcm) => problem(
            "ram_region".into(),
            format!("region '{}' is not sram or tcm", r.name),
        ),
        Some(_) => {}
    }

    if let Some(acc) = &file.flash_accelerator {
        if !file.memory.iter().any(|r| r.kind == RegionKind::Flash) {
            problem(
                "flash_accelerator".into(),
                "a flash accelerator needs a flash region".into(),
            );
        }
        if ![4, 8, 16, 32].contains(&acc.fetch_bytes) {
            problem(
                "flash_accelerator.fetch_bytes".into(),
                format!("{} is not 4, 8, 16 or 32", acc.fetch_bytes),
            );
        }
        for (lines, bytes, what) in [
            (acc.icache_lines, acc.icache_line_bytes, "icache"),
            (acc.dcache_lines, acc.dcache_line_bytes, "dcache"),
        ] {
            if lines > 0 && (!bytes.is_power_of_two() || bytes < 4) {
                problem(
                    format!("flash_accelerator.{what}_line_bytes"),
                    format!("{bytes} is not a power of two of at least 4"),
                );
            }
        }
    }

    if let Some(l1) = &file.l1_cache {
        if core != Some(Core::CortexM7) {
            problem(
                "l1_cache".into(),
                "only the Cortex-M7 has L1 caches among the supported cores".into(),
            );
        }
        if !l1.line_bytes.is_power_of_two() || l1.line_bytes < 4 {
            problem(
                "l1_cache.line_bytes".into(),
                format!("{} is not a power of two of at least 4", l1.line_bytes),
            );
        }
        for (bytes, ways, what) in [
            (l1.icache_bytes, l1.icache_ways, "icache"),
            (l1.dcache_bytes, l1.dcache_ways, "dcache"),
        ] {
            if bytes > 0 && (ways == 0 || bytes % (l1.line_bytes.max(1) * ways) != 0) {
                problem(
                    format!("l1_cache.{what}_ways"),
                    format!("{bytes} bytes do not divide into {ways} ways of whole lines"),
                );
            }
        }
    }

    let mut consoles = 0;
    for (i, p) in file.peripherals.iter().enumerate() {
        let key = |field: &str| format!("peripheral[{i}].{field}");
        if file.peripherals[..i].iter().any(|o| o.name == p.name) {
            problem(
                key("name"),
                format!("peripheral name '{}' is used twice", p.name),
            );
        }
        let inside_mmio = file
            .memory
            .iter()
            .any(|r| r.kind == RegionKind::Mmio && r.base <= p.base && p.end() <= r.end());
        if p.size == 0 || !inside_mmio {
            problem(
                key("base"),
                format!(
                    "register block {:#x}..{:#x} does not lie inside an mmio region",
                    p.base,
                    p.end()
                ),
            );
        }
        for (j, o) in file.peripherals[..i].iter().enumerate() {
            if p.base < o.end() && o.base < p.end() {
                problem(
                    key("base"),
                    format!("register block overlaps peripheral[{j}] '{}'", o.name),
                );
            }
        }
        if let Some(irq) = p.irq
            && irq >= file.irq_lines
        {
            problem(
                key("irq"),
                format!("irq {irq} is not below irq_lines ({})", file.irq_lines),
            );
        }
        match p.model {
            PeripheralModel::Stm32Dmamux { channels } if !(1..=32).contains(&channels) => {
                problem(
                    key("channels"),
                    format!("{channels} channels: a DMAMUX has 1 to 32"),
                );
            }
            PeripheralModel::Npu { macs, .. } if ![32, 64, 128, 256].contains(&macs) => {
                problem(
                    key("macs"),
                    format!("{macs} MACs per cycle: an Ethos-U55 has 32, 64, 128 or 256"),
                );
            }
            PeripheralModel::Npu { sram, flash, .. }
                if [sram, flash]
                    .iter()
                    .any(|p| p.clock_divider == 0 || p.burst_bytes == 0) =>
            {
                problem(
                    key("sram"),
                    "an NPU port needs clock_divider and burst_bytes of at least 1".to_owned(),
                );
            }
            PeripheralModel::SampleStream { dma_request } if !(1..=127).contains(&dma_request) => {
                problem(
                    key("dma_request"),
                    format!("request line {dma_request} is not 1 to 127"),
                );
            }
            PeripheralModel::Stm32Dma {
                channels,
                dmamux_channel: Some(first),
                ..
            } if usize::from(first) + usize::from(channels) > 32 => {
                problem(
                    key("dmamux_channel"),
                    format!(
                        "DMAMUX channels {first} to {} do not exist (a DMAMUX has at most 32)",
                        usize::from(first) + usize::from(channels) - 1
                    ),
                );
            }
            _ => {}
        }
        if let PeripheralModel::Stm32Dma { channels, .. } = p.model {
            if !(1..=8).contains(&channels) {
                problem(
                    key("irqs"),
                    format!("{channels} channels: give one irq per channel, 1 to 8"),
                );
            }
            for irq in p.lines() {
                if irq >= file.irq_lines {
                    problem(
                        key("irqs"),
                        format!("irq {irq} is not below irq_lines ({})", file.irq_lines),
                    );
                }
            }
        }
        if p.console() {
            consoles += 1;
            if consoles == 2 {
                problem(
                    key("console"),
                    "only one peripheral can be the console".into(),
                );
            }
        }
    }

    if let Some(e) = &file.energy {
        let optional = [
            (e.npu_pj_per_mac, "npu_pj_per_mac"),
            (e.npu_pj_per_byte, "npu_pj_per_byte"),
            (e.dma_pj_per_byte, "dma_pj_per_byte"),
        ];
        for (v, what) in [
            (e.supply_volts, "supply_volts"),
            (e.run_ua_per_mhz, "run_ua_per_mhz"),
            (e.sleep_ua, "sleep_ua"),
            (e.sram_pj_per_byte, "sram_pj_per_byte"),
            (e.flash_pj_per_byte, "flash_pj_per_byte"),
        ]
        .into_iter()
        .chain(optional.iter().filter_map(|&(v, w)| v.map(|v| (v, w))))
        {
            if !(v.is_finite() && v >= 0.0) {
                problem(
                    format!("energy.{what}"),
                    format!("{v} is not a finite non-negative number"),
                );
            }
        }
        // A device's work has an energy only if the board says what it costs: without the
        // figure it would be a silent zero.
        let has = |f: fn(&PeripheralModel) -> bool| file.peripherals.iter().any(|p| f(&p.model));
        let needs = [
            (
                has(|m| matches!(m, PeripheralModel::Npu { .. })),
                "an NPU",
                &optional[..2],
            ),
            (
                has(|m| matches!(m, PeripheralModel::Stm32Dma { .. })),
                "a DMA controller",
                &optional[2..],
            ),
        ];
        for (present, device, fields) in needs {
            for &(v, what) in fields {
                if present && v.is_none() {
                    problem(
                        format!("energy.{what}"),
                        format!("missing: the board has {device}, so its energy needs this figure"),
                    );
                }
            }
        }
    }

    (core, problems)
}

#[cfg(test)]
mod tests;
