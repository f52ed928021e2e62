//! `mcusim.toml`, the configuration of `mcusim check`: which models to profile on which boards,
//! their budgets and the regression limits against a baseline. Parsed and checked here, whole,
//! before anything is built, so a mistake in the file is one line naming it (and fuzzed:
//! `fuzz/fuzz_targets/config.rs`).
//!
//! ```toml
//! board = "nucleo-l4r5zi"      # default boards of every model (or `boards = [...]`)
//! max_regression = "2%"        # with --baseline: the most any total may grow
//! [max]                        # ... or per metric of the totals
//! cycles = "+1%"
//! [max_layer]                  # the most any one layer may grow (none by default)
//! cycles = "+10%"
//!
//! [[model]]
//! path = "models/kws.tflite"   # a .tflite model or a firmware ELF, relative to this file
//! name = "kws"                 # default: the file's stem
//! boards = ["nucleo-l4r5zi", "nucleo-u575zi"]
//! input = "models/kws.input.npy"
//! budget = { max_cycles = 8_000_000, max_latency_ms = 70, max_peak_sram = 32_768,
//!            max_flash = 65_536, max_stack = 2048, max_energy_uj = 3000 }
//! [[model.layer]]
//! name = "conv_1/out"
//! max_cycles = 1_100_000
//! ```

use crate::budget::{Budget, LayerBudget};
use crate::diff::{Limit, Thresholds};
use mcusim_boards::Board;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    board: Option<String>,
    boards: Option<Vec<String>>,
    max_regression: Option<String>,
    #[serde(default)]
    max: BTreeMap<String, String>,
    #[serde(default)]
    max_layer: BTreeMap<String, String>,
    #[serde(default)]
    model: Vec<ModelEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelEntry {
    path: PathBuf,
    name: Option<String>,
    board: Option<String>,
    boards: Option<Vec<String>>,
    #[serde(default)]
    input: Vec<PathBuf>,
    opt: Option<String>,
    #[serde(default)]
    weights_in_sram: bool,
    #[serde(default)]
    reference_kernels: bool,
    /// On a board with an NPU, every layer on the CPU.
    #[serde(default)]
    cpu_only: bool,
    #[serde(default)]
    budget: Budget,
    #[serde(default)]
    layer: Vec<LayerBudget>,
}

/// A checked `mcusim.toml`.
#[derive(Debug)]
pub struct Config {
    /// One per model and board, in the file's order.
    pub entries: Vec<Entry>,
    /// `max_regression`, `[max]` and `[max_layer]`.
    pub thresholds: Thresholds,
}

/// One model on one board.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    /// As the file names it (a built-in board or a board file).
    pub board: String,
    /// The board, resolved.
    pub resolved: Board,
    /// Relative to the configuration's folder.
    pub path: PathBuf,
    pub inputs: Vec<PathBuf>,
    /// The compiler options (`opt`), not yet checked: the toolchain owns which it allows.
    pub opt: Option<String>,
    pub weights_in_sram: bool,
    pub reference_kernels: bool,
    pub cpu_only: bool,
    pub budget: Budget,
    pub layers: Vec<LayerBudget>,
}

impl Entry {
    /// `name@board`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.board)
    }
}

/// What is wrong with a configuration: one line naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(String);

/// Parses and checks the configuration `text` read from `path` (which names it in errors and
/// is the folder its model paths are relative to).
pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
    let shown = path.display();
    let fail = |msg: String| Error(format!("{shown}: {msg}"));
    let file: File = toml::from_str(text)
        .map_err(|e| Error(format!("{shown}:{}", mcusim_boards::toml_error(&e, text))))?;
    let base = path.parent().unwrap_or(Path::new(""));
    let mut thresholds = match &file.max_regression {
        Some(s) => Thresholds::all(
            Limit::parse(s)
                .ok_or_else(|| fail(format!("max_regression `{s}`: expected 2%, +1% or +0")))?,
        ),
        None => Thresholds::default(),
    };
    for (metric, limit) in &file.max {
        thresholds
            .set(&format!("{metric}={limit}"))
            .map_err(|e| fail(format!("[max] {e}")))?;
    }
    for (metric, limit) in &file.max_layer {
        thresholds
            .set_layer(&format!("{metric}={limit}"))
            .map_err(|e| fail(format!("[max_layer] {e}")))?;
    }
    let default_boards = file
        .boards
        .clone()
        .or_else(|| file.board.clone().map(|b| vec![b]))
        .unwrap_or_else(|| vec![mcusim_boards::DEFAULT_BOARD.to_owned()]);
    if file.model.is_empty() {
        return Err(fail("no [[model]] entries".into()));
    }
    let mut entries = Vec::new();
    let mut labels = BTreeSet::new();
    for (i, m) in file.model.iter().enumerate() {
        let name = m.name.clone().unwrap_or_else(|| {
            m.path
                .file_stem()
                .map_or_else(|| format!("model{i}"), |s| s.to_string_lossy().into_owned())
        });
        if name.is_empty() {
            return Err(fail(format!("model {i}: an empty name")));
        }
        if let Some(problem) = budget_problem(&m.budget, &m.layer) {
            return Err(fail(format!("model `{name}`: {problem}")));
        }
        let boards = m
            .boards
            .clone()
            .or_else(|| m.board.clone().map(|b| vec![b]))
            .unwrap_or_else(|| default_boards.clone());
        if boards.is_empty() {
            return Err(fail(format!("model `{name}`: no boards")));
        }
        let energy_budget =
            m.budget.max_energy_uj.is_some() || m.layer.iter().any(|l| l.max_energy_uj.is_some());
        for board in boards {
            if !labels.insert(format!("{name}@{board}")) {
                return Err(fail(format!(
                    "model {i}: `{name}` on `{board}` is listed twice (give it another name)"
                )));
            }
            let resolved = Board::resolve(&board).map_err(|e| fail(e.to_string()))?;
            // An energy budget cannot pass or fail where energy is unknown.
            if energy_budget && resolved.file.energy.is_none() {
                return Err(fail(format!(
                    "model `{name}`: an energy budget (max_energy_uj) on board `{board}`, whose board file gives no energy coefficients ([energy])"
                )));
            }
            entries.push(Entry {
                name: name.clone(),
                board,
                resolved,
                path: base.join(&m.path),
                inputs: m.input.iter().map(|p| base.join(p)).collect(),
                opt: m.opt.clone(),
                weights_in_sram: m.weights_in_sram,
                reference_kernels: m.reference_kernels,
                cpu_only: m.cpu_only,
                budget: m.budget.clone(),
                layers: m.layer.clone(),
            });
        }
    }
    Ok(Config {
        entries,
        thresholds,
    })
}

/// A budget that no run could meet or that means nothing: a limit that is not a finite
/// number of at least 0 (TOML has `nan` and `inf`), or a layer named twice or not at all.
fn budget_problem(budget: &Budget, layers: &[LayerBudget]) -> Option<String> {
    let bad = |scope: &str, what: &str, v: Option<f64>| {
        v.filter(|v| !v.is_finite() || *v < 0.0)
            .map(|v| format!("{scope}{what} = {v}: expected a finite number, at least 0"))
    };
    let mut problem = bad("budget ", "max_latency_ms", budget.max_latency_ms)
        .or_else(|| bad("budget ", "max_energy_uj", budget.max_energy_uj));
    let mut names = BTreeSet::new();
    for l in layers {
        let scope = format!("layer `{}` ", l.name);
        problem = problem
            .or_else(|| bad(&scope, "max_latency_ms", l.max_latency_ms))
            .or_else(|| bad(&scope, "max_energy_uj", l.max_energy_uj))
            .or_else(|| {
                l.name
                    .is_empty()
                    .then(|| "a [[model.layer]] without a name".to_owned())
            })
            .or_else(|| {
                (!names.insert(l.name.as_str()))
                    .then(|| format!("layer `{}` has two budgets", l.name))
            });
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, Path::new("dir/mcusim.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn entries_are_one_per_model_and_board() {
        let c = parse(
            "boards = ['nucleo-l4r5zi', 'mps2-an386']\nmax_regression = '2%'\n[[model]]\npath = 'm/kws.tflite'\n[[model]]\npath = 'x.elf'\nname = 'x'\nboard = 'corstone-300'\n",
            Path::new("dir/mcusim.toml"),
        )
        .unwrap();
        let labels: Vec<String> = c.entries.iter().map(Entry::label).collect();
        assert_eq!(
            labels,
            ["kws@nucleo-l4r5zi", "kws@mps2-an386", "x@corstone-300"]
        );
        assert_eq!(c.entries[0].path, Path::new("dir/m/kws.tflite"));
    }

    #[test]
    fn mistakes_are_one_line_naming_the_file() {
        for (text, says) in [
            ("", "no [[model]] entries"),
            ("[[model]]\n", "missing key `path`"),
            ("colour = 1\n", "unknown key `colour`"),
            (
                "max_regression = 'lots'\n[[model]]\npath='a'\n",
                "max_regression",
            ),
            (
                "[max]\nspeed = '1%'\n[[model]]\npath='a'\n",
                "unknown metric",
            ),
            (
                "[[model]]\npath='a'\n[[model]]\npath='b/a'\n",
                "listed twice",
            ),
            (
                "[[model]]\npath='a'\nboard='no-such-board'\n",
                "no-such-board",
            ),
            ("[[model]]\npath='a'\nboards=[]\n", "no boards"),
            (
                "[[model]]\npath='a'\nbudget={max_latency_ms=nan}\n",
                "expected a finite number",
            ),
            (
                "[[model]]\npath='a'\nbudget={max_energy_uj=-1.0}\n",
                "expected a finite number",
            ),
            (
                "[[model]]\npath='a'\n[[model.layer]]\nname='c'\nmax_latency_ms=inf\n",
                "layer `c` max_latency_ms",
            ),
            (
                "[[model]]\npath='a'\n[[model.layer]]\nname='c'\n[[model.layer]]\nname='c'\n",
                "two budgets",
            ),
        ] {
            let e = err(text);
            assert!(e.starts_with("dir/mcusim.toml:"), "{text:?}: {e}");
            assert!(e.contains(says), "{text:?}: {e}");
            assert_eq!(e.lines().count(), 1, "{text:?}: {e}");
        }
    }
}
