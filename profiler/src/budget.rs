//! Budgets: the most a model (and optionally each of its layers) may take, as `mcusim.toml`
//! states them, checked against a profile.

use crate::profile::Profile;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Limits for a whole run; every one optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub max_cycles: Option<u64>,
    /// Simulated milliseconds at the board's clock.
    pub max_latency_ms: Option<f64>,
    pub max_peak_sram: Option<u64>,
    pub max_flash: Option<u64>,
    pub max_stack: Option<u64>,
    pub max_energy_uj: Option<f64>,
}

/// Limits for one layer, found by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerBudget {
    pub name: String,
    pub max_cycles: Option<u64>,
    pub max_latency_ms: Option<f64>,
    pub max_stack: Option<u64>,
    pub max_energy_uj: Option<f64>,
}

/// One limit checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Verdict {
    /// `total` or the layer's name.
    pub scope: String,
    /// `max_cycles`, `max_peak_sram`, ...
    pub limit_name: String,
    pub limit: f64,
    /// What the run took (`null` when it was not measured, or the layer was not found).
    pub actual: Option<f64>,
    pub ok: bool,
}

fn verdict(scope: &str, name: &str, limit: Option<f64>, actual: Option<f64>) -> Option<Verdict> {
    let limit = limit?;
    Some(Verdict {
        scope: scope.to_owned(),
        limit_name: name.to_owned(),
        limit,
        actual,
        ok: actual.is_some_and(|a| a <= limit),
    })
}

/// Checks `p` against the budget and the layer budgets.
pub fn check(p: &Profile, budget: &Budget, layers: &[LayerBudget]) -> Vec<Verdict> {
    let ms = |cycles: u64| cycles as f64 / p.board.clock_hz.max(1) as f64 * 1e3;
    let f = |v: Option<u64>| v.map(|v| v as f64);
    let mut out: Vec<Verdict> = [
        verdict(
            "total",
            "max_cycles",
            f(budget.max_cycles),
            Some(p.totals.cycles.0 as f64),
        ),
        verdict(
            "total",
            "max_latency_ms",
            budget.max_latency_ms,
            Some(ms(p.totals.cycles.0)),
        ),
        verdict(
            "total",
            "max_peak_sram",
            f(budget.max_peak_sram),
            Some(f64::from(p.memory.peak_sram_bytes)),
        ),
        verdict(
            "total",
            "max_flash",
            f(budget.max_flash),
            Some(f64::from(p.memory.flash_bytes)),
        ),
        verdict(
            "total",
            "max_stack",
            f(budget.max_stack),
            p.memory.stack_peak_bytes.map(f64::from),
        ),
        verdict(
            "total",
            "max_energy_uj",
            budget.max_energy_uj,
            p.totals.energy_uj,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    for lb in layers {
        let layer = p.layers.iter().find(|l| l.name == lb.name);
        let cycles = layer.map(|l| l.cycles.0);
        out.extend(
            [
                verdict(&lb.name, "max_cycles", f(lb.max_cycles), f(cycles)),
                verdict(
                    &lb.name,
                    "max_latency_ms",
                    lb.max_latency_ms,
                    cycles.map(ms),
                ),
                verdict(
                    &lb.name,
                    "max_stack",
                    f(lb.max_stack),
                    layer.and_then(|l| l.stack_peak_bytes).map(f64::from),
                ),
                verdict(
                    &lb.name,
                    "max_energy_uj",
                    lb.max_energy_uj,
                    layer.and_then(|l| l.energy_uj),
                ),
            ]
            .into_iter()
            .flatten(),
        );
    }
    out
}
