//! `mcusim compile`: a .tflite model into firmware for a board.

use crate::Outcome;
use crate::cli::CompileArgs;
use crate::model::{self, Options};
use anyhow::{Context, Result};

pub fn run(args: &CompileArgs) -> Result<Outcome> {
    let board = args.build.what_if.board(&args.build.board)?;
    let prepared = model::prepare(&args.model, &board, args.build.cpu_only)?;
    let options = Options {
        cpu_only: args.build.cpu_only,
        opt: args.build.opt.clone(),
        weights_in_sram: args.build.weights_in_sram,
        reference_kernels: args.build.reference_kernels,
        layer_markers: !args.build.no_layer_markers,
        stream: args.build.stream_window.map(crate::model::Window::Samples),
    };
    let p = &prepared;
    eprintln!(
        "mcusim: {}: {} layers, {} MACs, arena {} bytes (liveness lower bound {})",
        p.source_name,
        p.layers.len(),
        p.macs(),
        p.plan.arena_bytes,
        p.plan.lower_bound
    );
    if let Some(s) = p.placement_summary() {
        eprintln!("mcusim: {s}");
    }
    if let Some(dir) = &args.emit_c {
        model::emit_c(p, &board, &options, dir)?;
        eprintln!(
            "mcusim: wrote the sources and a Makefile to {}",
            dir.display()
        );
    }
    if let Some(out) = &args.output {
        eprintln!("mcusim: building {} for {} ...", out.display(), board.name);
        // Built where profile and check build, under the model's name: the same bytes.
        let (elf, temporary) = match &args.keep_build {
            Some(dir) => (model::elf_in(dir, &p.source_name)?, None),
            None => {
                let elf = model::temporary_elf(&p.source_name)?;
                let dir = elf.parent().map(std::path::Path::to_path_buf);
                (elf, dir)
            }
        };
        let built = model::build(p, &board, &options, &elf).and_then(|()| {
            std::fs::read(&elf)
                .and_then(|bytes| mcusim_traces::file::write_atomic(out, &bytes))
                .with_context(|| format!("{}: cannot write", out.display()))
        });
        if let Some(dir) = temporary {
            let _ = std::fs::remove_dir_all(dir);
        }
        built?;
        eprintln!("mcusim: wrote {}", out.display());
    }
    Ok(Outcome::Success)
}
