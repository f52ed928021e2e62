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

/// A figure as a reader wants it in a report: thousands grouped from 1,000 up, three
/// significant digits below (`7,940,804`, `66.1`, `5.27`, `0.0531`), no trailing zeros.
pub fn figure(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    if a >= 999.5 {
        let g = crate::group(a.round() as u64);
        return if v < 0.0 { format!("-{g}") } else { g };
    }
    let decimals = if a >= 99.95 {
        0
    } else if a >= 9.995 {
        1
    } else if a >= 0.9995 {
        2
    } else if a == 0.0 {
        0
    } else {
        (2 - a.log10().floor() as i32).clamp(0, 9) as usize
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

impl Verdict {
    /// What the limit is of, in words, and its unit: (`latency`, ` ms`).
    fn what(&self) -> (&str, &str) {
        match self.limit_name.as_str() {
            "max_cycles" => ("cycles", ""),
            "max_latency_ms" => ("latency", " ms"),
            "max_peak_sram" => ("peak SRAM", " B"),
            "max_flash" => ("flash", " B"),
            "max_stack" => ("stack", " B"),
            "max_energy_uj" => ("energy", " uJ"),
            other => (other, ""),
        }
    }

    /// The figure against its limit: `latency 65.7 of 70 ms`, `conv_1/out cycles 980,850 of
    /// 1,000,000`, `stack not measured (limit 2,048 B)`.
    pub fn headroom(&self) -> String {
        let (what, unit) = self.what();
        let scope = if self.scope == "total" {
            String::new()
        } else {
            format!("{} ", self.scope)
        };
        match self.actual {
            Some(a) => format!(
                "{scope}{what} {} of {}{unit}",
                figure(a),
                figure(self.limit)
            ),
            None => format!(
                "{scope}{what} not measured (limit {}{unit})",
                figure(self.limit)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_a_person_writes_them() {
        for (v, s) in [
            (7_940_804.0, "7,940,804"),
            (1000.0, "1,000"),
            (999.4, "999"),
            (66.112, "66.1"),
            (70.0, "70"),
            (5.267, "5.27"),
            (0.05312, "0.0531"),
            (0.0, "0"),
            (2772.929, "2,773"),
            (-1234.0, "-1,234"),
        ] {
            assert_eq!(figure(v), s, "{v}");
        }
        let v = Verdict {
            scope: "total".into(),
            limit_name: "max_latency_ms".into(),
            limit: 70.0,
            actual: Some(65.71),
            ok: true,
        };
        assert_eq!(v.headroom(), "latency 65.7 of 70 ms");
    }
}
