//! Charts of a profile, as SVG (plotters): cycles per layer, cycles per MAC per layer, energy
//! per layer, and SRAM in use over the run. Deterministic: the same profile gives the same
//! files.

use crate::profile::Profile;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Why charts could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PlotError {
    pub path: String,
    pub message: String,
}

fn bars(
    path: &Path,
    title: &str,
    y_label: &str,
    decimals: usize,
    values: &[(u32, f64)],
) -> Result<(), PlotError> {
    let fail = |e: &dyn std::fmt::Display| PlotError {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let root = SVGBackend::new(path, (800, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let max = values.iter().map(|v| v.1).fold(0.0f64, f64::max).max(1e-9) * 1.1;
    let n = values.len().max(1) as u32;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d((0u32..n).into_segmented(), 0f64..max)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("layer")
        .y_desc(y_label)
        .y_label_formatter(&|v| format!("{v:.decimals$}"))
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) => values
                .get(*i as usize)
                .map_or(String::new(), |v| v.0.to_string()),
            _ => String::new(),
        })
        .draw()
        .map_err(|e| fail(&e))?;
    chart
        .draw_series(values.iter().enumerate().map(|(i, &(_, v))| {
            let i = i as u32;
            Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), v),
                ],
                RGBColor(70, 110, 180).filled(),
            )
        }))
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

fn timeline(path: &Path, p: &Profile) -> Result<(), PlotError> {
    let fail = |e: &dyn std::fmt::Display| PlotError {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let hz = p.board.clock_hz.max(1) as f64;
    let points: Vec<(f64, f64)> = p
        .memory
        .timeline
        .iter()
        .map(|&(c, b)| (c.0 as f64 / hz * 1e3, f64::from(b) / 1024.0))
        .collect();
    let t_max = (p.totals.cycles.0 as f64 / hz * 1e3).max(1e-9);
    let y_max = points.iter().map(|v| v.1).fold(0.0f64, f64::max).max(1e-9) * 1.1;
    let root = SVGBackend::new(path, (800, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("SRAM in use", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..t_max, 0f64..y_max)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("simulated time (ms)")
        .y_desc("KiB")
        .draw()
        .map_err(|e| fail(&e))?;
    chart
        .draw_series(LineSeries::new(
            points,
            RGBColor(180, 80, 60).stroke_width(2),
        ))
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

/// Writes the charts into `dir` (created if needed); returns their paths.
pub fn write_svgs(p: &Profile, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    std::fs::create_dir_all(dir).map_err(|e| PlotError {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let cycles: Vec<(u32, f64)> = p
        .layers
        .iter()
        .map(|l| (l.index, l.cycles.0 as f64))
        .collect();
    let per_mac: Vec<(u32, f64)> = p
        .layers
        .iter()
        .filter_map(|l| l.cycles_per_mac.map(|c| (l.index, c)))
        .collect();
    let energy: Vec<(u32, f64)> = p.layers.iter().map(|l| (l.index, l.energy_uj)).collect();
    let files = [
        dir.join("cycles_per_layer.svg"),
        dir.join("cycles_per_mac.svg"),
        dir.join("energy_per_layer.svg"),
        dir.join("sram_timeline.svg"),
    ];
    bars(&files[0], "cycles per layer", "cycles", 0, &cycles)?;
    bars(&files[1], "cycles per MAC", "cycles/MAC", 1, &per_mac)?;
    bars(&files[2], "energy per layer", "uJ", 0, &energy)?;
    timeline(&files[3], p)?;
    Ok(files.to_vec())
}
