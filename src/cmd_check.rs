//! `mcusim check`: budgets as code. Profiles every model of a `mcusim.toml` on each of its
//! boards (entries in parallel), checks each against its budgets and, with `--baseline`,
//! against the profile saved there.
//!
//! The file's format: `mcusim_profiler::config`.

use crate::Outcome;
use crate::cli::{CheckArgs, Format};
use crate::cmd_diff::{read_profile, thresholds};
use crate::model::Options;
use crate::pipeline::{self, Request, Verb};
use anyhow::{Context, Result, anyhow};
use mcusim_profiler::Profile;
use mcusim_profiler::budget::{self, Verdict};
use mcusim_profiler::config;
use mcusim_profiler::diff::{self, Diff, Thresholds, xml};
use mcusim_sim::Limits;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// The schema name and version of the JSON report.
pub const CHECK_SCHEMA: &str = "mcusim-check/1";

/// One model on one board, as `check` runs it.
struct Entry {
    config: config::Entry,
    options: Options,
}

impl std::ops::Deref for Entry {
    type Target = config::Entry;
    fn deref(&self) -> &config::Entry {
        &self.config
    }
}

/// One entry's outcome.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct EntryReport {
    name: String,
    board: String,
    /// Cycles, latency, memory and energy of this run.
    cycles: u64,
    latency_ms: f64,
    peak_sram_bytes: u32,
    flash_bytes: u32,
    /// `null` when the board has no energy coefficients.
    energy_uj: Option<f64>,
    /// How the firmware ended (`null` when it exited with 0, or was cut off).
    stop_problem: Option<String>,
    /// Stopped at twice its cycle or latency budget (so over budget): its figures are lower
    /// bounds.
    cut_off: bool,
    budgets: Vec<Verdict>,
    /// Against the baseline, if one was given and holds this entry.
    diff: Option<Diff>,
    /// With --baseline but no saved profile for this entry.
    no_baseline: bool,
    failed: bool,
}

/// What `check --format json` writes (`mcusim-check/1`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    schema: String,
    mcusim_version: String,
    entries: Vec<EntryReport>,
    failed: bool,
}

fn read_config(path: &Path) -> Result<(Vec<Entry>, Thresholds)> {
    let text = mcusim_traces::file::read_text_capped(path, mcusim_traces::file::MAX_TEXT_BYTES)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let config = config::parse(&text, path)?;
    let mut entries = Vec::with_capacity(config.entries.len());
    for e in config.entries {
        if let Some(opt) = &e.opt {
            mcusim_toolchain::opt_flags(opt)
                .map_err(|err| anyhow!("{}: model `{}`: opt: {err}", path.display(), e.name))?;
        }
        let options = Options {
            opt: e.opt.clone().unwrap_or_else(|| "-O2".into()),
            weights_in_sram: e.weights_in_sram,
            reference_kernels: e.reference_kernels,
            layer_markers: true,
            cpu_only: e.cpu_only,
            stream: None,
        };
        entries.push(Entry { config: e, options });
    }
    Ok((entries, config.thresholds))
}

/// Profiles one entry, stopped at `timeout` on the host and at twice its cycle (or latency)
/// budget: past that the entry has failed whatever the rest of the run would show, and a
/// runaway firmware cannot hold the check up.
fn profile_entry(e: &Entry, timeout: Option<std::time::Duration>) -> Result<Profile> {
    let board = &e.resolved;
    let (_, profile) = pipeline::profile(
        &Request {
            stream: None,
            verb: Verb::Profile,
            model: &e.path,
            board_name: &e.board,
            board,
            what_if: Default::default(),
            options: e.options.clone(),
            inputs: &e.inputs,
            limits: Limits {
                max_instructions: Some(crate::cli::DEFAULT_MAX_INSTRUCTIONS),
                max_cycles: cutoff(e, board.clock_hz()),
                timeout,
            },
            timing: true,
            exact_flash: false,
            foreign: Default::default(),
            firmware_args: &[],
            progress: false,
            read_output: false,
            forward_output: false,
            stop_on_fault: false,
            semihosting_root: None,
        },
        None,
    )?;
    Ok(profile)
}

/// Where `check` stops an entry's run: twice the tighter of its cycle and latency budgets.
fn cutoff(e: &Entry, clock_hz: u64) -> Option<u64> {
    let latency = e
        .budget
        .max_latency_ms
        .map(|ms| (ms.max(0.0) * clock_hz as f64 / 1e3) as u64);
    let budget = match (e.budget.max_cycles, latency) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    budget.map(|c| c.saturating_mul(2).max(1))
}

pub fn run(args: &CheckArgs) -> Result<Outcome> {
    let baseline = args.baseline.as_deref().filter(|_| args.update_baseline);
    crate::out::check_writable(
        &[args.output.as_deref()],
        &[args.reports.as_deref(), baseline],
    )?;
    let (entries, config_limits) = read_config(&args.config)?;
    let cli_limits = thresholds(&args.limits)?;
    // Limits on the command line win over the file's.
    let mut limits = config_limits;
    limits.extend(cli_limits);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, entries.len().max(1));
    let results = crate::jobs::map(&entries, jobs, |e| {
        let started = std::time::Instant::now();
        let r = profile_entry(e, args.timeout.map(std::time::Duration::from_secs_f64));
        if !args.quiet {
            match &r {
                Ok(p) => eprintln!(
                    "mcusim: {}: {} cycles ({:.1} s)",
                    e.label(),
                    p.totals.cycles.0,
                    started.elapsed().as_secs_f64()
                ),
                Err(err) => eprintln!("mcusim: {}: {err:#}", e.label()),
            }
        }
        r
    });
    // Every entry's profile before any file is written: one that failed leaves the reports
    // and the baseline set as they were.
    let mut profiles = Vec::with_capacity(entries.len());
    for (e, slot) in entries.iter().zip(results) {
        let profile = slot
            .unwrap_or_else(|| Err(anyhow!("not run")))
            .with_context(|| e.label())?;
        let file = format!("{}.json", e.label().replace(['/', '\\'], "_"));
        profiles.push((e, profile, file));
    }
    // Reports, and with --update-baseline the baseline set, each written as a whole set
    // (all staged, then renamed into place).
    let save = |dir: &std::path::Path| -> Result<()> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
        let files: Vec<(std::path::PathBuf, Vec<u8>)> = profiles
            .iter()
            .map(|(_, p, file)| {
                (
                    dir.join(file),
                    mcusim_profiler::export::json(p).into_bytes(),
                )
            })
            .collect();
        mcusim_traces::file::write_all_atomic(&files)
            .with_context(|| format!("{}: cannot write the profiles", dir.display()))
    };
    if let Some(dir) = &args.reports {
        save(dir)?;
    }
    if args.update_baseline
        && let Some(dir) = &args.baseline
    {
        save(dir)?;
    }
    let mut reports = Vec::new();
    for (e, profile, file) in profiles.iter().map(|(e, p, f)| (*e, p, f)) {
        let mut no_baseline = false;
        let diff = match &args.baseline {
            Some(dir) if !args.update_baseline => {
                let path = dir.join(file);
                if path.exists() {
                    Some(diff::diff(&read_profile(&path)?, profile, &limits))
                } else {
                    no_baseline = true;
                    None
                }
            }
            _ => None,
        };
        let budgets = budget::check(profile, &e.budget, &e.layers);
        // Stopped at check's own cut-off, the entry is over its time budget (which says so,
        // its figures lower bounds); the firmware did nothing wrong.
        let cut_off = matches!(
            profile.stop,
            mcusim_traces::StopReason::Limit {
                kind: mcusim_traces::LimitKind::Cycles,
                limit,
                ..
            } if Some(limit) == cutoff(e, profile.board.clock_hz)
        );
        let stop_problem = (!cut_off
            && !matches!(profile.stop, mcusim_traces::StopReason::Exit { code: 0 }))
        .then(|| profile.stop.to_string());
        let failed = stop_problem.is_some()
            || budgets.iter().any(|v| !v.ok)
            || diff.as_ref().is_some_and(|d| d.failed);
        reports.push(EntryReport {
            name: e.name.clone(),
            board: e.board.clone(),
            cycles: profile.totals.cycles.0,
            latency_ms: profile.totals.time_us / 1e3,
            peak_sram_bytes: profile.memory.peak_sram_bytes,
            flash_bytes: profile.memory.flash_bytes,
            energy_uj: profile.totals.energy_uj,
            stop_problem,
            cut_off,
            budgets,
            diff,
            no_baseline,
            failed,
        });
    }
    let report = Report {
        schema: CHECK_SCHEMA.into(),
        mcusim_version: env!("CARGO_PKG_VERSION").into(),
        failed: reports.iter().any(|r| r.failed),
        entries: reports,
    };
    let text = match args.format {
        Format::Text => text(&report),
        Format::Markdown => markdown(&report),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report)?;
            s.push('\n');
            s
        }
        Format::Junit => junit(&report),
    };
    crate::out::report(args.output.as_deref(), &text)?;
    Ok(if report.failed {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}

fn limit_text(v: &Verdict) -> String {
    v.headroom()
}

fn status(r: &EntryReport) -> &'static str {
    if r.failed { "FAIL" } else { "ok" }
}

fn text(report: &Report) -> String {
    let mut t = String::new();
    for r in &report.entries {
        let _ = writeln!(
            t,
            "{:<4} {}@{}: {} cycles, {:.3} ms, peak SRAM {} B, flash {} B, {} uJ",
            status(r),
            r.name,
            r.board,
            mcusim_traces::group(r.cycles),
            r.latency_ms,
            mcusim_traces::group(u64::from(r.peak_sram_bytes)),
            mcusim_traces::group(u64::from(r.flash_bytes)),
            mcusim_profiler::uj(r.energy_uj, 3)
        );
        if let Some(stop) = &r.stop_problem {
            let _ = writeln!(t, "     firmware: {stop}");
        }
        if r.cut_off {
            let _ = writeln!(
                t,
                "     stopped at twice its time budget: the figures are lower bounds"
            );
        }
        for v in r.budgets.iter().filter(|v| !v.ok) {
            let _ = writeln!(t, "     over budget: {}", limit_text(v));
        }
        if r.no_baseline {
            let _ = writeln!(t, "     no baseline saved for this entry");
        }
        if let Some(d) = &r.diff {
            for line in d.text().lines() {
                let _ = writeln!(t, "     {line}");
            }
        }
    }
    let failed = report.entries.iter().filter(|r| r.failed).count();
    let _ = writeln!(t, "{} of {} entries failed", failed, report.entries.len());
    t
}

/// The report as a pull-request comment: the verdict as the heading, one table row per
/// entry, what failed in a list, and the budgets and each entry's changes collapsed.
fn markdown(report: &Report) -> String {
    let failed: Vec<&EntryReport> = report.entries.iter().filter(|r| r.failed).collect();
    let n = report.entries.len();
    let mut t = if failed.is_empty() {
        format!(
            "### mcusim check: ✅ passed: {n} entr{} within budget{}\n\n",
            if n == 1 { "y" } else { "ies" },
            if report.entries.iter().any(|r| r.diff.is_some()) {
                ", no regression"
            } else {
                ""
            }
        )
    } else {
        format!(
            "### mcusim check: ❌ failed: {} of {n}\n\n",
            failed
                .iter()
                .map(|r| format!("`{}@{}`", r.name, r.board))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    for r in &failed {
        let entry = format!("{}@{}", r.name, r.board);
        if let Some(stop) = &r.stop_problem {
            let _ = writeln!(t, "- ❌ {entry}: firmware: {stop}");
        }
        if r.cut_off {
            let _ = writeln!(
                t,
                "- ❌ {entry}: stopped at twice its time budget (its figures are lower bounds)"
            );
        }
        for v in r.budgets.iter().filter(|v| !v.ok) {
            let _ = writeln!(t, "- ❌ {entry}: over budget: {}", v.headroom());
        }
        for line in r.diff.iter().flat_map(Diff::failures) {
            let _ = writeln!(t, "- ❌ {entry}: regression: {line}");
        }
    }
    if !failed.is_empty() {
        t.push('\n');
    }
    t.push_str("| | entry | cycles | Δ | ms | peak SRAM | flash | uJ |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
    for r in &report.entries {
        let delta = r.diff.as_ref().and_then(|d| {
            d.totals
                .iter()
                .find(|x| x.metric == diff::Metric::Cycles)
                .map(|x| match x.percent {
                    Some(p) if x.delta != 0.0 => format!("{p:+.2}%"),
                    _ => "0".into(),
                })
        });
        let _ = writeln!(
            t,
            "| {} | {}@{} | {} | {} | {} | {} | {} | {} |",
            if r.failed { "❌" } else { "✅" },
            r.name,
            r.board,
            mcusim_traces::group(r.cycles),
            delta.unwrap_or_else(|| "-".into()),
            budget::figure(r.latency_ms),
            mcusim_traces::group(u64::from(r.peak_sram_bytes)),
            mcusim_traces::group(u64::from(r.flash_bytes)),
            r.energy_uj.map_or_else(|| "-".into(), budget::figure)
        );
    }
    let budgets: Vec<String> = report
        .entries
        .iter()
        .filter(|r| !r.budgets.is_empty())
        .map(|r| {
            let each: Vec<String> = r.budgets.iter().map(Verdict::headroom).collect();
            format!("- {}@{}: {}", r.name, r.board, each.join("; "))
        })
        .collect();
    if !budgets.is_empty() {
        let _ = write!(
            t,
            "\n<details><summary>Budgets</summary>\n\n{}\n</details>\n",
            budgets.join("\n")
        );
    }
    for r in &report.entries {
        if r.no_baseline {
            let _ = writeln!(t, "\n{}@{}: no baseline saved", r.name, r.board);
        }
        let Some(d) = r.diff.as_ref().filter(|d| {
            d.failed
                || !d.drift.is_empty()
                || d.layers.iter().any(|l| l.change != diff::Change::Same)
                || d.totals.iter().any(|x| x.delta != 0.0)
        }) else {
            continue;
        };
        let _ = write!(
            t,
            "\n<details><summary>{}@{}: {}</summary>\n\n{}\n</details>\n",
            r.name,
            r.board,
            d.summary(),
            d.markdown_tables()
        );
    }
    t
}

fn junit(report: &Report) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures) = (0, 0);
    for r in &report.entries {
        let label = format!("{}@{}", r.name, r.board);
        let mut cases = Vec::new();
        cases.push(("firmware exits with 0".to_owned(), r.stop_problem.clone()));
        for v in &r.budgets {
            cases.push((
                format!("{} {}", v.scope, v.limit_name),
                (!v.ok).then(|| limit_text(v)),
            ));
        }
        let mut body = String::new();
        for (name, failure) in &cases {
            let _ = write!(
                body,
                "    <testcase classname=\"{}.budget\" name=\"{}\" time=\"0\">",
                xml(&label),
                xml(name)
            );
            if let Some(f) = failure {
                let _ = write!(
                    body,
                    "\n      <failure message=\"{}\" type=\"budget\">{}</failure>\n    ",
                    xml(f),
                    xml(f)
                );
            }
            body.push_str("</testcase>\n");
        }
        let mut n = cases.len();
        let mut failed = cases.iter().filter(|c| c.1.is_some()).count();
        if let Some(d) = &r.diff {
            // The diff's own cases, without its XML wrapper.
            let x = d.junit(&label);
            for line in x
                .lines()
                .filter(|l| !l.starts_with("<?xml") && !l.contains("testsuite"))
            {
                body.push_str(line);
                body.push('\n');
            }
            n += x.matches("<testcase").count();
            failed += x.matches("<failure").count();
        }
        tests += n;
        failures += failed;
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"0\">\n{body}  </testsuite>\n",
            xml(&label)
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mcusim check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"0\">\n{suites}</testsuites>\n"
    )
}

/// The JSON Schema of `check --format json`.
pub fn schema() -> serde_json::Value {
    mcusim_traces::json_schema::<Report>(CHECK_SCHEMA)
}
