//! `mcusim compile`: a .tflite model into firmware for a board.

use crate::Outcome;
use crate::cli::CompileArgs;
use crate::model::{self, Options};
use anyhow::Result;
use mcusim_boards::Board;

pub fn run(args: &CompileArgs) -> Result<Outcome> {
    let board = Board::resolve(&args.build.board)?;
    let prepared = model::prepare(&args.model, &board)?;
    let options = Options {
        opt: args.build.opt.clone(),
        weights_in_sram: args.build.weights_in_sram,
        reference_kernels: args.build.reference_kernels,
        layer_markers: !args.build.no_layer_markers,
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
    if let Some(dir) = &args.emit_c {
        model::emit_c(p, &board, &options, dir)?;
        eprintln!(
            "mcusim: wrote the sources and a Makefile to {}",
            dir.display()
        );
    }
    if let Some(out) = &args.output {
        eprintln!("mcusim: building {} for {} ...", out.display(), board.name);
        model::build(p, &board, &options, out)?;
        eprintln!("mcusim: wrote {}", out.display());
    }
    Ok(Outcome::Success)
}
