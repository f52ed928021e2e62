//! Building firmware for a board with `arm-none-eabi-gcc`: the core's compiler flags, a linker
//! script and a board header generated from the board file, and mcusim's firmware runtime
//! (start-up code, console, semihosting), which is embedded in this crate so an installed
//! `mcusim` needs no source tree.

use mcusim_boards::{Board, Core, PeripheralModel};
use mcusim_traces::group;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

pub mod library;
pub use library::{CACHE_ENV, cache_dir};

/// The runtime's sources: (file name, contents). Apache-2.0, like everything that ends up in
/// users' firmware.
pub const RUNTIME: [(&str, &str); 6] = [
    ("mcusim.h", include_str!("../../kernels/runtime/mcusim.h")),
    (
        "mcusim_dma.h",
        include_str!("../../kernels/runtime/mcusim_dma.h"),
    ),
    (
        "mcusim_npu.h",
        include_str!("../../kernels/runtime/mcusim_npu.h"),
    ),
    (
        "mcusim_stream.h",
        include_str!("../../kernels/runtime/mcusim_stream.h"),
    ),
    ("startup.c", include_str!("../../kernels/runtime/startup.c")),
    ("runtime.c", include_str!("../../kernels/runtime/runtime.c")),
];

include!(concat!(env!("OUT_DIR"), "/kernels.rs"));

/// The entry point of model firmware (`kernels/runtime/model_main.c`): one inference of the
/// generated `mcusim_model.c`.
pub const MODEL_MAIN: (&str, &str) = (
    "model_main.c",
    include_str!("../../kernels/runtime/model_main.c"),
);

/// The entry point of streaming model firmware (`kernels/runtime/stream_main.c`): windows of
/// the board's sample stream arrive by DMA, each runs one inference, the core sleeps between.
pub const STREAM_MAIN: (&str, &str) = (
    "stream_main.c",
    include_str!("../../kernels/runtime/stream_main.c"),
);

/// The compiler this crate drives.
pub const GCC: &str = "arm-none-eabi-gcc";

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cross-compiler is not installed.
    #[error(
        "{GCC} not found: install the Debian packages gcc-arm-none-eabi and libnewlib-arm-none-eabi"
    )]
    NoCompiler,
    /// The compiler ran and failed.
    #[error("{GCC} failed to build {output}:\n{stderr}")]
    Compile {
        /// The ELF that was being built.
        output: String,
        /// What the compiler printed.
        stderr: String,
    },
    /// The firmware needs more flash or RAM than the board has (measured by linking it again
    /// against unbounded memory).
    #[error("{output} does not fit board '{board}': {}", shortfalls.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    DoesNotFit {
        /// The ELF that was being built.
        output: String,
        /// The board's name.
        board: String,
        /// Each memory that is too small.
        shortfalls: Vec<Shortfall>,
    },
    /// Compiler options that are not optimisation or code-generation flags.
    #[error("{0}")]
    BadOptions(String),
    /// A file could not be written.
    #[error("{path}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// One memory a firmware needs more of than the board has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    /// `flash` (code, constants and initialised data's load image) or `RAM` (data, `.bss`,
    /// and the stack reserved below the top).
    pub memory: &'static str,
    /// Bytes the firmware needs.
    pub needed: u64,
    /// Bytes the board has.
    pub available: u64,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} needs {} bytes, the board has {} ({} too many)",
            self.memory,
            group(self.needed),
            group(self.available),
            group(self.needed.saturating_sub(self.available))
        )
    }
}

/// Compiler flags selecting the core, its FPU and float ABI.
pub fn core_flags(core: Core) -> &'static [&'static str] {
    match core {
        Core::CortexM0Plus => &["-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"],
        Core::CortexM3 => &["-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"],
        Core::CortexM4 => &["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"],
        Core::CortexM4F => &[
            "-mcpu=cortex-m4",
            "-mthumb",
            "-mfpu=fpv4-sp-d16",
            "-mfloat-abi=hard",
        ],
        // The STM32F7's FPU is single precision (FPv5-SP-D16, RM0385 sec. 1).
        Core::CortexM7 => &[
            "-mcpu=cortex-m7",
            "-mthumb",
            "-mfpu=fpv5-sp-d16",
            "-mfloat-abi=hard",
        ],
        Core::CortexM33 => &[
            "-mcpu=cortex-m33",
            "-mthumb",
            "-mfpu=fpv5-sp-d16",
            "-mfloat-abi=hard",
        ],
    }
}

/// `mcusim_board.h`: the board's facts as C macros, for the runtime.
pub fn board_header(board: &Board) -> String {
    let mut h = String::new();
    let _ = writeln!(h, "/* Generated by mcusim from board '{}'. */", board.name);
    h.push_str("#ifndef MCUSIM_BOARD_H\n#define MCUSIM_BOARD_H\n");
    let _ = writeln!(h, "#define MCUSIM_BOARD_NAME \"{}\"", board.name);
    let _ = writeln!(h, "#define MCUSIM_CLOCK_HZ {}u", board.clock_hz());
    let _ = writeln!(h, "#define MCUSIM_IRQ_LINES {}", board.file.irq_lines);
    if let Some(uart) = board.console() {
        // Only UARTs can be the console (the board file's validation sees to it).
        if let Some(kind) = match uart.model {
            PeripheralModel::CmsdkUart { .. } => Some("MCUSIM_UART_CMSDK"),
            PeripheralModel::Stm32Usart { .. } => Some("MCUSIM_UART_STM32"),
            PeripheralModel::CmsdkTimer
            | PeripheralModel::Stm32Dma { .. }
            | PeripheralModel::Stm32Dmamux { .. }
            | PeripheralModel::SampleStream { .. }
            | PeripheralModel::Npu { .. } => None,
        } {
            let _ = writeln!(h, "#define {kind} 1");
        }
        let _ = writeln!(h, "#define MCUSIM_UART_BASE {:#010x}u", uart.base);
        if let Some(irq) = uart.irq {
            let _ = writeln!(h, "#define MCUSIM_UART_IRQ {irq}u");
        }
    }
    // The first DMA controller, for the runtime's driver (`mcusim_dma.h`).
    if let Some(dma) = board
        .peripherals()
        .iter()
        .find(|p| matches!(p.model, PeripheralModel::Stm32Dma { .. }))
    {
        let _ = writeln!(h, "#define MCUSIM_DMA_STM32 1");
        let _ = writeln!(h, "#define MCUSIM_DMA_BASE {:#010x}u", dma.base);
        let lines = dma.lines();
        let _ = writeln!(h, "#define MCUSIM_DMA_CHANNELS {}", lines.len());
        for (i, irq) in lines.iter().enumerate() {
            let _ = writeln!(h, "#define MCUSIM_DMA_CH{}_IRQ {irq}u", i + 1);
        }
        if let PeripheralModel::Stm32Dma {
            dmamux_channel: Some(first),
            ..
        } = dma.model
        {
            // Channel n's DMAMUX channel is MCUSIM_DMA_DMAMUX_FIRST + n - 1.
            let _ = writeln!(h, "#define MCUSIM_DMA_DMAMUX_FIRST {first}u");
        }
    }
    if let Some(mux) = board
        .peripherals()
        .iter()
        .find(|p| matches!(p.model, PeripheralModel::Stm32Dmamux { .. }))
    {
        let _ = writeln!(h, "#define MCUSIM_DMAMUX_BASE {:#010x}u", mux.base);
    }
    // The sample stream (`mcusim_stream.h`).
    if let Some(stream) = board
        .peripherals()
        .iter()
        .find(|p| matches!(p.model, PeripheralModel::SampleStream { .. }))
        && let PeripheralModel::SampleStream { dma_request } = stream.model
    {
        let _ = writeln!(h, "#define MCUSIM_STREAM_BASE {:#010x}u", stream.base);
        let _ = writeln!(h, "#define MCUSIM_STREAM_DMA_REQUEST {dma_request}u");
        if let Some(irq) = stream.irq {
            let _ = writeln!(h, "#define MCUSIM_STREAM_IRQ {irq}u");
        }
    }
    // The NPU (`mcusim_npu.h`).
    if let Some(npu) = board
        .peripherals()
        .iter()
        .find(|p| matches!(p.model, PeripheralModel::Npu { .. }))
        && let PeripheralModel::Npu { macs, .. } = npu.model
    {
        let _ = writeln!(h, "#define MCUSIM_NPU_BASE {:#010x}u", npu.base);
        let _ = writeln!(h, "#define MCUSIM_NPU_MACS {macs}u");
        if let Some(irq) = npu.irq {
            let _ = writeln!(h, "#define MCUSIM_NPU_IRQ {irq}u");
        }
    }
    h.push_str("#endif\n");
    h
}

/// A GNU ld script placing code and read-only data in the boot region and data, heap and
/// stack in the board's RAM.
pub fn linker_script(board: &Board, stack_bytes: u32) -> String {
    let code = board.boot_region();
    let ram = board.ram_range();
    script(board, stack_bytes, code.size, ram.end - ram.start)
}

/// The linker script with the code and RAM regions given these lengths.
fn script(board: &Board, stack_bytes: u32, code_size: u64, ram_size: u64) -> String {
    let code = board.boot_region();
    let ram = board.ram_range();
    // An instruction TCM (a TCM outside the RAM range, as the STM32F7's at 0): code marked
    // MCUSIM_ITCM is copied there at start-up. Without one, it stays in flash.
    let itcm = board
        .regions()
        .iter()
        .find(|r| r.kind == mcusim_boards::RegionKind::Tcm && !ram.contains(&r.base));
    let (itcm_memory, itcm_section, itcm_in_text) = match itcm {
        Some(r) => (
            format!(
                "\n  ITCM (rwx) : ORIGIN = {:#010x}, LENGTH = {:#x}",
                r.base, r.size
            ),
            "  .itcm : ALIGN(4) { __itcm_start = .; *(.itcm .itcm.*) . = ALIGN(4); __itcm_end = .; } > ITCM AT > CODE\n  __itcm_load = LOADADDR(.itcm);\n".to_owned(),
            "",
        ),
        None => (
            String::new(),
            "  __itcm_start = 0; __itcm_end = 0; __itcm_load = 0;\n".to_owned(),
            "    *(.itcm .itcm.*)\n",
        ),
    };
    format!(
        "/* Generated by mcusim from board '{name}'. */
MEMORY
{{
  CODE (rx)  : ORIGIN = {code_base:#010x}, LENGTH = {code_size:#x}
  RAM  (rwx) : ORIGIN = {ram_base:#010x}, LENGTH = {ram_size:#x}{itcm_memory}
}}

ENTRY(Reset_Handler)

__StackTop = ORIGIN(RAM) + LENGTH(RAM);
__stack_size = {stack_bytes:#x};

SECTIONS
{{
  .isr_vector : {{ KEEP(*(.isr_vector)) }} > CODE

  .text :
  {{
    *(.text .text.*)
{itcm_in_text}    KEEP(*(.init)) KEEP(*(.fini))
    *(.rodata .rodata.*)
    . = ALIGN(4);
  }} > CODE

  .ARM.exidx : {{ *(.ARM.exidx* .gnu.linkonce.armexidx.*) }} > CODE

  .preinit_array : {{ PROVIDE_HIDDEN(__preinit_array_start = .); KEEP(*(.preinit_array*)); PROVIDE_HIDDEN(__preinit_array_end = .); }} > CODE
  .init_array : {{ PROVIDE_HIDDEN(__init_array_start = .); KEEP(*(SORT(.init_array.*))) KEEP(*(.init_array*)); PROVIDE_HIDDEN(__init_array_end = .); }} > CODE
  .fini_array : {{ PROVIDE_HIDDEN(__fini_array_start = .); KEEP(*(SORT(.fini_array.*))) KEEP(*(.fini_array*)); PROVIDE_HIDDEN(__fini_array_end = .); }} > CODE

{itcm_section}
  /* MCUSIM_DTCM data first: at the start of RAM, which is the data TCM where the board has
     one there (the STM32F7's DTCM). */
  .data : ALIGN(4)
  {{
    __data_start = .;
    *(.dtcm .dtcm.*)
    *(.data .data.*)
    . = ALIGN(4);
    __data_end = .;
  }} > RAM AT > CODE
  __data_load = LOADADDR(.data);

  .bss (NOLOAD) : ALIGN(4)
  {{
    __bss_start = .;
    *(.bss .bss.*) *(COMMON)
    . = ALIGN(4);
    __bss_end = .;
  }} > RAM

  /* Survives a system reset: the start-up code neither copies nor clears it. */
  .noinit (NOLOAD) : ALIGN(4) {{ *(.noinit .noinit.*) }} > RAM

  . = ALIGN(8);
  __heap_start = .;
  end = .;
  __heap_limit = __StackTop - __stack_size;
  ASSERT(__heap_start <= __heap_limit, \"RAM overflow: data, bss and stack do not fit\")
}}
",
        name = board.name,
        code_base = code.base,
        ram_base = ram.start,
    )
}

/// Writes what a firmware for `board` needs besides its own code into `dir`: the runtime
/// (`mcusim.h`, `mcusim_dma.h`, `startup.c`, `runtime.c`), the board header and the linker
/// script. Returns the
/// runtime's C files, relative to `dir`.
pub fn write_runtime(dir: &Path, board: &Board, stack_bytes: u32) -> Result<Vec<String>, Error> {
    for (name, text) in RUNTIME {
        write(dir, name, text)?;
    }
    write(dir, "mcusim_board.h", &board_header(board))?;
    write(dir, "link.ld", &linker_script(board, stack_bytes))?;
    Ok(vec!["startup.c".into(), "runtime.c".into()])
}

/// The compiler flags an optimisation setting (`--opt`, a config's `opt`) may hold, one or
/// more separated by spaces: `-O0`..`-O3`, `-Os`, `-Oz`, `-Og`, `-Ofast`; `-f` and `-m` flags
/// (`-funroll-loops`, `-mslow-flash-data`, `-falign-functions=16`); `--param=NAME=VALUE`. They
/// are data, not a command line: anything else (`-B DIR` runs programs from DIR, `-wrapper`,
/// `@file`, `-specs=`, a plugin, a path anywhere) is refused with the reason, before gcc runs.
pub fn opt_flags(opt: &str) -> Result<Vec<String>, String> {
    const REFUSED: [&str; 8] = [
        "-fplugin",
        "-fdump",
        "-fprofile",
        "-fauto-profile",
        "-fopt-info",
        "-fsave-optimization-record",
        "-fcallgraph-info",
        "-fdiagnostics",
    ];
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ',' | '+'))
    };
    let flag = |t: &str, prefix: &str| {
        t.strip_prefix(prefix).is_some_and(|rest| {
            let (name, value) = rest.split_once('=').unwrap_or((rest, "x"));
            word(name) && word(value) && name.starts_with(|c: char| c.is_ascii_lowercase())
        })
    };
    let flags: Vec<String> = opt.split_whitespace().map(str::to_owned).collect();
    if flags.is_empty() {
        return Err("the optimisation flags are empty (give one such as -O2)".into());
    }
    for t in &flags {
        let ok = matches!(
            t.as_str(),
            "-O" | "-O0" | "-O1" | "-O2" | "-O3" | "-Os" | "-Oz" | "-Og" | "-Ofast"
        ) || ((flag(t, "-f") || flag(t, "-m"))
            && !REFUSED.iter().any(|r| t.starts_with(r)))
            || t.strip_prefix("--param=")
                .is_some_and(|p| p.split_once('=').is_some_and(|(n, v)| word(n) && word(v)));
        if !ok {
            return Err(format!(
                "'{t}' is not an optimisation or code-generation flag (allowed: -O0..-O3, -Os, \
                 -Oz, -Og, -Ofast, -f... and -m... flags without paths or plugins, \
                 --param=NAME=VALUE)"
            ));
        }
    }
    Ok(flags)
}

/// A Makefile building `sources` (paths relative to its folder) with the runtime into
/// `firmware.elf` for `board`, with Debian's arm-none-eabi-gcc.
pub fn makefile(board: &Board, opt: &str, sources: &[String], include: &[&str]) -> String {
    let flags = core_flags(board.core).join(" ");
    let includes: String = include.iter().map(|i| format!(" -I{i}")).collect();
    format!(
        "# Generated by mcusim for board {board}. Build with `make` (arm-none-eabi-gcc).\n\
         CC = arm-none-eabi-gcc\n\
         CFLAGS = {flags} {opt} -g -std=c99 -ffunction-sections -fdata-sections -ffreestanding -I.{includes}\n\
         LDFLAGS = -nostartfiles --specs=nano.specs -Wl,--gc-sections -T link.ld\n\
         SOURCES = {sources}\n\n\
         firmware.elf: $(SOURCES)\n\
         \t$(CC) $(CFLAGS) $(SOURCES) $(LDFLAGS) -o $@\n",
        board = board.name,
        sources = sources.join(" \\\n\t"),
    )
}

/// One firmware build.
#[derive(Debug, Clone)]
pub struct Build<'a> {
    /// The board to build for.
    pub board: &'a Board,
    /// The firmware's own C sources (the runtime is added).
    pub sources: Vec<PathBuf>,
    /// The ELF to write. Generated files go into a folder next to it named after it.
    pub output: PathBuf,
    /// Optimisation flag, e.g. `-O2`.
    pub opt: String,
    /// Stack reserved below the top of RAM, in bytes.
    pub stack_bytes: u32,
    /// Preprocessor definitions, `NAME` or `NAME=VALUE`.
    pub defines: Vec<String>,
    /// Further compiler arguments (include directories, warnings), passed as they are.
    pub extra_args: Vec<String>,
    /// Link the mnn kernel library ([`KERNELS`]) too, its headers on the path; compiled once
    /// per compiler, core and options and kept in the user's cache ([`library`]).
    pub kernels: bool,
}

impl<'a> Build<'a> {
    /// A build of `sources` for `board` into `output` with the defaults (-O2, 8 KiB stack).
    pub fn new(board: &'a Board, sources: Vec<PathBuf>, output: PathBuf) -> Build<'a> {
        Build {
            board,
            sources,
            output,
            opt: "-O2".into(),
            stack_bytes: 8 * 1024,
            defines: Vec::new(),
            extra_args: Vec::new(),
            kernels: false,
        }
    }

    /// Write the runtime, board header and linker script, then compile and link.
    pub fn run(&self) -> Result<(), Error> {
        opt_flags(&self.opt).map_err(Error::BadOptions)?;
        if which(GCC).is_none() {
            return Err(Error::NoCompiler);
        }
        let gen_dir = self.output.with_extension("gen");
        write(&gen_dir, "mcusim_board.h", &board_header(self.board))?;
        write(
            &gen_dir,
            "link.ld",
            &linker_script(self.board, self.stack_bytes),
        )?;
        for (name, text) in RUNTIME {
            write(&gen_dir, name, text)?;
        }
        let kernels = if self.kernels {
            // The headers for the firmware's own sources; the code comes compiled, from the
            // cache (see [`library`]).
            let include = gen_dir.join("mnn").join("include");
            for (path, text) in KERNELS {
                if let Some(name) = path.strip_prefix("include/") {
                    write(&include, name, text)?;
                }
            }
            let spec = library::Spec {
                core: self.board.core,
                opt: &opt_flags(&self.opt).map_err(Error::BadOptions)?,
                defines: &self.defines,
                output: &self.output,
            };
            let (archive, _) = library::archive(&spec, &gen_dir)?;
            Some(Kernels { include, archive })
        } else {
            None
        };
        let kernel_args = kernels.as_ref();
        let out = self.command(&gen_dir.join("link.ld"), kernel_args, &self.output)?;
        if out.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_owned();
        // The linker says a region overflowed (or the stack's reserve does not fit): link
        // again against unbounded memory to say by how much, in the user's terms.
        if ["overflowed by", "RAM overflow", "will not fit in region"]
            .iter()
            .any(|m| stderr.contains(m))
            && let Some(shortfalls) = self.measure(&gen_dir, kernel_args)
        {
            return Err(Error::DoesNotFit {
                output: self.output.display().to_string(),
                board: self.board.name.clone(),
                shortfalls,
            });
        }
        Err(Error::Compile {
            output: self.output.display().to_string(),
            stderr,
        })
    }

    /// The compiler invocation that builds the ELF `output` with the linker script `script`.
    fn command(
        &self,
        script: &Path,
        kernels: Option<&Kernels>,
        output: &Path,
    ) -> Result<std::process::Output, Error> {
        let gen_dir = self.output.with_extension("gen");
        let mut cmd = Command::new(GCC);
        cmd.args(core_flags(self.board.core))
            .args(opt_flags(&self.opt).map_err(Error::BadOptions)?)
            .args(library::COMPILE_FLAGS)
            .args(["-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections"])
            .args(self.defines.iter().map(|d| format!("-D{d}")))
            // The debug information records the directory gcc ran in: mapped to `.`, so the
            // same sources give the same bytes from wherever mcusim is started.
            .args(
                std::env::current_dir()
                    .ok()
                    .map(|d| format!("-ffile-prefix-map={}=.", d.display())),
            )
            .args(&self.extra_args)
            .arg("-I")
            .arg(&gen_dir)
            .arg("-T")
            .arg(script)
            .arg(gen_dir.join("startup.c"))
            .arg(gen_dir.join("runtime.c"))
            .args(kernels.iter().flat_map(|k| [Path::new("-I"), &k.include]))
            .args(&self.sources)
            .args(kernels.map(|k| &k.archive))
            .arg("-o")
            .arg(output);
        cmd.output().map_err(|source| Error::Io {
            path: GCC.into(),
            source,
        })
    }

    /// Links the firmware against code and RAM regions of 256 MiB and reads from its symbols
    /// how much of each it takes: the shortfalls against the board's, or `None` if that link
    /// fails too or everything fits.
    fn measure(&self, gen_dir: &Path, kernels: Option<&Kernels>) -> Option<Vec<Shortfall>> {
        const UNBOUNDED: u64 = 256 << 20;
        let script = gen_dir.join("link-measure.ld");
        let elf = gen_dir.join("measure.elf");
        let text = self::script(self.board, self.stack_bytes, UNBOUNDED, UNBOUNDED);
        std::fs::write(&script, text).ok()?;
        let out = self.command(&script, kernels, &elf).ok()?;
        let bytes = std::fs::read(&elf).ok();
        let _ = std::fs::remove_file(&elf);
        let _ = std::fs::remove_file(&script);
        if !out.status.success() {
            return None;
        }
        let bytes = bytes?;
        let parsed = goblin::elf::Elf::parse(&bytes).ok()?;
        let symbol = |name: &str| {
            parsed
                .syms
                .iter()
                .find(|s| parsed.strtab.get_at(s.st_name) == Some(name))
                .map(|s| s.st_value)
        };
        let (load, start, end, heap) = (
            symbol("__data_load")?,
            symbol("__data_start")?,
            symbol("__data_end")?,
            symbol("__heap_start")?,
        );
        let code = self.board.boot_region();
        let ram = self.board.ram_range();
        let needs = [
            ("flash", load + (end - start) - code.base, code.size),
            (
                "RAM",
                heap - ram.start + u64::from(self.stack_bytes),
                ram.end - ram.start,
            ),
        ];
        let shortfalls: Vec<Shortfall> = needs
            .into_iter()
            .filter(|&(_, needed, available)| needed > available)
            .map(|(memory, needed, available)| Shortfall {
                memory,
                needed,
                available,
            })
            .collect();
        (!shortfalls.is_empty()).then_some(shortfalls)
    }
}

/// The kernel library of a build: its headers' folder and its compiled archive.
struct Kernels {
    include: PathBuf,
    archive: PathBuf,
}

fn write(dir: &Path, name: &str, text: &str) -> Result<(), Error> {
    let io = |source, path: &Path| Error::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| io(e, &path))
}

/// The full path of a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_optimisation_and_code_generation_flags_pass() {
        for ok in [
            "-O2",
            "-Os -funroll-loops",
            "-O3 -mslow-flash-data",
            "-falign-functions=16",
        ] {
            assert!(opt_flags(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            opt_flags(" -O1  -fno-inline ").unwrap(),
            ["-O1", "-fno-inline"]
        );
        assert!(opt_flags("--param=max-inline-insns-auto=20").is_ok());
        for bad in [
            "",
            "-B",
            "-B/tmp",
            "-O2 -B /tmp",
            "-wrapper",
            "@opts",
            "-specs=x",
            "-o/tmp/x",
            "-fplugin=x.so",
            "-fdump-tree-all",
            "-fprofile-generate",
            "-mfoo=/etc/x",
            "-I/usr",
            "-D X",
            "-Wl,-T,x",
            "-f",
            "-f=1",
            "--param=x",
        ] {
            assert!(opt_flags(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn linker_script_uses_the_boot_region_and_merged_ram() {
        let board = Board::builtin("nucleo-l4r5zi").unwrap().unwrap();
        let ld = linker_script(&board, 0x2000);
        assert!(
            ld.contains("CODE (rx)  : ORIGIN = 0x08000000, LENGTH = 0x200000"),
            "{ld}"
        );
        assert!(
            ld.contains("RAM  (rwx) : ORIGIN = 0x20000000, LENGTH = 0xa0000"),
            "{ld}"
        );
    }

    #[test]
    fn board_header_names_the_console_uart() {
        let board = Board::builtin("mps2-an386").unwrap().unwrap();
        let h = board_header(&board);
        assert!(h.contains("#define MCUSIM_UART_CMSDK 1"), "{h}");
        assert!(h.contains("#define MCUSIM_UART_BASE 0x40004000u"), "{h}");
        assert!(h.contains("#define MCUSIM_CLOCK_HZ 25000000u"), "{h}");
    }
}
