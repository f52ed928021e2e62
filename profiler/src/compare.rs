//! One model on several boards, side by side (`mcusim profile --board a,b,c`): a table with a
//! column group per board (cycles, cycles per MAC, milliseconds and energy of every layer), the
//! totals, memory and speed against the first board; and the JSON document holding each
//! board's whole profile (`mcusim-comparison/1`).

use crate::profile::Profile;
use crate::{abbreviate, group, uj};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// A whole-run figure of one board, as the table shows it.
type Cell<'a> = dyn Fn(&Profile) -> String + 'a;

/// The schema name and version of [`Comparison`] as JSON.
pub const COMPARISON_SCHEMA: &str = "mcusim-comparison/1";

/// One board of a comparison: its profile, or why there is none (the model does not fit it,
/// the build failed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BoardRun {
    /// The board as asked for (a built-in name or a board file).
    pub board: String,
    pub profile: Option<Profile>,
    /// Why there is no profile; `null` when there is one.
    pub error: Option<String>,
}

/// What `profile --board a,b,c --json` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    /// `mcusim-comparison/1`.
    pub schema: String,
    /// The boards in the order asked for.
    pub boards: Vec<BoardRun>,
}

impl Comparison {
    pub fn new(boards: Vec<BoardRun>) -> Comparison {
        Comparison {
            schema: COMPARISON_SCHEMA.into(),
            boards,
        }
    }

    /// As JSON, pretty-printed, with a final newline.
    pub fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    /// The table: a row per layer (matched by position and name across boards), the cycles
    /// outside layers, the totals, then memory, energy and speed rows; a board without a
    /// profile is named below with its reason.
    pub fn table(&self) -> String {
        let runs: Vec<(&str, &Profile)> = self
            .boards
            .iter()
            .filter_map(|b| Some((b.board.as_str(), b.profile.as_ref()?)))
            .collect();
        let mut t = String::new();
        let Some((_, first)) = runs.first() else {
            for b in &self.boards {
                let _ = writeln!(t, "{}: {}", b.board, b.error.as_deref().unwrap_or("no run"));
            }
            return t;
        };
        // The rows: the first profile's layers; another board's layer is the one at the same
        // position with the same name (an NPU board runs the same layers of the same model).
        let name_w = first
            .layers
            .iter()
            .map(|l| l.name.chars().count())
            .max()
            .unwrap_or(5)
            .clamp(5, 32);
        const GROUP: usize = 39;
        let _ = write!(t, "{:>3}  {:<18} {:<name_w$} {:>11}", "", "", "", "");
        for (board, p) in &runs {
            let label = format!("{board} ({} MHz)", p.board.clock_hz / 1_000_000);
            let _ = write!(t, "  {:^GROUP$}", abbreviate(&label, GROUP));
        }
        t.push('\n');
        let _ = write!(
            t,
            "{:>3}  {:<18} {:<name_w$} {:>11}",
            "#", "op", "layer", "MACs"
        );
        for _ in &runs {
            let _ = write!(
                t,
                "  {:>12} {:>6} {:>8} {:>9}",
                "cycles", "c/MAC", "ms", "uJ"
            );
        }
        t.push('\n');
        let ms = |p: &Profile, cycles: u64| cycles as f64 * 1e3 / p.board.clock_hz.max(1) as f64;
        for (i, l) in first.layers.iter().enumerate() {
            let _ = write!(
                t,
                "{:>3}  {:<18} {:<name_w$} {:>11}",
                l.index,
                abbreviate(&l.op, 18),
                abbreviate(&l.name, name_w),
                group(l.macs)
            );
            for (_, p) in &runs {
                match p.layers.get(i).filter(|o| o.name == l.name) {
                    Some(o) => {
                        let _ = write!(
                            t,
                            "  {:>12} {:>6} {:>8.3} {:>9}",
                            group(o.cycles.0),
                            o.cycles_per_mac
                                .map_or_else(|| "-".into(), |c| format!("{c:.2}")),
                            ms(p, o.cycles.0),
                            uj(o.energy_uj, 3)
                        );
                    }
                    None => {
                        let _ = write!(t, "  {:>12} {:>6} {:>8} {:>9}", "-", "-", "-", "-");
                    }
                }
            }
            t.push('\n');
        }
        let _ = write!(
            t,
            "{:>3}  {:<18} {:<name_w$} {:>11}",
            "", "(outside layers)", "", ""
        );
        for (_, p) in &runs {
            let c = p.totals.outside_layers_cycles.0;
            let _ = write!(
                t,
                "  {:>12} {:>6} {:>8.3} {:>9}",
                group(c),
                "",
                ms(p, c),
                ""
            );
        }
        t.push('\n');
        let _ = write!(
            t,
            "{:>3}  {:<18} {:<name_w$} {:>11}",
            "",
            "total",
            "",
            group(first.totals.macs)
        );
        for (_, p) in &runs {
            let _ = write!(
                t,
                "  {:>12} {:>6} {:>8.3} {:>9}",
                group(p.totals.cycles.0),
                p.totals
                    .cycles_per_mac
                    .map_or_else(|| "-".into(), |c| format!("{c:.2}")),
                ms(p, p.totals.cycles.0),
                uj(p.totals.energy_uj, 3)
            );
        }
        t.push('\n');
        // Whole-run rows, one figure per board in its group.
        let first_ms = ms(first, first.totals.cycles.0);
        let rows: [(&str, &Cell<'_>); 5] = [
            ("speed vs first", &|p| {
                let m = ms(p, p.totals.cycles.0);
                if m > 0.0 {
                    format!("{:.2}x", first_ms / m)
                } else {
                    "-".into()
                }
            }),
            ("peak SRAM (B)", &|p| {
                group(u64::from(p.memory.peak_sram_bytes))
            }),
            ("flash (B)", &|p| group(u64::from(p.memory.flash_bytes))),
            ("stack peak (B)", &|p| {
                p.memory
                    .stack_peak_bytes
                    .map_or_else(|| "unknown".into(), |b| group(u64::from(b)))
            }),
            ("how it ended", &|p| p.stop.to_string()),
        ];
        for (what, cell) in rows {
            let _ = write!(t, "{:>3}  {:<18} {:<name_w$} {:>11}", "", what, "", "");
            for (_, p) in &runs {
                let _ = write!(t, "  {:>GROUP$}", abbreviate(&cell(p), GROUP));
            }
            t.push('\n');
        }
        for b in self.boards.iter().filter(|b| b.profile.is_none()) {
            let _ = writeln!(
                t,
                "{}: not profiled: {}",
                b.board,
                b.error.as_deref().unwrap_or("no run")
            );
        }
        t
    }
}

/// The JSON Schema of [`Comparison`].
pub fn comparison_schema() -> serde_json::Value {
    mcusim_traces::json_schema::<Comparison>(COMPARISON_SCHEMA)
}
