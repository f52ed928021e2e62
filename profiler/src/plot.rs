//! Charts of a profile, as SVG (plotters): cycles per layer, cycles per MAC per layer, energy
//! per layer by component, SRAM in use over the run, and a roofline of the layers; and each as
//! PNG, the SVG rasterised by resvg. Deterministic: the same profile gives the same files (the
//! PNGs' text is drawn in the system's sans-serif font, DejaVu Sans where installed).

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

/// Draws a chart of `size` with `draw` and writes it to `path` as SVG, atomically.
fn svg_file<F>(path: &Path, size: (u32, u32), draw: F) -> Result<(), PlotError>
where
    F: FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), PlotError>,
{
    let mut svg = String::new();
    draw(SVGBackend::with_string(&mut svg, size).into_drawing_area())?;
    mcusim_traces::file::write_atomic(path, svg.as_bytes()).map_err(|e| PlotError {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// A layer as an axis names it: its index and operator (`3 DEPTHWISE_CONV_2D`).
fn axis_label(index: u32, op: &str) -> String {
    format!("{index} {}", crate::abbreviate(op, 18))
}

/// Writes each layer's label under its column, turned to run downwards from the axis so every
/// layer's name fits (plotters centres its own axis labels on the tick, which a turned label
/// would cross). `label(i)` is column `i`'s label.
fn layer_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    at: impl Fn(u32) -> (i32, i32),
    columns: u32,
    label: impl Fn(u32) -> String,
) -> Result<(), String> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let style = TextStyle::from(
        ("sans-serif", 11)
            .into_font()
            .transform(FontTransform::Rotate90),
    )
    .pos(Pos::new(HPos::Left, VPos::Center));
    for c in 0..columns {
        let (x, y) = at(c);
        root.draw(&Text::new(label(c), (x, y + 6), style.clone()))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn bars(
    path: &Path,
    title: &str,
    y_label: &str,
    decimals: usize,
    values: &[(String, f64)],
) -> Result<(), PlotError> {
    let fail = |e: &dyn std::fmt::Display| PlotError {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    svg_file(path, (800, 520), |root| {
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let max = values.iter().map(|v| v.1).fold(0.0f64, f64::max).max(1e-9) * 1.1;
        let n = values.len().max(1) as u32;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(130)
            .y_label_area_size(80)
            .build_cartesian_2d((0u32..n).into_segmented(), 0f64..max)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .y_desc(y_label)
            .y_label_formatter(&|v| format!("{v:.decimals$}"))
            // plotters loops forever asked for no labels: one, empty.
            .x_labels(1)
            .x_label_formatter(&|_| String::new())
            .draw()
            .map_err(|e| fail(&e))?;
        layer_labels(
            &root,
            |c| chart.backend_coord(&(SegmentValue::CenterOf(c), 0.0)),
            n.min(values.len() as u32),
            |c| {
                values
                    .get(c as usize)
                    .map_or(String::new(), |v| v.0.clone())
            },
        )
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
    })
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
    svg_file(path, (800, 420), |root| {
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
    })
}

/// Energy per layer, stacked by component.
fn energy_stack(path: &Path, p: &Profile) -> Result<(), PlotError> {
    let fail = |e: &dyn std::fmt::Display| PlotError {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    svg_file(path, (800, 520), |root| {
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let max = p
            .layers
            .iter()
            .filter_map(|l| l.energy_uj)
            .fold(0.0f64, f64::max)
            .max(1e-9)
            * 1.1;
        let n = p.layers.len().max(1) as u32;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                if p.totals.energy_uj.is_some() {
                    "energy per layer"
                } else {
                    "energy per layer: unknown (the board file gives no energy coefficients)"
                },
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(130)
            .y_label_area_size(80)
            .build_cartesian_2d((0u32..n).into_segmented(), 0f64..max)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .y_desc("uJ")
            .y_label_formatter(&|v| format!("{v:.0}"))
            // plotters loops forever asked for no labels: one, empty.
            .x_labels(1)
            .x_label_formatter(&|_| String::new())
            .draw()
            .map_err(|e| fail(&e))?;
        layer_labels(
            &root,
            |c| chart.backend_coord(&(SegmentValue::CenterOf(c), 0.0)),
            p.layers.len() as u32,
            |c| {
                p.layers
                    .get(c as usize)
                    .map_or(String::new(), |l| axis_label(l.index, &l.op))
            },
        )
        .map_err(|e| fail(&e))?;
        type Part = fn(&crate::profile::EnergyParts) -> f64;
        let mut parts: Vec<(&str, RGBColor, Part)> = vec![
            ("core", RGBColor(70, 110, 180), |e| e.core_uj),
            ("flash", RGBColor(200, 120, 40), |e| e.flash_uj),
            ("SRAM", RGBColor(80, 160, 90), |e| e.sram_uj),
            ("sleep", RGBColor(150, 150, 150), |e| e.sleep_uj),
        ];
        // The devices' part only where a device worked (a DMA or an NPU).
        if p.layers
            .iter()
            .any(|l| l.energy.as_ref().is_some_and(|e| e.devices_uj > 0.0))
        {
            parts.push(("devices", RGBColor(170, 80, 160), |e| e.devices_uj));
        }
        for (k, &(name, colour, part)) in parts.iter().enumerate() {
            let below = |l: &crate::profile::Layer| -> f64 {
                parts[..k]
                    .iter()
                    .map(|(_, _, f)| l.energy.as_ref().map_or(0.0, f))
                    .sum()
            };
            chart
                .draw_series(p.layers.iter().enumerate().map(|(i, l)| {
                    let i = i as u32;
                    let base = below(l);
                    Rectangle::new(
                        [
                            (SegmentValue::Exact(i), base),
                            (
                                SegmentValue::Exact(i + 1),
                                base + l.energy.as_ref().map_or(0.0, part),
                            ),
                        ],
                        colour.filled(),
                    )
                }))
                .map_err(|e| fail(&e))?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE)
            .border_style(BLACK)
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))
    })
}

/// Each layer with MACs at (MACs per byte moved, MACs per cycle), under the roofs: the core's
/// peak and what SRAM and flash bandwidth allow at that intensity. Log-log axes.
fn roofline(path: &Path, p: &Profile) -> Result<(), PlotError> {
    let fail = |e: &dyn std::fmt::Display| PlotError {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let r = &p.roofline;
    let points: Vec<(f64, f64, u32, &str)> = p
        .layers
        .iter()
        .filter(|l| l.macs > 0 && l.cycles.0 > 0)
        .map(|l| {
            let t = &l.traffic;
            let bytes = (t.sram_read_bytes + t.sram_write_bytes + t.flash_read_bytes).max(1);
            (
                l.macs as f64 / bytes as f64,
                l.macs as f64 / l.cycles.0 as f64,
                l.index,
                l.op.as_str(),
            )
        })
        .collect();
    let x_min = points.iter().map(|v| v.0).fold(0.05f64, f64::min) / 2.0;
    let x_max = points.iter().map(|v| v.0).fold(10.0f64, f64::max) * 2.0;
    let y_min = points.iter().map(|v| v.1).fold(0.05f64, f64::min) / 2.0;
    let y_max = r.peak_macs_per_cycle.max(1e-3) * 2.0;
    svg_file(path, (800, 480), |root| {
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption("roofline", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d((x_min..x_max).log_scale(), (y_min..y_max).log_scale())
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("MACs per byte moved (loads and stores)")
            .y_desc("MACs per cycle")
            .x_label_formatter(&|v| format!("{v:.2}"))
            .y_label_formatter(&|v| format!("{v:.2}"))
            .draw()
            .map_err(|e| fail(&e))?;
        let roof = |bw: f64| {
            let knee = r.peak_macs_per_cycle / bw;
            let mut v = vec![(x_min, (x_min * bw).max(y_min))];
            if knee > x_min && knee < x_max {
                v.push((knee, r.peak_macs_per_cycle));
            }
            v.push((x_max, (x_max * bw).min(r.peak_macs_per_cycle)));
            v
        };
        for (name, bw, colour) in [
            ("SRAM roof", r.sram_bytes_per_cycle, RGBColor(80, 160, 90)),
            (
                "flash roof",
                r.flash_bytes_per_cycle,
                RGBColor(200, 120, 40),
            ),
        ] {
            chart
                .draw_series(LineSeries::new(roof(bw), colour.stroke_width(2)))
                .map_err(|e| fail(&e))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour));
        }
        // Layers of the same shape sit on the same point: one label names them all, with
        // their operator ("CONV_2D 2,4,6").
        let mut labelled: Vec<(f64, f64, String, Vec<u32>)> = Vec::new();
        for &(x, y, i, op) in &points {
            let near = |a: f64, b: f64| (a / b - 1.0).abs() < 0.02;
            match labelled
                .iter_mut()
                .find(|(lx, ly, o, _)| near(*lx, x) && near(*ly, y) && o == op)
            {
                Some((_, _, _, at)) => at.push(i),
                None => labelled.push((x, y, op.to_owned(), vec![i])),
            }
        }
        chart
            .draw_series(labelled.into_iter().map(|(x, y, op, at)| {
                let at: Vec<String> = at.iter().map(u32::to_string).collect();
                EmptyElement::at((x, y))
                    + Circle::new((0, 0), 4, RGBColor(70, 110, 180).filled())
                    + Text::new(
                        format!("{op} {}", at.join(",")),
                        (6, -6),
                        ("sans-serif", 12),
                    )
            }))
            .map_err(|e| fail(&e))?;
        chart
            .configure_series_labels()
            .background_style(WHITE)
            .border_style(BLACK)
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))
    })
}

/// The arena's plan as the classic block diagram: a layer per column, the arena's offsets up
/// the side, each buffer a block from its first layer to its last at its offset; the layer at
/// which the most bytes are live is marked, and the buffers live there (what sets the arena's
/// size) are drawn in red, the others in blue (tensors), grey (kernel scratch) or purple (staged
/// weights). A block wide and tall enough carries its name.
fn arena_plan(path: &Path, p: &Profile, plan: &crate::profile::ArenaPlan) -> Result<(), PlotError> {
    let fail = |e: &dyn std::fmt::Display| PlotError {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    // Columns in execution order; a plan's layer not in the profile (a run cut short) goes
    // after the last, by index.
    let mut columns: Vec<(u32, &str)> = p.layers.iter().map(|l| (l.index, l.op.as_str())).collect();
    for b in &plan.buffers {
        for i in [b.first_layer, b.last_layer] {
            if !columns.iter().any(|c| c.0 == i) {
                columns.push((i, "?"));
            }
        }
    }
    let column = |index: u32| columns.iter().position(|c| c.0 == index).unwrap_or(0) as u32;
    let n = columns.len().max(1) as u32;
    let top = plan.arena_bytes.max(1);
    let peak = column(plan.peak_layer);
    let at_peak: Vec<&str> = plan
        .buffers
        .iter()
        .filter(|b| b.at_peak)
        .map(|b| b.name.as_str())
        .collect();
    let (width, height) = (1000u32, 620u32);
    svg_file(path, (width, height), |root| {
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let (head, body) = root.split_vertically(46);
        head.draw(&Text::new(
            format!(
                "arena plan: {} B (lower bound {} B); peak {} B at layer {}",
                crate::group(u64::from(plan.arena_bytes)),
                crate::group(u64::from(plan.lower_bound)),
                crate::group(u64::from(plan.peak_bytes)),
                plan.peak_layer
            ),
            (12, 6),
            ("sans-serif", 18),
        ))
        .map_err(|e| fail(&e))?;
        head.draw(&Text::new(
            format!(
                "live at the peak: {}",
                crate::abbreviate(&at_peak.join(", "), 150)
            ),
            (12, 28),
            ("sans-serif", 12),
        ))
        .map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .x_label_area_size(130)
            .y_label_area_size(80)
            .build_cartesian_2d((0u32..n).into_segmented(), 0u32..top)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc("arena offset (bytes)")
            // plotters loops forever asked for no labels: one, empty.
            .x_labels(1)
            .x_label_formatter(&|_| String::new())
            .draw()
            .map_err(|e| fail(&e))?;
        layer_labels(
            &root,
            |c| chart.backend_coord(&(SegmentValue::CenterOf(c), 0)),
            columns.len() as u32,
            |c| {
                columns
                    .get(c as usize)
                    .map_or(String::new(), |&(i, op)| axis_label(i, op))
            },
        )
        .map_err(|e| fail(&e))?;
        let at = SegmentValue::Exact;
        // The peak's column, shaded behind the blocks.
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(at(peak), 0), (at(peak + 1), top)],
                RGBColor(255, 235, 200).filled(),
            )))
            .map_err(|e| fail(&e))?;
        let (px_per_col, px_per_byte) = (
            f64::from(width - 104) / f64::from(n),
            f64::from(height - 46 - 154) / f64::from(top),
        );
        for b in &plan.buffers {
            let (x0, x1) = (column(b.first_layer), column(b.last_layer) + 1);
            let (y0, y1) = (b.offset, (b.offset + b.size).min(top));
            let fill = if b.at_peak {
                RGBColor(210, 70, 60)
            } else {
                match b.kind.as_str() {
                    "scratch" => RGBColor(150, 150, 150),
                    "staging" => RGBColor(150, 90, 170),
                    _ => RGBColor(70, 110, 180),
                }
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(at(x0), y0), (at(x1), y1)],
                    fill.mix(0.85).filled(),
                )))
                .map_err(|e| fail(&e))?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(at(x0), y0), (at(x1), y1)],
                    WHITE.stroke_width(1),
                )))
                .map_err(|e| fail(&e))?;
            let (w_px, h_px) = (
                f64::from(x1 - x0) * px_per_col,
                f64::from(y1 - y0) * px_per_byte,
            );
            let chars = (w_px / 6.5) as usize;
            if h_px >= 13.0 && chars >= 4 {
                chart
                    .draw_series(std::iter::once(Text::new(
                        crate::abbreviate(&b.name, chars),
                        (at(x0), y1),
                        ("sans-serif", 11).into_font().color(&WHITE),
                    )))
                    .map_err(|e| fail(&e))?;
            }
        }
        root.present().map_err(|e| fail(&e))
    })
}

/// Rasterises each SVG chart into a PNG beside it (`name.svg` -> `name.png`); returns the PNGs.
/// Text needs a system font; without one the PNGs have none.
pub fn write_pngs(svgs: &[PathBuf]) -> Result<Vec<PathBuf>, PlotError> {
    let options = png_options();
    // Each chart on a thread of its own: rasterising is most of a full profile's export time.
    std::thread::scope(|scope| {
        let jobs: Vec<_> = svgs
            .iter()
            .map(|svg| scope.spawn(|| write_png(svg, &options)))
            .collect();
        jobs.into_iter()
            .map(|job| job.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Rendering options with the text font: DejaVu Sans when the system has it (the charts ask
/// for sans-serif), its files read once into memory (fontdb would otherwise read a font file
/// from disk again for every glyph it draws); otherwise whatever the system has.
fn png_options() -> resvg::usvg::Options<'static> {
    use resvg::usvg::fontdb;
    // Debian's fonts-dejavu-core puts it here; elsewhere, find it among the system's fonts.
    const DEBIAN_DEJAVU: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    let mut system = fontdb::Database::new();
    let dejavu: Vec<PathBuf> = if Path::new(DEBIAN_DEJAVU).is_file() {
        vec![DEBIAN_DEJAVU.into()]
    } else {
        system.load_system_fonts();
        system
            .faces()
            .filter(|f| f.families.iter().any(|(n, _)| n == "DejaVu Sans"))
            .filter_map(|f| match &f.source {
                fontdb::Source::File(path) => Some(path.clone()),
                _ => None,
            })
            .collect()
    };
    let mut fonts = fontdb::Database::new();
    for path in &dejavu {
        if let Ok(data) = std::fs::read(path) {
            fonts.load_font_data(data);
        }
    }
    if fonts.is_empty() {
        if system.is_empty() {
            system.load_system_fonts();
        }
        fonts = system;
    } else {
        fonts.set_sans_serif_family("DejaVu Sans");
    }
    let mut options = resvg::usvg::Options::default();
    *options.fontdb_mut() = fonts;
    options
}

fn write_png(svg: &Path, options: &resvg::usvg::Options<'_>) -> Result<PathBuf, PlotError> {
    use resvg::{tiny_skia, usvg};
    let png = svg.with_extension("png");
    let fail = |message: String| PlotError {
        path: png.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(svg).map_err(|e| fail(e.to_string()))?;
    // plotters gives its faint grid lines element opacity, which resvg draws as a layer of its
    // own per line (hundreds per chart, most of the rasterising time); on a line, which has
    // only a stroke, stroke opacity draws the same.
    let text = text.replace("<line opacity=", "<line stroke-opacity=");
    let tree = usvg::Tree::from_str(&text, options).map_err(|e| fail(e.to_string()))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| fail("empty chart".into()))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let bytes = pixmap.encode_png().map_err(|e| fail(e.to_string()))?;
    mcusim_traces::file::write_atomic(&png, &bytes).map_err(|e| fail(e.to_string()))?;
    Ok(png)
}

/// Writes the charts into `dir` (created if needed); returns their paths.
pub fn write_svgs(p: &Profile, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    std::fs::create_dir_all(dir).map_err(|e| PlotError {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let cycles: Vec<(String, f64)> = p
        .layers
        .iter()
        .map(|l| (axis_label(l.index, &l.op), l.cycles.0 as f64))
        .collect();
    let per_mac: Vec<(String, f64)> = p
        .layers
        .iter()
        .filter_map(|l| l.cycles_per_mac.map(|c| (axis_label(l.index, &l.op), c)))
        .collect();
    let mut files = vec![
        dir.join("cycles_per_layer.svg"),
        dir.join("cycles_per_mac.svg"),
        dir.join("energy_per_layer.svg"),
        dir.join("sram_timeline.svg"),
        dir.join("roofline.svg"),
    ];
    bars(&files[0], "cycles per layer", "cycles", 0, &cycles)?;
    bars(&files[1], "cycles per MAC", "cycles/MAC", 1, &per_mac)?;
    energy_stack(&files[2], p)?;
    timeline(&files[3], p)?;
    roofline(&files[4], p)?;
    // The arena's plan, when this run compiled the model.
    if let Some(plan) = &p.memory.plan {
        let file = dir.join("arena_plan.svg");
        arena_plan(&file, p, plan)?;
        files.push(file);
    }
    Ok(files)
}
