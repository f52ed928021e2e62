//! Two profiles compared: per-layer and total deltas of cycles, instructions, peak SRAM, stack,
//! flash and energy, layers matched by name, thresholds, and where moved cycles went. Reports
//! as text, markdown, JSON (`mcusim-diff/1`) and JUnit XML; all deterministic.

use crate::profile::{Layer, Profile};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The schema name and version of [`Diff`] as JSON.
pub const DIFF_SCHEMA: &str = "mcusim-diff/1";

/// What is compared.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Cycles,
    Instructions,
    PeakSram,
    Stack,
    Flash,
    Energy,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::Cycles,
        Metric::Instructions,
        Metric::PeakSram,
        Metric::Stack,
        Metric::Flash,
        Metric::Energy,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Cycles => "cycles",
            Metric::Instructions => "instructions",
            Metric::PeakSram => "peak_sram",
            Metric::Stack => "stack",
            Metric::Flash => "flash",
            Metric::Energy => "energy",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Metric::Cycles => "cycles",
            Metric::Instructions => "instructions",
            Metric::PeakSram | Metric::Stack | Metric::Flash => "bytes",
            Metric::Energy => "uJ",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == s)
    }

    fn of_totals(self, p: &Profile) -> Option<f64> {
        Some(match self {
            Metric::Cycles => p.totals.cycles.0 as f64,
            Metric::Instructions => p.totals.instructions as f64,
            Metric::PeakSram => f64::from(p.memory.peak_sram_bytes),
            Metric::Stack => f64::from(p.memory.stack_peak_bytes?),
            Metric::Flash => f64::from(p.memory.flash_bytes),
            Metric::Energy => p.totals.energy_uj?,
        })
    }

    fn of_layer(self, l: &Layer) -> Option<f64> {
        Some(match self {
            Metric::Cycles => l.cycles.0 as f64,
            Metric::Instructions => l.instructions as f64,
            Metric::Stack => f64::from(l.stack_peak_bytes?),
            Metric::Energy => l.energy_uj?,
            Metric::PeakSram | Metric::Flash => return None,
        })
    }
}

/// How far a metric may grow: by a share of the baseline or by an amount.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Percent of the baseline (`2%`, `+1%`).
    Percent(f64),
    /// Units of the metric (`+0`, `+512`).
    Amount(f64),
}

impl Limit {
    /// `2%`, `+1.5%`, `+0`, `512`.
    pub fn parse(s: &str) -> Option<Limit> {
        let s = s.trim();
        let s = s.strip_prefix('+').unwrap_or(s);
        let value = |t: &str| {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
        };
        match s.strip_suffix('%') {
            Some(p) => value(p).map(Limit::Percent),
            None => value(s).map(Limit::Amount),
        }
    }

    fn allows(self, base: f64, current: f64) -> bool {
        let grew = current - base;
        match self {
            // A tiny tolerance for the energy's floating point.
            Limit::Percent(p) => grew <= base.abs() * p / 100.0 + 1e-9,
            Limit::Amount(a) => grew <= a + 1e-9,
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Percent(p) => write!(f, "+{p}%"),
            Limit::Amount(a) => write!(f, "+{a}"),
        }
    }
}

/// Limits per metric, for the whole run and for each layer, set apart: a `+1%` limit on the
/// model's cycles says nothing about a 400-cycle change of a softmax. A metric without a limit
/// is reported, never failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Thresholds {
    /// Limits of the run's totals (`--max`, `[max]`).
    pub totals: BTreeMap<Metric, Limit>,
    /// Limits of every layer's figures (`--max-layer`, `[max_layer]`): none unless asked for.
    pub layers: BTreeMap<Metric, Limit>,
}

impl Thresholds {
    /// The same limit for every metric of the totals (`--max-regression 2%`).
    pub fn all(limit: Limit) -> Thresholds {
        Thresholds {
            totals: Metric::ALL.into_iter().map(|m| (m, limit)).collect(),
            layers: BTreeMap::new(),
        }
    }

    /// `cycles=+1%` (`--max`), overriding any earlier limit of that metric of the totals.
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let (metric, limit) = parse_spec(spec)?;
        self.totals.insert(metric, limit);
        Ok(())
    }

    /// `cycles=+5%` (`--max-layer`): the most any one layer's metric may grow.
    pub fn set_layer(&mut self, spec: &str) -> Result<(), String> {
        let (metric, limit) = parse_spec(spec)?;
        if !LAYER_METRICS.contains(&metric) {
            return Err(format!(
                "`{}`: not a metric of a layer (one of {})",
                metric.name(),
                LAYER_METRICS.map(Metric::name).join(", ")
            ));
        }
        self.layers.insert(metric, limit);
        Ok(())
    }

    /// `other`'s limits over these (the command line's over the file's).
    pub fn extend(&mut self, other: Thresholds) {
        self.totals.extend(other.totals);
        self.layers.extend(other.layers);
    }
}

/// The metrics a layer has.
pub const LAYER_METRICS: [Metric; 4] = [
    Metric::Cycles,
    Metric::Instructions,
    Metric::Stack,
    Metric::Energy,
];

fn parse_spec(spec: &str) -> Result<(Metric, Limit), String> {
    let (name, limit) = spec
        .split_once('=')
        .ok_or_else(|| format!("`{spec}`: expected METRIC=LIMIT, e.g. cycles=+1%"))?;
    let metric = Metric::parse(name.trim()).ok_or_else(|| {
        format!(
            "`{name}`: unknown metric (one of {})",
            Metric::ALL.map(Metric::name).join(", ")
        )
    })?;
    let limit = Limit::parse(limit)
        .ok_or_else(|| format!("`{limit}`: expected a limit like 2%, +1% or +0"))?;
    Ok((metric, limit))
}

/// One metric, before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Delta {
    pub metric: Metric,
    pub baseline: f64,
    pub current: f64,
    pub delta: f64,
    /// Of the baseline (`null` when the baseline is 0).
    pub percent: Option<f64>,
    /// The limit it was held to, if any.
    pub limit: Option<Limit>,
    /// Whether it grew past its limit.
    pub failed: bool,
}

impl Delta {
    fn new(metric: Metric, baseline: f64, current: f64, limit: Option<Limit>) -> Delta {
        let delta = current - baseline;
        Delta {
            metric,
            baseline,
            current,
            delta,
            percent: (baseline != 0.0).then(|| 100.0 * delta / baseline),
            limit,
            failed: limit.is_some_and(|l| !l.allows(baseline, current)),
        }
    }

    fn changed(&self) -> bool {
        self.delta.abs() > 1e-9
    }
}

/// How a layer of the current profile relates to the baseline's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Same,
    Changed,
    Added,
    Removed,
    /// Same position and operator, another name.
    Renamed,
}

/// A layer compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LayerDiff {
    /// The current name (the baseline's for a removed layer).
    pub name: String,
    /// The baseline's name when it differs (renamed).
    pub baseline_name: Option<String>,
    pub op: String,
    pub change: Change,
    pub deltas: Vec<Delta>,
    /// Where a change of cycles went: (part of the breakdown, delta), largest first.
    pub breakdown: Vec<(String, i64)>,
}

impl LayerDiff {
    fn cycles_delta(&self) -> f64 {
        self.deltas
            .iter()
            .find(|d| d.metric == Metric::Cycles)
            .map_or(0.0, |d| d.delta)
    }

    pub fn failed(&self) -> bool {
        self.deltas.iter().any(|d| d.failed)
    }
}

/// What each side was made with: a change here explains a change in the numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Provenance {
    pub mcusim_version: String,
    pub board: String,
    pub board_hash: String,
    pub firmware: String,
    pub firmware_hash: String,
    pub compiler: Option<String>,
}

impl Provenance {
    fn of(p: &Profile) -> Provenance {
        Provenance {
            mcusim_version: p.mcusim_version.clone(),
            board: p.board.name.clone(),
            board_hash: p.board.hash.clone(),
            firmware: p.firmware.file.clone(),
            firmware_hash: p.firmware.hash.clone(),
            compiler: p.firmware.compiler.clone(),
        }
    }
}

/// Two profiles compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Diff {
    /// `mcusim-diff/1`.
    pub schema: String,
    pub baseline: Provenance,
    pub current: Provenance,
    /// What changed in how the two were made (versions, board file, compiler, firmware).
    pub drift: Vec<String>,
    pub totals: Vec<Delta>,
    /// Layers by impact: largest change of cycles first, then added, removed, unchanged.
    pub layers: Vec<LayerDiff>,
    /// Whether any metric grew past its limit.
    pub failed: bool,
}

fn breakdown_parts(l: &Layer) -> [(&'static str, i64); 6] {
    let b = &l.breakdown;
    [
        ("execute", b.execute.0 as i64),
        ("branch refill", b.branch.0 as i64),
        ("load/store stall", b.stall.0 as i64),
        ("memory wait", b.memory.0 as i64),
        ("exception", b.exception.0 as i64),
        ("sleep", b.sleep.0 as i64),
    ]
}

fn layer_deltas(base: Option<&Layer>, cur: Option<&Layer>, t: &Thresholds) -> Vec<Delta> {
    Metric::ALL
        .into_iter()
        .filter_map(|m| {
            let b = base.and_then(|l| m.of_layer(l));
            let c = cur.and_then(|l| m.of_layer(l));
            if b.is_none() && c.is_none() {
                return None;
            }
            // A layer that appears is held to its limit from nothing only by amount; a percent
            // of nothing is not a limit.
            let limit = t
                .layers
                .get(&m)
                .copied()
                .filter(|_| b.is_some() && c.is_some());
            Some(Delta::new(m, b.unwrap_or(0.0), c.unwrap_or(0.0), limit))
        })
        .collect()
}

/// Compares `current` against `baseline`.
pub fn diff(baseline: &Profile, current: &Profile, t: &Thresholds) -> Diff {
    // Layers match by name and occurrence (the second `mnn_conv_s8` with the second).
    let keyed = |layers: &[Layer]| -> Vec<(String, usize)> {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        layers
            .iter()
            .map(|l| {
                let n = seen.entry(l.name.as_str()).or_default();
                *n += 1;
                (l.name.clone(), *n)
            })
            .collect()
    };
    let base_keys = keyed(&baseline.layers);
    let cur_keys = keyed(&current.layers);
    let mut base_matched = vec![None; baseline.layers.len()];
    let mut cur_matched = vec![None; current.layers.len()];
    for (ci, key) in cur_keys.iter().enumerate() {
        if let Some(bi) = base_keys.iter().position(|k| k == key) {
            base_matched[bi] = Some(ci);
            cur_matched[ci] = Some(bi);
        }
    }
    // Unmatched layers at the same position with the same operator were renamed.
    let mut renamed = vec![false; current.layers.len()];
    for ci in 0..current.layers.len() {
        if cur_matched[ci].is_some() {
            continue;
        }
        let c = &current.layers[ci];
        if let Some(bi) = (0..baseline.layers.len()).find(|&bi| {
            base_matched[bi].is_none()
                && baseline.layers[bi].index == c.index
                && baseline.layers[bi].op == c.op
        }) {
            base_matched[bi] = Some(ci);
            cur_matched[ci] = Some(bi);
            renamed[ci] = true;
        }
    }
    let mut layers = Vec::new();
    for (ci, c) in current.layers.iter().enumerate() {
        let b = cur_matched[ci].map(|bi| &baseline.layers[bi]);
        let deltas = layer_deltas(b, Some(c), t);
        let change = match b {
            None => Change::Added,
            Some(_) if renamed[ci] => Change::Renamed,
            Some(_) if deltas.iter().any(Delta::changed) => Change::Changed,
            Some(_) => Change::Same,
        };
        let mut breakdown: Vec<(String, i64)> = match b {
            Some(b) => breakdown_parts(c)
                .iter()
                .zip(breakdown_parts(b))
                .map(|(&(name, now), (_, then))| (name.to_owned(), now - then))
                .filter(|&(_, d)| d != 0)
                .collect(),
            None => Vec::new(),
        };
        breakdown.sort_by(|a, b| b.1.abs().cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
        layers.push(LayerDiff {
            name: c.name.clone(),
            baseline_name: b.filter(|b| b.name != c.name).map(|b| b.name.clone()),
            op: c.op.clone(),
            change,
            deltas,
            breakdown,
        });
    }
    for (bi, b) in baseline.layers.iter().enumerate() {
        if base_matched[bi].is_none() {
            layers.push(LayerDiff {
                name: b.name.clone(),
                baseline_name: None,
                op: b.op.clone(),
                change: Change::Removed,
                deltas: layer_deltas(Some(b), None, t),
                breakdown: Vec::new(),
            });
        }
    }
    let rank = |l: &LayerDiff| match l.change {
        Change::Changed | Change::Renamed => 0,
        Change::Added => 1,
        Change::Removed => 2,
        Change::Same => 3,
    };
    layers.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| b.cycles_delta().abs().total_cmp(&a.cycles_delta().abs()))
    });
    let totals: Vec<Delta> = Metric::ALL
        .into_iter()
        .filter_map(|m| {
            Some(Delta::new(
                m,
                m.of_totals(baseline)?,
                m.of_totals(current)?,
                t.totals.get(&m).copied(),
            ))
        })
        .collect();
    let (bp, cp) = (Provenance::of(baseline), Provenance::of(current));
    let mut drift = Vec::new();
    let mut note = |what: &str, a: &str, b: &str| {
        if a != b {
            drift.push(format!("{what}: {a} -> {b}"));
        }
    };
    note("mcusim", &bp.mcusim_version, &cp.mcusim_version);
    note("board", &bp.board, &cp.board);
    note("board file", &bp.board_hash, &cp.board_hash);
    note(
        "compiler",
        bp.compiler.as_deref().unwrap_or("unknown"),
        cp.compiler.as_deref().unwrap_or("unknown"),
    );
    note("firmware", &bp.firmware_hash, &cp.firmware_hash);
    note(
        "arguments",
        &baseline.arguments.join(" "),
        &current.arguments.join(" "),
    );
    let failed = totals.iter().any(|d| d.failed) || layers.iter().any(LayerDiff::failed);
    Diff {
        schema: DIFF_SCHEMA.into(),
        baseline: bp,
        current: cp,
        drift,
        totals,
        layers,
        failed,
    }
}

fn number(v: f64, metric: Metric) -> String {
    if metric == Metric::Energy {
        // Thousands grouped, three decimals: `3,931.694`.
        let fixed = format!("{:.3}", v.abs());
        let (int, frac) = fixed.split_once('.').unwrap_or((&fixed, "000"));
        let int = crate::group(int.parse::<u64>().unwrap_or(0));
        format!("{}{int}.{frac}", if v < 0.0 { "-" } else { "" })
    } else {
        group(v.round() as i64)
    }
}

fn signed(v: f64, metric: Metric) -> String {
    let s = number(v.abs(), metric);
    if v > 1e-9 {
        format!("+{s}")
    } else if v < -1e-9 {
        format!("-{s}")
    } else {
        "0".into()
    }
}

fn percent(d: &Delta) -> String {
    match d.percent {
        Some(p) if d.changed() => format!("{p:+.2}%"),
        Some(_) => "0.00%".into(),
        None => "new".into(),
    }
}

/// A signed count grouped in thousands (`-1,200`).
fn group(n: i64) -> String {
    let digits = crate::group(n.unsigned_abs());
    if n < 0 { format!("-{digits}") } else { digits }
}

/// Where a layer's cycles went, in words: `memory wait +1,200, execute +300`.
fn explain(l: &LayerDiff) -> String {
    l.breakdown
        .iter()
        .take(3)
        .map(|(part, d)| format!("{part} {}", signed(*d as f64, Metric::Cycles)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn verdict(d: &Delta) -> &'static str {
    if d.failed {
        "FAIL"
    } else if d.limit.is_some() {
        "ok"
    } else {
        ""
    }
}

fn layer_label(l: &LayerDiff) -> String {
    match (&l.change, &l.baseline_name) {
        (Change::Renamed, Some(old)) => format!("{} (renamed from {old})", l.name),
        (Change::Added, _) => format!("{} (added)", l.name),
        (Change::Removed, _) => format!("{} (removed)", l.name),
        _ => l.name.clone(),
    }
}

impl Diff {
    /// The layers that changed, were added, removed or renamed.
    fn moved(&self) -> impl Iterator<Item = &LayerDiff> {
        self.layers.iter().filter(|l| l.change != Change::Same)
    }

    /// A terminal report.
    pub fn text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{} on {}: {}",
            self.current.firmware,
            self.current.board,
            if self.failed {
                "REGRESSION"
            } else if self.moved().next().is_none() && self.totals.iter().all(|d| !d.changed()) {
                "no change"
            } else {
                "within limits"
            }
        );
        for d in &self.drift {
            let _ = writeln!(t, "  drift: {d}");
        }
        let _ = writeln!(
            t,
            "  {:<14} {:>14} {:>14} {:>13} {:>9}  {:<8}",
            "total", "baseline", "current", "delta", "%", "limit"
        );
        for d in &self.totals {
            let _ = writeln!(
                t,
                "  {:<14} {:>14} {:>14} {:>13} {:>9}  {:<8} {}",
                d.metric.name(),
                number(d.baseline, d.metric),
                number(d.current, d.metric),
                signed(d.delta, d.metric),
                percent(d),
                d.limit.map_or(String::new(), |l| l.to_string()),
                verdict(d)
            );
        }
        let moved: Vec<&LayerDiff> = self.moved().collect();
        if moved.is_empty() {
            let _ = writeln!(t, "  layers: {} matched, none changed", self.layers.len());
        } else {
            let _ = writeln!(t, "  layers that moved, largest change first:");
            for l in moved {
                let cycles = l.deltas.iter().find(|d| d.metric == Metric::Cycles);
                let _ = write!(t, "    {:<18} {}", l.op, layer_label(l));
                if let Some(d) = cycles {
                    let _ = write!(t, ": cycles {} ({})", signed(d.delta, d.metric), percent(d));
                }
                if !l.breakdown.is_empty() {
                    let _ = write!(t, "; {}", explain(l));
                }
                let failed: Vec<&str> = l
                    .deltas
                    .iter()
                    .filter(|d| d.failed)
                    .map(|d| d.metric.name())
                    .collect();
                if !failed.is_empty() {
                    let _ = write!(t, "  FAIL: {}", failed.join(", "));
                }
                t.push('\n');
            }
        }
        t
    }

    /// A markdown report for a pull-request comment: the verdict as its heading, the change
    /// in one line, what went past its limit, and the tables collapsed under `<details>`.
    pub fn markdown(&self) -> String {
        let mut t = format!(
            "### mcusim diff: {} `{}` on `{}`\n\n{}\n",
            if self.failed {
                "❌ regression:"
            } else {
                "✅ within limits:"
            },
            self.current.firmware,
            self.current.board,
            self.summary()
        );
        for line in self.failures() {
            let _ = writeln!(t, "- ❌ {line}");
        }
        let _ = write!(
            t,
            "\n<details><summary>Totals and layers</summary>\n\n{}\n</details>\n",
            self.markdown_tables()
        );
        t
    }

    /// The run's change in one line, for a verdict: `cycles +10,802 (+0.14%), instructions
    /// +1,000 (+0.02%); 3 layers changed`, or `no change`.
    pub fn summary(&self) -> String {
        let totals: Vec<String> = self
            .totals
            .iter()
            .filter(|d| d.changed())
            .map(|d| {
                format!(
                    "{} {} ({})",
                    d.metric.name(),
                    signed(d.delta, d.metric),
                    percent(d)
                )
            })
            .collect();
        let layers = self.moved().count();
        let mut s = if totals.is_empty() {
            "no change of the totals".to_owned()
        } else {
            totals.join(", ")
        };
        if layers > 0 {
            let _ = write!(
                s,
                "; {layers} layer{} changed",
                if layers == 1 { "" } else { "s" }
            );
        }
        s
    }

    /// Each metric past its limit, in words: `cycles +5.10% past +1%`, `conv_1/out cycles
    /// +25.00% past +20%`.
    pub fn failures(&self) -> Vec<String> {
        let line = |scope: &str, d: &Delta| {
            format!(
                "{scope}{} {} ({}) past {}",
                d.metric.name(),
                signed(d.delta, d.metric),
                percent(d),
                d.limit.map_or_else(String::new, |l| l.to_string())
            )
        };
        let mut v: Vec<String> = self
            .totals
            .iter()
            .filter(|d| d.failed)
            .map(|d| line("", d))
            .collect();
        for l in &self.layers {
            for d in l.deltas.iter().filter(|d| d.failed) {
                v.push(line(&format!("{} ", layer_label(l).replace('|', "\\|")), d));
            }
        }
        v
    }

    /// The drift, the totals' table and the table of the layers that moved, without a
    /// heading: the body of [`Diff::markdown`] and of each entry of `check`'s report.
    pub fn markdown_tables(&self) -> String {
        let mut t = String::new();
        for d in &self.drift {
            let _ = writeln!(t, "- drift: {}", d.replace('|', "\\|"));
        }
        if !self.drift.is_empty() {
            t.push('\n');
        }
        t.push_str("| metric | baseline | current | delta | % | limit | |\n");
        t.push_str("|---|---:|---:|---:|---:|---|---|\n");
        for d in &self.totals {
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} | {} | {} | {} |",
                d.metric.name(),
                number(d.baseline, d.metric),
                number(d.current, d.metric),
                signed(d.delta, d.metric),
                percent(d),
                d.limit.map_or(String::new(), |l| l.to_string()),
                if d.failed { "❌" } else { "" }
            );
        }
        let moved: Vec<&LayerDiff> = self.moved().collect();
        if !moved.is_empty() {
            t.push_str("\n| layer | op | cycles | % | where | limit | |\n");
            t.push_str("|---|---|---:|---:|---|---|---|\n");
            for l in moved {
                let cycles = l.deltas.iter().find(|d| d.metric == Metric::Cycles);
                let _ = writeln!(
                    t,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    layer_label(l).replace('|', "\\|"),
                    l.op,
                    cycles.map_or(String::new(), |d| signed(d.delta, d.metric)),
                    cycles.map_or(String::new(), percent),
                    explain(l),
                    cycles
                        .and_then(|d| d.limit)
                        .map_or(String::new(), |l| l.to_string()),
                    if l.failed() { "❌" } else { "" }
                );
            }
        }
        t
    }

    /// JSON (`mcusim-diff/1`).
    pub fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    /// JUnit XML: a test suite of one case per total metric and per layer and metric; a
    /// metric past its limit is a failure with the numbers.
    pub fn junit(&self, suite: &str) -> String {
        let mut cases = Vec::new();
        let mut case = |class: &str, name: &str, d: &Delta| {
            let mut c = format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">",
                xml(class),
                xml(name)
            );
            if d.failed {
                let _ = write!(
                    c,
                    "\n      <failure message=\"{}\" type=\"regression\">{} -> {} {} ({}), limit {}</failure>\n    ",
                    xml(&format!(
                        "{} grew {} ({})",
                        d.metric.name(),
                        signed(d.delta, d.metric),
                        percent(d)
                    )),
                    number(d.baseline, d.metric),
                    number(d.current, d.metric),
                    d.metric.unit(),
                    percent(d),
                    d.limit.map_or(String::new(), |l| l.to_string())
                );
            }
            c.push_str("</testcase>");
            cases.push((c, d.failed));
        };
        for d in &self.totals {
            case(&format!("{suite}.total"), d.metric.name(), d);
        }
        for l in &self.layers {
            for d in &l.deltas {
                case(
                    &format!("{suite}.layers"),
                    &format!("{} {}", l.name, d.metric.name()),
                    d,
                );
            }
        }
        let failures = cases.iter().filter(|c| c.1).count();
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            x,
            "<testsuites name=\"mcusim\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"0\">",
            cases.len()
        );
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"0\">",
            xml(suite),
            cases.len()
        );
        for (c, _) in cases {
            x.push_str(&c);
            x.push('\n');
        }
        x.push_str("  </testsuite>\n</testsuites>\n");
        x
    }
}

/// Text escaped for XML attributes and content.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}
