//! `mcusim tui`: open a saved profile (and optionally a baseline to compare) in the terminal.

use crate::Outcome;
use crate::cli::TuiArgs;
use crate::cmd_diff::read_profile;
use crate::pipeline::{self, LiveStatus, Ran, Request};
use crate::tui::{self, App, Region, live};
use anyhow::{Result, bail};
use mcusim_boards::{Board, RegionKind};
use mcusim_profiler::Profile;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

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

/// Builds, runs and profiles with the live view on the terminal.
pub fn profile_live(request: &Request<'_>) -> Result<(Ran, Profile)> {
    if !std::io::stdout().is_terminal() {
        bail!("the terminal UI needs a terminal on standard output");
    }
    let title = format!(
        "{} on {}",
        request.model.file_name().map_or_else(
            || request.model.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        ),
        request.board.name
    );
    tui::in_terminal(|terminal| {
        terminal.draw(|f| live::draw_live(f, &title, None))?;
        let mut drawn: Option<Instant> = None;
        let mut hook = |s: &LiveStatus| -> bool {
            // At most 20 frames a second.
            if drawn.is_none_or(|t| t.elapsed() >= Duration::from_millis(50)) {
                let _ = terminal.draw(|f| live::draw_live(f, &title, Some(s)));
                drawn = Some(Instant::now());
            }
            !tui::stop_requested()
        };
        pipeline::profile(request, Some(&mut hook))
    })
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
