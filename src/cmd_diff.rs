//! `mcusim diff`: two profiles compared, with regression limits.

use crate::Outcome;
use crate::cli::{DiffArgs, Format, LimitArgs};
use anyhow::{Context, Result, anyhow};
use mcusim_profiler::Profile;
use mcusim_profiler::diff::{self, Limit, Thresholds};
use std::path::Path;

pub fn run(args: &DiffArgs) -> Result<Outcome> {
    let thresholds = thresholds(&args.limits)?;
    let baseline = read_profile(&args.baseline)?;
    let current = read_profile(&args.current)?;
    let d = diff::diff(&baseline, &current, &thresholds);
    let suite = format!("{}@{}", current.firmware.file, current.board.name);
    let text = match args.format {
        Format::Text => d.text(),
        Format::Markdown => d.markdown(),
        Format::Json => d.json(),
        Format::Junit => d.junit(&suite),
    };
    crate::out::report(args.output.as_deref(), &text)?;
    Ok(if d.failed {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}

/// The limits of `--max-regression` and `--max`.
pub fn thresholds(args: &LimitArgs) -> Result<Thresholds> {
    let mut t = match &args.max_regression {
        Some(s) => Thresholds::all(Limit::parse(s).ok_or_else(|| {
            anyhow!("--max-regression `{s}`: expected a limit like 2%, +1% or +0")
        })?),
        None => Thresholds::default(),
    };
    for spec in &args.max {
        t.set(spec).map_err(|e| anyhow!("--max {e}"))?;
    }
    for spec in &args.max_layer {
        t.set_layer(spec).map_err(|e| anyhow!("--max-layer {e}"))?;
    }
    Ok(t)
}

/// A profile JSON file, its schema checked.
pub fn read_profile(path: &Path) -> Result<Profile> {
    let text = mcusim_traces::file::read_text_capped(path, mcusim_traces::file::MAX_INPUT_BYTES)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("{}: not JSON: {e}", path.display()))?;
    let schema = value.get("schema").and_then(|s| s.as_str()).unwrap_or("");
    if schema != mcusim_profiler::PROFILE_SCHEMA {
        return Err(anyhow!(
            "{}: not a profile (schema `{schema}`, expected `{}`: write one with mcusim profile --json)",
            path.display(),
            mcusim_profiler::PROFILE_SCHEMA
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| anyhow!("{}: a malformed profile: {e}", path.display()))
}
