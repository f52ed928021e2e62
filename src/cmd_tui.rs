//! `mcusim tui`: open a saved profile (and optionally a baseline to compare) in the terminal.

use crate::Outcome;
use crate::cli::TuiArgs;
use crate::cmd_diff::read_profile;
use crate::tui::{self, App, Region};
use anyhow::{Result, bail};
use mcusim_boards::{Board, RegionKind};
use mcusim_profiler::Profile;
use std::io::IsTerminal;

pub fn run(args: &TuiArgs) -> Result<Outcome> {
    let profile = read_profile(&args.report)?;
    let compare = args.compare.as_deref().map(read_profile).transpose()?;
    open(profile, compare)
}

/// The memory regions of the profile's board, if it is a built-in one.
pub fn regions(p: &Profile) -> Vec<Region> {
    let Ok(board) = Board::resolve(&p.board.name) else {
        return Vec::new();
    };
    board
        .regions()
        .iter()
        .filter(|r| r.kind != RegionKind::Mmio)
        .map(|r| Region {
            name: r.name.clone(),
            kind: match r.kind {
                RegionKind::Flash => "flash",
                RegionKind::Sram => "sram",
                RegionKind::Tcm => "tcm",
                RegionKind::Mmio => "mmio",
            }
            .into(),
            base: r.base,
            size: r.size,
        })
        .collect()
}

/// Opens the app on a profile in this terminal.
pub fn open(profile: Profile, compare: Option<Profile>) -> Result<Outcome> {
    if !std::io::stdout().is_terminal() {
        bail!("the terminal UI needs a terminal on standard output");
    }
    let regions = regions(&profile);
    let mut app = App::new(profile, compare, regions);
    tui::run_in_terminal(&mut app)?;
    Ok(Outcome::Success)
}
