//! `mcusim runtime`: the firmware runtime for a board, for firmware of the user's own.

use crate::Outcome;
use crate::cli::RuntimeArgs;
use anyhow::Result;

pub fn run(args: &RuntimeArgs) -> Result<Outcome> {
    let board = args.what_if.board(&args.board)?;
    let mut sources = vec!["main.c".to_owned()];
    sources.extend(mcusim_toolchain::write_runtime(
        &args.dir,
        &board,
        args.stack_bytes,
    )?);
    let makefile = mcusim_toolchain::makefile(&board, "-O2", &sources, &[]);
    let path = args.dir.join("Makefile");
    mcusim_traces::file::write_atomic(&path, makefile.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
    eprintln!(
        "mcusim: wrote the runtime for {} into {}: put your code in main.c (or change SOURCES in the Makefile), then `make` and `mcusim run --board {} firmware.elf`",
        board.name,
        args.dir.display(),
        args.board
    );
    Ok(Outcome::Success)
}
