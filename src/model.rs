//! From a `.tflite` model to a firmware ELF: read and check the model, lower it to kernel calls,
//! plan the arena, generate C and build it for the board (shared by `compile` and `profile`).

use anyhow::{Context, Result, bail};
use mcusim_boards::{Board, Core};
use mcusim_compiler::{codegen, lower::Layer, plan, tflite::Model};
use std::path::{Path, PathBuf};

/// How to compile.
#[derive(Debug, Clone)]
pub struct Options {
    pub opt: String,
    pub weights_in_sram: bool,
    pub reference_kernels: bool,
    pub layer_markers: bool,
}

/// A model read, checked, lowered and planned for a board.
pub struct Prepared {
    pub model: Model,
    pub layers: Vec<Layer>,
    pub plan: plan::Plan,
    pub source_name: String,
}

impl Prepared {
    pub fn macs(&self) -> u64 {
        self.layers.iter().map(|l| l.macs).sum()
    }

    /// The shapes of the model's outputs, for `.npy` files.
    pub fn output_shapes(&self) -> Vec<Vec<usize>> {
        self.model
            .outputs
            .iter()
            .map(|&t| {
                self.model.tensors[t]
                    .shape
                    .iter()
                    .map(|&d| d.max(0) as usize)
                    .collect()
            })
            .collect()
    }

    /// The sizes in bytes of the model's inputs.
    pub fn input_sizes(&self) -> Vec<usize> {
        self.model
            .inputs
            .iter()
            .map(|&t| plan::tensor_bytes(&self.model.tensors[t]) as usize)
            .collect()
    }
}

/// True if the file starts like a TFLite flatbuffer (identifier "TFL3" at offset 4).
pub fn is_tflite(path: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head[4..8] == b"TFL3"
}

/// Whether the board's core has the DSP extension the optimised kernels use.
fn has_dsp(core: Core) -> bool {
    !matches!(core, Core::CortexM0Plus | Core::CortexM3)
}

pub fn prepare(path: &Path, board: &Board) -> Result<Prepared> {
    let model = Model::load(path)?;
    model.check(&path.display().to_string())?;
    let layers = model
        .lower()
        .with_context(|| format!("{}: cannot lower the model", path.display()))?;
    let plan = plan::plan(&model, &layers, has_dsp(board.core));
    let source_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(Prepared {
        model,
        layers,
        plan,
        source_name,
    })
}

fn generate(p: &Prepared, options: &Options) -> codegen::Generated {
    codegen::generate(
        &p.model,
        &p.layers,
        &p.plan,
        &codegen::Options {
            source_name: p.source_name.clone(),
            reference_kernels: options.reference_kernels,
            weights_in_sram: options.weights_in_sram,
            layer_markers: options.layer_markers,
        },
    )
}

fn write(dir: &Path, name: &str, text: &str) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("{}: cannot write", path.display()))
}

/// The stack the firmware reserves below the top of RAM (the toolchain's default).
const STACK_BYTES: u32 = 8 * 1024;

/// Refuses, before anything is built, a model whose weights and arena alone exceed the board's
/// flash or RAM, saying what takes the room; what the code adds is measured by the linker.
pub fn check_fits(p: &Prepared, board: &Board, options: &Options) -> Result<()> {
    let bytes = |t: Option<usize>| {
        t.and_then(|t| p.model.tensors[t].data.as_ref())
            .map_or(0, |d| d.len() as u64)
    };
    let weights: u64 = p.layers.iter().map(|l| bytes(l.weights)).sum();
    let constants: u64 = p.layers.iter().map(|l| bytes(l.bias)).sum::<u64>()
        + p.input_sizes().iter().sum::<usize>() as u64;
    let outputs: u64 = p
        .model
        .outputs
        .iter()
        .map(|&t| u64::from(plan::tensor_bytes(&p.model.tensors[t])))
        .sum();
    let arena = u64::from(p.plan.arena_bytes);
    let stack = u64::from(STACK_BYTES);
    let in_ram = if options.weights_in_sram { weights } else { 0 };
    let flash_needed = weights + constants;
    let ram_needed = arena + in_ram + outputs + stack;
    let flash = board.boot_region().size;
    let ram = board.ram_range().end - board.ram_range().start;
    let g = mcusim_profiler::group;
    let mut problems = Vec::new();
    if flash_needed > flash {
        problems.push(format!(
            "flash needs at least {} bytes (weights {}, biases and the input {}), the board has {}",
            g(flash_needed),
            g(weights),
            g(constants),
            g(flash)
        ));
    }
    if ram_needed > ram {
        let mut what = format!("arena {}", g(arena));
        if in_ram > 0 {
            what.push_str(&format!(", weights copied to RAM {}", g(in_ram)));
        }
        let mut problem = format!(
            "RAM needs at least {} bytes ({what}, output {}, stack {}), the board has {}",
            g(ram_needed),
            g(outputs),
            g(stack),
            g(ram)
        );
        if in_ram > 0 && ram_needed - in_ram <= ram {
            problem.push_str(" (without --weights-in-sram the weights stay in flash)");
        }
        problems.push(problem);
    }
    if problems.is_empty() {
        return Ok(());
    }
    bail!(
        "{} does not fit board '{}': {}",
        p.source_name,
        board.name,
        problems.join("; ")
    )
}

/// Builds the ELF `out` (generated sources in `OUT.model/` beside it). Errors name the model,
/// not the build's files.
pub fn build(p: &Prepared, board: &Board, options: &Options, out: &Path) -> Result<()> {
    check_fits(p, board, options)?;
    let g = generate(p, options);
    let dir = out.with_extension("model");
    write(&dir, "mcusim_model.h", &g.header)?;
    write(&dir, "mcusim_model.c", &g.source)?;
    write(
        &dir,
        mcusim_toolchain::MODEL_MAIN.0,
        mcusim_toolchain::MODEL_MAIN.1,
    )?;
    let mut build = mcusim_toolchain::Build::new(
        board,
        vec![
            dir.join("mcusim_model.c"),
            dir.join(mcusim_toolchain::MODEL_MAIN.0),
        ],
        out.to_path_buf(),
    );
    build.opt = options.opt.clone();
    build.kernels = true;
    build.extra_args = vec!["-I".into(), dir.display().to_string()];
    // Keep the build folder's path out of the ELF (debug information), so the same model
    // gives the same firmware bytes wherever it is built.
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        build
            .extra_args
            .push(format!("-ffile-prefix-map={}=.", parent.display()));
    }
    build.stack_bytes = STACK_BYTES;
    build.run().map_err(|e| match e {
        mcusim_toolchain::Error::DoesNotFit { shortfalls, .. } => anyhow::anyhow!(
            "{} does not fit board '{}': {}",
            p.source_name,
            board.name,
            shortfalls
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ),
        mcusim_toolchain::Error::Compile { stderr, .. } => anyhow::anyhow!(
            "{}: building the firmware for board '{}' failed:\n{stderr}",
            p.source_name,
            board.name
        ),
        other => other.into(),
    })
}

/// Writes everything a user's own toolchain needs into `dir`: the generated model, the entry
/// point, the runtime, the kernel library, the board header, a linker script and a Makefile.
pub fn emit_c(p: &Prepared, board: &Board, options: &Options, dir: &Path) -> Result<Vec<PathBuf>> {
    let g = generate(p, options);
    write(dir, "mcusim_model.h", &g.header)?;
    write(dir, "mcusim_model.c", &g.source)?;
    write(
        dir,
        mcusim_toolchain::MODEL_MAIN.0,
        mcusim_toolchain::MODEL_MAIN.1,
    )?;
    let mut sources = vec![
        "mcusim_model.c".to_string(),
        mcusim_toolchain::MODEL_MAIN.0.to_string(),
    ];
    sources.extend(mcusim_toolchain::write_runtime(dir, board, STACK_BYTES)?);
    for (path, text) in mcusim_toolchain::KERNELS {
        let file = dir.join("mnn").join(path);
        let parent = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dir.to_path_buf());
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        write(&parent, &name, text)?;
        if path.ends_with(".c") {
            sources.push(format!("mnn/{path}"));
        }
    }
    write(
        dir,
        "Makefile",
        &mcusim_toolchain::makefile(board, &options.opt, &sources, &["mnn/include"]),
    )?;
    Ok(vec![dir.join("Makefile")])
}

/// A path for a temporary build of `model` that no other run uses.
pub fn temporary_elf(source_name: &str) -> Result<PathBuf> {
    // One folder per build: `mcusim check` builds several at once.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("mcusim-{}-{n}", std::process::id()));
    elf_in(&dir, source_name)
}

/// The ELF a build of `model` in `dir` writes: the model's stem, so every command building
/// the same model writes the same file name into the debug information.
pub fn elf_in(dir: &Path, source_name: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let stem = Path::new(source_name)
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    Ok(dir.join(format!("{stem}.elf")))
}

/// Reads a model input: an int8 `.npy` or raw bytes.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path.extension().is_some_and(|e| e == "npy") {
        let a = mcusim_compiler::npy::read(path)?;
        Ok(a.data.iter().map(|&v| v as u8).collect())
    } else {
        std::fs::read(path).with_context(|| format!("{}: cannot read the input", path.display()))
    }
}

/// Writes a model output: `.npy` (int8, with `shape`) or raw bytes, by extension.
pub fn write_output(path: &Path, bytes: &[u8], shape: &[usize]) -> Result<()> {
    let data = if path.extension().is_some_and(|e| e == "npy") {
        let values: Vec<i8> = bytes.iter().map(|&b| b as i8).collect();
        let count: usize = shape.iter().product();
        let shape = if count == bytes.len() {
            shape.to_vec()
        } else {
            vec![bytes.len()]
        };
        mcusim_compiler::npy::to_bytes(&shape, &values)
    } else {
        bytes.to_vec()
    };
    std::fs::write(path, data)
        .with_context(|| format!("{}: cannot write the output", path.display()))
}

/// Checks input files against the model's input sizes and concatenates them.
pub fn inputs_for(files: &[PathBuf], sizes: &[usize]) -> Result<Vec<u8>> {
    if files.len() != sizes.len() {
        bail!(
            "the model has {} input(s) but {} --input file(s) were given",
            sizes.len(),
            files.len()
        );
    }
    let mut all = Vec::new();
    for (file, &size) in files.iter().zip(sizes) {
        let bytes = read_input(file)?;
        if bytes.len() != size {
            bail!(
                "{}: {} bytes, the model's input takes {size}",
                file.display(),
                bytes.len()
            );
        }
        all.extend(bytes);
    }
    Ok(all)
}
