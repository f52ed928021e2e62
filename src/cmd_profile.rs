//! `mcusim profile`: compile a model (or take model firmware built earlier), run one inference
//! and print the cycles of every layer, attributed from the firmware's layer markers.

use crate::cli::ProfileArgs;
use crate::model::{self, Options};
use crate::pipeline::{self, Request, Verb};
use crate::{Outcome, out};
use anyhow::{Result, bail};
use mcusim_profiler::compare::{BoardRun, Comparison};
use mcusim_profiler::{export, group};
use mcusim_sim::Limits;
use mcusim_traces::StopReason;
use std::fmt::Write as _;

pub fn run(args: &ProfileArgs) -> Result<Outcome> {
    let names = board_list(&args.build.board)?;
    if names.len() > 1 {
        return compare(args, &names);
    }
    let e = &args.exports;
    let outputs = [args.json.as_deref(), args.output.as_deref()];
    crate::out::check_writable(&[&outputs[..], &e.files()].concat(), &[e.plots.as_deref()])?;
    let board = args.build.what_if.board(&args.build.board)?;
    let stream = crate::stream::load(&args.stream)?;
    let request = request(args, &args.build.board, &board, stream.as_ref());
    let (ran, profile) = if args.tui {
        crate::cmd_tui::profile_live(&request)?
    } else {
        pipeline::profile(&request, None)?
    };
    let to_stdout = args.json.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if !to_stdout && !args.tui {
        crate::out::stdout(&table(&profile, !args.quiet, &board))?;
    }
    out::write_if(args.json.as_deref(), || export::json(&profile))?;
    out::exports(&profile, &args.exports)?;
    let ok = matches!(profile.stop, StopReason::Exit { code: 0 });
    if args.tui {
        // The result, even of a run that failed or was stopped: what ran is shown.
        if let (true, Some(path), Some((bytes, shape))) = (ok, &args.output, &ran.output) {
            model::write_output(path, bytes, shape)?;
        }
        crate::cmd_tui::open(profile, None)?;
        return Ok(if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        });
    }
    if !args.quiet {
        eprintln!(
            "mcusim: {} on {} ({} MHz): {} cycles, {:.3} ms simulated, {:.2} s on the host",
            profile.stop,
            board.name,
            board.clock_hz() as f64 / 1e6,
            group(profile.totals.cycles.0),
            profile.totals.cycles.seconds_at(board.clock_hz()) * 1e3,
            ran.host_seconds
        );
        for line in profile.stop.detail().iter().flat_map(|d| d.lines()) {
            eprintln!("  {line}");
        }
    }
    ran.check_output()?;
    if !ok {
        if args.quiet {
            eprintln!("mcusim: {}", profile.stop);
        }
        if let Some(hint) = args.max_instructions.hint(&profile.stop) {
            eprintln!("{hint}");
        }
        return Ok(Outcome::Failure);
    }
    if let (Some(path), Some((bytes, shape))) = (&args.output, &ran.output) {
        model::write_output(path, bytes, shape)?;
    }
    Ok(Outcome::Success)
}

/// The request `profile` makes for one board.
fn request<'a>(
    args: &'a ProfileArgs,
    board_name: &'a str,
    board: &'a mcusim_boards::Board,
    stream: Option<&'a crate::stream::StreamInput>,
) -> Request<'a> {
    Request {
        stream,
        verb: Verb::Profile,
        model: &args.model,
        board_name,
        board,
        what_if: args.build.what_if.clone(),
        options: Options {
            opt: args.build.opt.clone(),
            weights_in_sram: args.build.weights_in_sram,
            reference_kernels: args.build.reference_kernels,
            layer_markers: !args.build.no_layer_markers,
            cpu_only: args.build.cpu_only,
            stream: match (args.build.stream_window, &args.stream.stream) {
                (Some(n), _) => Some(model::Window::Samples(n)),
                (None, Some(_)) => Some(model::Window::InputLength),
                (None, None) => None,
            },
        },
        inputs: &args.input,
        limits: Limits {
            max_instructions: args.max_instructions.0,
            max_cycles: None,
            timeout: args.guest.timeout(),
        },
        timing: true,
        exact_flash: false,
        foreign: args.foreign.clone(),
        firmware_args: &[],
        progress: !args.quiet && !args.tui,
        read_output: args.output.is_some(),
        forward_output: !args.tui,
        stop_on_fault: args.guest.stop_on_fault,
        semihosting_root: args.guest.semihosting_root.as_deref(),
    }
}

/// The boards of `--board`: one name or board file, or several separated by commas
/// (`--board nucleo-l4r5zi,nucleo-u575zi`); a board file whose path has a comma is one board.
fn board_list(arg: &str) -> Result<Vec<String>> {
    if std::path::Path::new(arg).is_file() || !arg.contains(',') {
        return Ok(vec![arg.to_owned()]);
    }
    let mut names: Vec<String> = Vec::new();
    for name in arg.split(',').map(str::trim) {
        if name.is_empty() {
            bail!("--board `{arg}`: an empty board name in the list");
        }
        if names.iter().any(|n| n == name) {
            bail!("--board `{arg}`: `{name}` is named twice");
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

/// `path` with the board's name before its extension (`p.csv` -> `p.nucleo-l4r5zi.csv`), or,
/// for a folder, the board's name as a folder in it.
fn for_board(path: &std::path::Path, board: &str, dir: bool) -> std::path::PathBuf {
    if dir || path.as_os_str() == "-" {
        return if dir {
            path.join(board)
        } else {
            path.to_owned()
        };
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{board}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{board}"),
    };
    path.with_file_name(name)
}

/// `profile` on several boards: each profiled (as many at a time as there are cores), one
/// table with a column group per board, the JSON (`mcusim-comparison/1`) holding every
/// profile, and each export written once per board under a name with the board's.
fn compare(args: &ProfileArgs, names: &[String]) -> Result<Outcome> {
    if args.tui {
        bail!(
            "--tui shows one board; to compare boards, leave --tui out (or open each profile's JSON)"
        );
    }
    let boards: Vec<mcusim_boards::Board> = names
        .iter()
        .map(|n| args.build.what_if.board(n))
        .collect::<Result<_>>()?;
    // File names carry the board's own name: two board files of one name would collide.
    for (i, b) in boards.iter().enumerate() {
        if boards[..i].iter().any(|o| o.name == b.name) {
            bail!(
                "--board: `{}` and `{}` are both board '{}': their exports would overwrite each other",
                names[boards[..i]
                    .iter()
                    .position(|o| o.name == b.name)
                    .unwrap_or(0)],
                names[i],
                b.name
            );
        }
    }
    let exports: Vec<crate::cli::Exports> = boards
        .iter()
        .map(|b| crate::cli::Exports {
            csv: args
                .exports
                .csv
                .as_deref()
                .map(|p| for_board(p, &b.name, false)),
            perfetto: args
                .exports
                .perfetto
                .as_deref()
                .map(|p| for_board(p, &b.name, false)),
            folded: args
                .exports
                .folded
                .as_deref()
                .map(|p| for_board(p, &b.name, false)),
            plots: args
                .exports
                .plots
                .as_deref()
                .map(|p| for_board(p, &b.name, true)),
        })
        .collect();
    let outputs = [args.json.as_deref(), args.output.as_deref()];
    let files: Vec<Option<&std::path::Path>> = exports.iter().flat_map(|e| e.files()).collect();
    crate::out::check_writable(
        &[&outputs[..], &files].concat(),
        &[args.exports.plots.as_deref()],
    )?;
    let stream = crate::stream::load(&args.stream)?;
    let jobs = std::thread::available_parallelism().map_or(1, usize::from);
    let targets: Vec<(&String, &mcusim_boards::Board)> = names.iter().zip(&boards).collect();
    let slots = crate::jobs::map(&targets, jobs, |&(name, board)| {
        let mut r = request(args, name, board, stream.as_ref());
        r.progress = false;
        let started = std::time::Instant::now();
        let result = pipeline::profile(&r, None);
        if !args.quiet {
            match &result {
                Ok((_, p)) => eprintln!(
                    "mcusim: {}: {} cycles, {} ({:.1} s)",
                    board.name,
                    group(p.totals.cycles.0),
                    p.stop,
                    started.elapsed().as_secs_f64()
                ),
                Err(e) => eprintln!("mcusim: {}: {e:#}", board.name),
            }
        }
        result
    });
    let mut runs = Vec::new();
    let mut ran = Vec::new();
    let mut errors = Vec::new();
    for (name, slot) in names.iter().zip(slots) {
        match slot {
            Some(Ok((r, p))) => {
                runs.push(BoardRun {
                    board: name.clone(),
                    profile: Some(p),
                    error: None,
                });
                ran.push(Some(r));
            }
            Some(Err(e)) => {
                errors.push(format!("{name}: {e:#}"));
                runs.push(BoardRun {
                    board: name.clone(),
                    profile: None,
                    error: Some(format!("{e:#}")),
                });
                ran.push(None);
            }
            None => bail!("{name}: not run"),
        }
    }
    let comparison = Comparison::new(runs);
    let to_stdout = args.json.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if !to_stdout {
        crate::out::stdout(&comparison.table())?;
    }
    out::write_if(args.json.as_deref(), || comparison.json())?;
    for (b, e) in comparison.boards.iter().zip(&exports) {
        if let Some(p) = &b.profile {
            out::exports(p, e)?;
        }
    }
    for r in ran.iter().flatten() {
        r.check_output()?;
    }
    // The output tensor: the same bytes from every board (the kernels are bit-exact), or
    // something is wrong and nothing is written.
    if let Some(path) = &args.output {
        let outs: Vec<&(Vec<u8>, Vec<usize>)> = ran
            .iter()
            .flatten()
            .filter_map(|r| r.output.as_ref())
            .collect();
        if let Some(first) = outs.first() {
            if outs.iter().any(|o| o != first) {
                bail!(
                    "{}: the boards' outputs differ; not written",
                    path.display()
                );
            }
            model::write_output(path, &first.0, &first.1)?;
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("; "));
    }
    let ok = comparison.boards.iter().all(|b| {
        b.profile
            .as_ref()
            .is_some_and(|p| matches!(p.stop, StopReason::Exit { code: 0 }))
    });
    Ok(if ok {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

/// The layer table; with `summary`, the memory, hot functions, energy and device lines after
/// it (`-q` prints the table alone).
fn table(p: &mcusim_profiler::Profile, summary: bool, board: &mcusim_boards::Board) -> String {
    let mut t = String::new();
    let name_w = p
        .layers
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(5, 40);
    // Boards with an NPU get the engine column (`npu 23% flash`: MAC utilisation and bound).
    let engines = p.layers.iter().any(|l| l.engine.is_some());
    let _ = write!(
        t,
        "{:>3}  {:<18} {:<name_w$} {:>11} {:>12} {:>10} {:>7} {:>6} {:>9}",
        "#", "op", "layer", "MACs", "cycles", "us", "c/MAC", "share", "uJ"
    );
    t.push_str(if engines { "  engine\n" } else { "\n" });
    for r in &p.layers {
        let per = r
            .cycles_per_mac
            .map_or_else(|| "-".into(), |c| format!("{c:.2}"));
        let name = mcusim_profiler::abbreviate(&r.name, name_w);
        let _ = write!(
            t,
            "{:>3}  {:<18} {:<name_w$} {:>11} {:>12} {:>10.1} {:>7} {:>5.1}% {:>9}",
            r.index,
            r.op,
            name,
            group(r.macs),
            group(r.cycles.0),
            r.time_us,
            per,
            100.0 * r.share,
            mcusim_profiler::uj(r.energy_uj, 3)
        );
        match mcusim_profiler::engine_cell(r) {
            Some(e) if engines => {
                let _ = writeln!(t, "  {e}");
            }
            _ => t.push('\n'),
        }
    }
    let total = p.totals.cycles.0.max(1) as f64;
    // The cycles outside layers, as rows of their own: the rows sum to the total.
    let before = p.totals.before_layers_cycles.0;
    let after = p.totals.after_layers_cycles.0;
    let between = p
        .totals
        .outside_layers_cycles
        .0
        .saturating_sub(before + after);
    for (what, detail, cycles) in [
        ("(before layers)", "reset, start-up, input", before),
        ("(between layers)", "", between),
        ("(after layers)", "output, exit", after),
    ] {
        let _ = writeln!(
            t,
            "{:>3}  {:<18} {:<name_w$} {:>11} {:>12} {:>10.1} {:>7} {:>5.1}%",
            "",
            what,
            detail,
            "",
            group(cycles),
            cycles as f64 * 1e6 / p.board.clock_hz.max(1) as f64,
            "",
            100.0 * cycles as f64 / total
        );
    }
    let per = p
        .totals
        .cycles_per_mac
        .map_or_else(|| "-".into(), |c| format!("{c:.2}"));
    let _ = writeln!(
        t,
        "{:>3}  {:<18} {:<name_w$} {:>11} {:>12} {:>10.1} {:>7} {:>5.1}% {:>9}",
        "",
        "total",
        format!("{} instructions", group(p.totals.instructions)),
        group(p.totals.macs),
        group(p.totals.cycles.0),
        p.totals.time_us,
        per,
        100.0,
        mcusim_profiler::uj(p.totals.energy_uj, 3)
    );
    if !summary {
        return t;
    }
    let m = &p.memory;
    let _ = writeln!(
        t,
        "memory: flash {} B ({} code, {} constants), static RAM {} B{}, stack peak {}, heap peak {}, peak SRAM {} B",
        group(u64::from(m.flash_bytes)),
        group(u64::from(m.flash_code_bytes)),
        group(u64::from(m.flash_data_bytes)),
        group(u64::from(m.static_ram_bytes)),
        m.arena_bytes.map_or_else(String::new, |a| format!(
            " (arena {} B{})",
            group(u64::from(a)),
            m.arena_touched_bytes.map_or_else(String::new, |t| format!(
                ", {} written",
                group(u64::from(t))
            ))
        )),
        m.stack_peak_bytes.map_or_else(
            || "unknown".into(),
            |b| format!("{} B", group(u64::from(b)))
        ),
        m.heap_peak_bytes.map_or_else(
            || "unknown".into(),
            |b| format!("{} B", group(u64::from(b)))
        ),
        group(u64::from(m.peak_sram_bytes))
    );
    if !p.functions.is_empty() {
        let top: Vec<String> = p
            .functions
            .iter()
            .take(4)
            .map(|f| format!("{} {:.1}%", f.name, 100.0 * f.share))
            .collect();
        let _ = writeln!(t, "hot functions: {}", top.join(", "));
    }
    let _ = writeln!(t, "{}", mcusim_profiler::energy_line(p));
    for d in &p.devices {
        // An NPU's MACs against its peak: how well the layers fill its MAC array.
        let peak = board
            .peripherals()
            .iter()
            .find(|x| x.name == d.device)
            .and_then(|x| match x.model {
                mcusim_boards::PeripheralModel::Npu { macs, .. } => Some(u64::from(macs)),
                _ => None,
            });
        let mut line = format!(
            "{}: busy {} cycles ({:.1}% of the run), {} bytes",
            d.device,
            group(d.busy_cycles.0),
            100.0 * d.busy_share,
            group(d.bytes)
        );
        if let Some(peak) = peak
            && d.busy_cycles.0 > 0
        {
            let _ = write!(
                line,
                ", {} MACs at {:.1}% of its {peak}-MAC peak",
                group(d.macs),
                100.0 * d.macs as f64 / (d.busy_cycles.0 * peak) as f64
            );
        }
        let _ = writeln!(t, "{line}");
    }
    if let Some(s) = &p.stream {
        t.push_str(&mcusim_profiler::stream::lines(s));
    }
    t
}
