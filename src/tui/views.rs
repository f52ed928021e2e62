//! Drawing the app: a tab bar, the current view, a key line, and the overlays (layer detail,
//! help). Colours are the 16 ANSI ones, so they survive any terminal.

use super::{App, SortKey, View};
use mcusim_profiler::diff::{Change, Metric};
use mcusim_profiler::group;
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Borders, Chart, Clear, Dataset, GraphType, Paragraph, Row, Sparkline, Table,
    TableState, Tabs, Wrap,
};

const ACCENT: Color = Color::Cyan;
const BAR: Color = Color::Blue;
const WARN: Color = Color::Red;
const GOOD: Color = Color::Green;

fn kib(bytes: u64) -> String {
    if bytes >= 10 * 1024 {
        format!("{} KiB", group(bytes / 1024))
    } else {
        format!("{} B", group(bytes))
    }
}

fn bar(fraction: f64, width: usize) -> String {
    let eighths = (fraction.clamp(0.0, 1.0) * width as f64 * 8.0).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    if !eighths.is_multiple_of(8) && s.chars().count() < width {
        s.push_str(PARTS[eighths % 8]);
    }
    s
}

/// Column widths from the content, so no figure is ever cut: each column as wide as its widest
/// cell or its header; column `flex` (a name) takes the room left of `width` (the table's inner
/// width, one space between columns), and its cells are abbreviated from the middle to fit.
fn fit_columns(
    header: &[&str],
    rows: &mut [Vec<String>],
    flex: usize,
    width: usize,
) -> Vec<Constraint> {
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows.iter() {
        for (i, cell) in row.iter().enumerate() {
            w[i] = w[i].max(cell.chars().count());
        }
    }
    let fixed: usize = w
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != flex)
        .map(|(_, &x)| x)
        .sum::<usize>()
        + w.len().saturating_sub(1);
    let room = width
        .saturating_sub(fixed)
        .max(header[flex].chars().count());
    for row in rows.iter_mut() {
        row[flex] = mcusim_profiler::abbreviate(&row[flex], room);
    }
    w.iter()
        .enumerate()
        .map(|(i, &x)| {
            if i == flex {
                Constraint::Min(room as u16)
            } else {
                Constraint::Length(x as u16)
            }
        })
        .collect()
}

/// The smallest terminal the views are laid out for.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// Draws the whole app.
pub fn draw(f: &mut Frame<'_>, app: &App) {
    let area = f.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let text = format!(
            "terminal too small: {}x{}; mcusim tui needs {}x{} (q quits)",
            area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
        );
        f.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .split(area);
    let titles: Vec<Line<'_>> = View::ALL
        .iter()
        .enumerate()
        .map(|(i, v)| Line::from(format!("{} {}", i + 1, v.title())))
        .collect();
    let selected = View::ALL.iter().position(|v| *v == app.view).unwrap_or(0);
    let tabs = Tabs::new(titles)
        .select(selected)
        .highlight_style(Style::default().fg(Color::Black).bg(ACCENT))
        .divider("|");
    f.render_widget(tabs, rows[0]);
    match app.view {
        View::Layers => layers(f, app, rows[1]),
        View::Timeline => timeline(f, app, rows[1]),
        View::Memory => memory(f, app, rows[1]),
        View::Functions => functions(f, app, rows[1]),
        View::Code => code(f, app, rows[1]),
        View::Compare => compare(f, app, rows[1]),
    }
    let p = &app.profile;
    let status = if app.filtering {
        format!("filter: {}▏ (Enter keeps it, Esc clears)", app.filter)
    } else {
        let keys = "   ? help  q quit";
        let facts = if !matches!(p.stop, mcusim_traces::StopReason::Exit { code: 0 }) {
            // A run that failed or was stopped: say so first.
            format!("{}: {} cycles so far", p.stop, group(p.totals.cycles.0))
        } else {
            format!(
                "{} on {}: {} cycles, {:.3} ms, {} uJ",
                p.firmware.file,
                p.board.name,
                group(p.totals.cycles.0),
                p.totals.time_us / 1e3,
                mcusim_profiler::uj(p.totals.energy_uj, 1)
            )
        };
        // When the line is too long the key hints go first (help, then quit), then the facts
        // are abbreviated.
        let width = usize::from(area.width);
        [keys, "   ? help", ""]
            .iter()
            .map(|k| format!("{facts}{k}"))
            .find(|line| line.chars().count() <= width)
            .unwrap_or_else(|| mcusim_profiler::abbreviate(&facts, width))
    };
    f.render_widget(
        Paragraph::new(status).style(Style::default().add_modifier(Modifier::DIM)),
        rows[2],
    );
    if app.detail
        && app.view == View::Layers
        && let Some(i) = app.selected_layer()
    {
        layer_detail(f, app, i, area);
    }
    if app.help {
        help(f, area);
    }
}

/// A short name for an operator, for narrow terminals.
fn short_op(op: &str) -> &str {
    match op {
        "DEPTHWISE_CONV_2D" => "DEPTHWISE",
        "FULLY_CONNECTED" => "FULLY_CONN",
        "AVERAGE_POOL_2D" => "AVG_POOL",
        "MAX_POOL_2D" => "MAX_POOL",
        "CONCATENATION" => "CONCAT",
        "DEQUANTIZE" => "DEQUANT",
        "TRANSPOSE_CONV" => "TRANS_CONV",
        op => op,
    }
}

fn layers(f: &mut Frame<'_>, app: &App, area: Rect) {
    let p = &app.profile;
    let rows = app.layer_rows();
    // Wide terminals get the memory column, full operator names and a longer bar.
    let wide = area.width >= 110;
    let max_share = p
        .layers
        .iter()
        .map(|l| l.share)
        .fold(0.0f64, f64::max)
        .max(1e-9);
    // Boards with an NPU: which engine ran each layer, the NPU's utilisation and bound.
    let engines = p.layers.iter().any(|l| l.engine.is_some());
    let mut cells: Vec<Vec<String>> = rows
        .iter()
        .map(|&i| {
            let l = &p.layers[i];
            let t = &l.traffic;
            let mut cells = vec![
                l.index.to_string(),
                if wide {
                    l.op.clone()
                } else {
                    short_op(&l.op).to_owned()
                },
                l.name.clone(),
                group(l.cycles.0),
                format!("{:.1}%", 100.0 * l.share),
                l.cycles_per_mac
                    .map_or_else(|| "-".into(), |c| format!("{c:.2}")),
            ];
            if wide {
                cells.push(kib(t.sram_read_bytes
                    + t.sram_write_bytes
                    + t.flash_read_bytes));
            }
            cells.push(mcusim_profiler::uj(l.energy_uj, 1));
            if engines {
                cells.push(mcusim_profiler::engine_cell(l).unwrap_or_default());
            }
            cells
        })
        .collect();
    let mut header = vec!["#", "op", "layer", "cycles", "share", "c/MAC"];
    if wide {
        header.push("memory");
    }
    header.push("uJ");
    if engines {
        header.push("engine");
    }
    // The bar takes what the names leave: up to 30 columns, none on a narrow terminal.
    let inner = area.width.saturating_sub(2) as usize;
    let longest = p
        .layers
        .iter()
        .map(|l| l.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut probe = cells.clone();
    let needed: usize = fit_columns(&header, &mut probe, 2, usize::MAX / 2)
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != 2)
        .map(|(_, c)| match c {
            Constraint::Length(n) => usize::from(*n) + 1,
            _ => 1,
        })
        .sum();
    let spare = inner.saturating_sub(needed + longest.min(40) + 1);
    let bar_width = spare.min(if wide { 30 } else { 8 });
    let mut widths = fit_columns(
        &header,
        &mut cells,
        2,
        inner.saturating_sub(if bar_width > 0 { bar_width + 1 } else { 0 }),
    );
    if bar_width > 0 {
        header.push("");
        widths.push(Constraint::Length(bar_width as u16));
        for (row, &i) in cells.iter_mut().zip(&rows) {
            row.push(bar(p.layers[i].share / max_share, bar_width));
        }
    }
    let table_rows: Vec<Row<'_>> = cells.into_iter().map(Row::new).collect();
    let header = Row::new(header).style(Style::default().fg(ACCENT).add_modifier(Modifier::BOLD));
    let title = format!(
        " Layers ({}) by {}{}{} | Enter detail, s sort, r reverse ",
        rows.len(),
        app.sort.label(),
        if app.sort == SortKey::Order {
            ""
        } else if app.descending {
            " desc"
        } else {
            " asc"
        },
        if app.filter.is_empty() {
            String::new()
        } else {
            format!(" [{}]", app.filter)
        }
    );
    let table = Table::new(table_rows, widths)
        .header(header)
        .block(Block::default().borders(Borders::ALL).title(title))
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .column_spacing(1);
    let mut state = TableState::default().with_selected(Some(app.selected));
    f.render_stateful_widget(table, area, &mut state);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn layer_detail(f: &mut Frame<'_>, app: &App, i: usize, area: Rect) {
    let l = &app.profile.layers[i];
    let total = l.cycles.0.max(1) as f64;
    let b = &l.breakdown;
    let part = |name: &str, c: u64| {
        Line::from(vec![
            Span::raw(format!(
                "  {name:<17}{:>12} {:>6.1}% ",
                group(c),
                100.0 * c as f64 / total
            )),
            Span::styled(bar(c as f64 / total, 12), Style::default().fg(BAR)),
        ])
    };
    let t = &l.traffic;
    let mut lines = vec![
        Line::from(Span::styled(
            format!("{} ({}), layer {}", l.name, l.op, l.index),
            Style::default().add_modifier(Modifier::BOLD),
        )),
        Line::from(format!(
            "cycles {}  instructions {}  MACs {}  c/MAC {}",
            group(l.cycles.0),
            group(l.instructions),
            group(l.macs),
            l.cycles_per_mac
                .map_or_else(|| "-".into(), |c| format!("{c:.2}"))
        )),
        Line::from(format!(
            "time {:.1} us{}",
            l.time_us,
            l.shape
                .as_ref()
                .map_or_else(String::new, |s| format!("  {}", s.describe()))
        )),
        Line::from(Span::styled("cycles by cause", Style::default().fg(ACCENT))),
        part("execute", b.execute.0),
        part("branch refill", b.branch.0),
        part("load/store stall", b.stall.0),
        part("memory wait", b.memory.0),
    ];
    if b.exception.0 + b.sleep.0 > 0 {
        lines.push(part("exception", b.exception.0));
        lines.push(part("sleep", b.sleep.0));
    }
    lines.push(Line::from(Span::styled(
        "memory traffic",
        Style::default().fg(ACCENT),
    )));
    lines.push(Line::from(format!(
        "  SRAM read {}  write {}  flash read {}  MMIO {}",
        kib(t.sram_read_bytes),
        kib(t.sram_write_bytes),
        kib(t.flash_read_bytes),
        kib(t.mmio_bytes)
    )));
    lines.push(Line::from(Span::styled(
        "energy (uJ)",
        Style::default().fg(ACCENT),
    )));
    lines.push(Line::from(match (l.energy_uj, &l.energy) {
        (Some(total), Some(e)) => format!(
            "  {total:.3} total: core {:.3}, flash {:.3}, SRAM {:.3}, sleep {:.3}{}",
            e.core_uj,
            e.flash_uj,
            e.sram_uj,
            e.sleep_uj,
            if e.devices_uj > 0.0 {
                format!(", devices {:.3}", e.devices_uj)
            } else {
                String::new()
            }
        ),
        _ => "  unknown: the board file gives no energy coefficients".to_owned(),
    }));
    if !l.devices.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("devices (engine: {})", l.engine.as_deref().unwrap_or("cpu")),
            Style::default().fg(ACCENT),
        )));
        for d in &l.devices {
            lines.push(Line::from(format!(
                "  {:<8} busy {:>10} {:>5.1}%  {} moved",
                d.device,
                group(d.busy_cycles.0),
                100.0 * d.busy_share,
                kib(d.bytes)
            )));
            let mut what: Vec<String> = Vec::new();
            if let Some(u) = d.mac_utilisation {
                what.push(format!(
                    "{} MACs at {:.0}% of peak",
                    group(d.macs),
                    100.0 * u
                ));
            }
            what.extend(d.work.clone());
            if !what.is_empty() {
                lines.push(Line::from(format!("  {:<8} {}", "", what.join(", "))));
            }
        }
    }
    if !l.hot_functions.is_empty() {
        lines.push(Line::from(Span::styled(
            "hot functions and loops",
            Style::default().fg(ACCENT),
        )));
        lines.push(Line::from(format!(
            "  {}",
            l.hot_functions
                .iter()
                .take(3)
                .map(|h| format!("{} {:.0}%", h.name, 100.0 * h.cycles as f64 / total))
                .collect::<Vec<_>>()
                .join(", ")
        )));
        for b in &l.hot_blocks {
            lines.push(Line::from(format!(
                "  {:<28} {:>9} runs {:>11} cycles  {}",
                b.location,
                group(b.executions),
                group(b.cycles),
                b.source
                    .as_deref()
                    .map_or("", |s| s.rsplit(['/', '\\']).next().unwrap_or(s))
            )));
        }
    }
    lines.push(Line::from(format!(
        "stack peak {}",
        l.stack_peak_bytes.map_or_else(
            || "not measured".into(),
            |s| format!("{} B", group(u64::from(s)))
        )
    )));
    let rect = centered(area, 76, lines.len() as u16 + 2);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Layer detail (Esc closes) ")
                .border_style(Style::default().fg(ACCENT)),
        ),
        rect,
    );
}

fn timeline(f: &mut Frame<'_>, app: &App, area: Rect) {
    let p = &app.profile;
    let total = p.totals.cycles.0.max(1) as f64;
    let (from, to) = (app.pan * total, (app.pan + app.zoom) * total);
    let hz = p.board.clock_hz.max(1) as f64;
    let ms = |c: f64| c / hz * 1e3;
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(5),
            Constraint::Min(5),
            Constraint::Length(4),
        ])
        .split(area);
    // The layers along simulated time: one cell per column, coloured by layer.
    let inner = parts[0].width.saturating_sub(2) as usize;
    let palette = [
        Color::Blue,
        Color::Green,
        Color::Magenta,
        Color::Yellow,
        Color::Cyan,
        Color::Red,
    ];
    let at = |col: usize| from + (to - from) * (col as f64 + 0.5) / inner.max(1) as f64;
    let layer_at = |c: f64| {
        p.layers.iter().position(|l| {
            (l.start_cycle.0 as f64) <= c && c < (l.start_cycle.0 + l.cycles.0) as f64
        })
    };
    let mut strip = Vec::new();
    let mut labels = Vec::new();
    let mut last = None;
    for col in 0..inner {
        let which = layer_at(at(col));
        let colour = which.map_or(Color::DarkGray, |i| palette[i % palette.len()]);
        strip.push(Span::styled("█", Style::default().fg(colour)));
        let label = if which != last {
            which.map_or(" ".into(), |i| p.layers[i].index.to_string())
        } else {
            String::new()
        };
        if !label.is_empty() && labels.len() <= col {
            labels.push(Span::raw(label));
        } else if labels.len() <= col {
            labels.push(Span::raw(" "));
        }
        last = which;
    }
    let selected = app.selected_layer().map(|i| &p.layers[i]);
    let caption = selected.map_or(String::new(), |l| {
        format!(
            "layer {} {} ({}): {:.3}..{:.3} ms",
            l.index,
            l.name,
            l.op,
            ms(l.start_cycle.0 as f64),
            ms((l.start_cycle.0 + l.cycles.0) as f64)
        )
    });
    f.render_widget(
        Paragraph::new(vec![
            Line::from(strip),
            Line::from(labels),
            Line::from(caption),
        ])
        .block(Block::default().borders(Borders::ALL).title(format!(
            " Timeline {:.3}..{:.3} ms | + - zoom, h l pan, j k layer ",
            ms(from),
            ms(to)
        ))),
        parts[0],
    );
    // SRAM in use.
    // A step line: each point's value holds until the next, so the window's edges take the
    // value in force there and the line spans the window at any zoom.
    let timeline = &p.memory.timeline;
    let value_at = |c: f64| {
        timeline
            .iter()
            .rev()
            .find(|&&(at, _)| at.0 as f64 <= c)
            .or(timeline.first())
            .map(|&(_, b)| f64::from(b) / 1024.0)
    };
    let mut points: Vec<(f64, f64)> = Vec::new();
    points.extend(value_at(from).map(|v| (ms(from), v)));
    for &(c, b) in timeline {
        let c = c.0 as f64;
        if c > from && c < to {
            if let Some(&(_, before)) = points.last() {
                points.push((ms(c), before));
            }
            points.push((ms(c), f64::from(b) / 1024.0));
        }
    }
    points.extend(value_at(to).map(|v| (ms(to), v)));
    let y_max = points.iter().map(|v| v.1).fold(0.0f64, f64::max).max(1.0) * 1.1;
    let dataset = Dataset::default()
        .name("SRAM KiB")
        .marker(symbols::Marker::Braille)
        .graph_type(GraphType::Line)
        .style(Style::default().fg(GOOD))
        .data(&points);
    let chart = Chart::new(vec![dataset])
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(" SRAM in use "),
        )
        .x_axis(Axis::default().bounds([ms(from), ms(to)]).labels(vec![
            Line::from(format!("{:.2} ms", ms(from))),
            Line::from(format!("{:.2} ms", ms(to))),
        ]))
        .y_axis(
            Axis::default()
                .bounds([0.0, y_max])
                .labels(vec![Line::from("0"), Line::from(format!("{y_max:.1} KiB"))]),
        );
    f.render_widget(chart, parts[1]);
    // Power per column: the energy rate of the layer running there.
    let width = parts[2].width.saturating_sub(2) as usize;
    let power: Vec<u64> = (0..width)
        .map(|col| {
            let c = from + (to - from) * (col as f64 + 0.5) / width.max(1) as f64;
            layer_at(c).map_or(0, |i| {
                let l = &p.layers[i];
                let us = l.cycles.0 as f64 / hz * 1e6;
                match l.energy_uj {
                    Some(e) if us > 0.0 => (e / us * 1e6) as u64,
                    _ => 0,
                }
            })
        })
        .collect();
    let peak = power.iter().copied().max().unwrap_or(0);
    f.render_widget(
        Sparkline::default()
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(if p.totals.energy_uj.is_some() {
                        format!(" power, up to {:.1} mW ", peak as f64 / 1e3)
                    } else {
                        " power: unknown (no energy coefficients for this board) ".to_owned()
                    }),
            )
            .data(&power)
            .style(Style::default().fg(Color::Yellow)),
        parts[2],
    );
}

/// The arena's plan as text: one row per buffer by offset, its lifetime drawn across one
/// column per layer (`█` live), the peak's column marked and the buffers live there (what sets
/// the arena's size) in the warning colour.
fn arena_plan(
    f: &mut Frame<'_>,
    p: &mcusim_profiler::Profile,
    plan: &mcusim_profiler::ArenaPlan,
    area: Rect,
) {
    let columns: Vec<u32> = p.layers.iter().map(|l| l.index).collect();
    let column = |i: u32| columns.iter().position(|&c| c == i);
    let peak = column(plan.peak_layer);
    let name_w = 18;
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{} B planned (lower bound {}), peak {} B at layer {}",
            group(u64::from(plan.arena_bytes)),
            group(u64::from(plan.lower_bound)),
            group(u64::from(plan.peak_bytes)),
            plan.peak_layer
        ),
        Style::default().fg(ACCENT),
    ))];
    let mut marker = format!("{:<name_w$} {:>7} {:>6} ", "buffer", "offset", "bytes");
    for c in 0..columns.len() {
        marker.push(if Some(c) == peak { '▼' } else { ' ' });
    }
    lines.push(Line::from(marker));
    for b in &plan.buffers {
        let (first, last) = (column(b.first_layer), column(b.last_layer));
        let mut life = String::new();
        for c in 0..columns.len() {
            let live = matches!((first, last), (Some(a), Some(z)) if a <= c && c <= z);
            life.push(if live { '█' } else { '·' });
        }
        let style = if b.at_peak {
            Style::default().fg(WARN)
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{:<name_w$} {:>7} {:>6} ",
                    mcusim_profiler::abbreviate(&b.name, name_w),
                    group(u64::from(b.offset)),
                    group(u64::from(b.size))
                ),
                style,
            ),
            Span::styled(life, style.fg(if b.at_peak { WARN } else { BAR })),
        ]));
    }
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Arena plan (red: live at the peak) "),
        ),
        area,
    );
}

fn memory(f: &mut Frame<'_>, app: &App, area: Rect) {
    let p = &app.profile;
    let m = &p.memory;
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
        .split(area);
    let mut lines = Vec::new();
    let flash = app.regions.iter().find(|r| r.kind == "flash");
    let ram = app
        .regions
        .iter()
        .find(|r| r.kind == "sram" || r.kind == "ram");
    let gauge = |label: &str, used: u64, size: Option<u64>| -> Line<'static> {
        match size {
            Some(size) if size > 0 => {
                let frac = used as f64 / size as f64;
                Line::from(vec![
                    Span::raw(format!("{label:<11}{:>10} / {:<10}", kib(used), kib(size))),
                    Span::styled(
                        bar(frac, 14),
                        Style::default().fg(if frac > 0.9 { WARN } else { BAR }),
                    ),
                    Span::raw(format!(" {:.1}%", 100.0 * frac)),
                ])
            }
            _ => Line::from(format!("{label:<11}{:>10}", kib(used))),
        }
    };
    lines.push(Line::from(Span::styled(
        "use against the board's regions",
        Style::default().fg(ACCENT),
    )));
    lines.push(gauge(
        "flash",
        u64::from(m.flash_bytes),
        flash.map(|r| r.size),
    ));
    lines.push(gauge(
        "peak SRAM",
        u64::from(m.peak_sram_bytes),
        ram.map(|r| r.size),
    ));
    lines.push(Line::from(format!(
        "  static {}  stack {}  heap {}",
        kib(u64::from(m.static_ram_bytes)),
        m.stack_peak_bytes
            .map_or_else(|| "?".into(), |b| kib(u64::from(b))),
        m.heap_peak_bytes
            .map_or_else(|| "-".into(), |b| kib(u64::from(b)))
    )));
    if let Some(a) = m.arena_bytes {
        lines.push(Line::from(format!(
            "  arena {} planned{}",
            kib(u64::from(a)),
            m.arena_touched_bytes
                .map_or_else(String::new, |b| format!(", {} written", kib(u64::from(b))))
        )));
    }
    lines.push(Line::from(format!(
        "  flash: code {}, constants {}",
        kib(u64::from(m.flash_code_bytes)),
        kib(u64::from(m.flash_data_bytes))
    )));
    lines.push(Line::from(format!(
        "  sections: {}",
        m.flash_sections
            .iter()
            .map(|(n, b)| format!("{n} {}", kib(u64::from(*b))))
            .collect::<Vec<_>>()
            .join(", ")
    )));
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "memory map",
        Style::default().fg(ACCENT),
    )));
    for r in &app.regions {
        lines.push(Line::from(format!(
            "  {:<10} {:<6} {:#010x} {:>10}",
            r.name,
            r.kind,
            r.base,
            kib(r.size)
        )));
    }
    if app.regions.is_empty() {
        lines.push(Line::from(format!(
            "  board {} is not known here",
            p.board.name
        )));
    }
    // With the arena's plan, the left column's lower part shows it.
    let left = match &m.plan {
        Some(plan) => {
            let parts = Layout::default()
                .direction(Direction::Vertical)
                .constraints([
                    Constraint::Length(lines.len() as u16 + 2),
                    Constraint::Min(6),
                ])
                .split(cols[0]);
            arena_plan(f, p, plan, parts[1]);
            parts[0]
        }
        None => cols[0],
    };
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" Memory ")),
        left,
    );
    let biggest = m.top_flash_symbols.first().map_or(1, |s| s.1).max(1);
    let mut cells: Vec<Vec<String>> = m
        .top_flash_symbols
        .iter()
        .map(|(name, bytes)| {
            vec![
                name.clone(),
                group(u64::from(*bytes)),
                bar(f64::from(*bytes) / f64::from(biggest), 8),
            ]
        })
        .collect();
    let header = ["symbol", "bytes", ""];
    let widths = fit_columns(
        &header,
        &mut cells,
        0,
        cols[1].width.saturating_sub(2) as usize,
    );
    let rows: Vec<Row<'_>> = cells.into_iter().map(Row::new).collect();
    let table = Table::new(rows, widths)
        .header(Row::new(header.to_vec()).style(Style::default().fg(ACCENT)))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Largest objects in flash "),
        )
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default().with_selected(Some(app.selected));
    f.render_stateful_widget(table, cols[1], &mut state);
}

fn functions(f: &mut Frame<'_>, app: &App, area: Rect) {
    let p = &app.profile;
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(5), Constraint::Length(8)])
        .split(area);
    let mut cells: Vec<Vec<String>> = app
        .function_rows()
        .iter()
        .map(|&i| {
            let fr = &p.functions[i];
            vec![
                fr.name.clone(),
                fr.calls.map_or_else(|| "-".into(), group),
                group(fr.cycles),
                format!("{:.1}%", 100.0 * fr.share),
                fr.inclusive_cycles.map_or_else(|| "-".into(), group),
            ]
        })
        .collect();
    let header = ["function", "calls", "self", "share", "inclusive"];
    let inner = area.width.saturating_sub(2) as usize;
    let widths = fit_columns(&header, &mut cells, 0, inner);
    let rows: Vec<Row<'_>> = cells.into_iter().map(Row::new).collect();
    let table = Table::new(rows, widths)
        .header(
            Row::new(header.to_vec())
                .style(Style::default().fg(ACCENT).add_modifier(Modifier::BOLD)),
        )
        .block(Block::default().borders(Borders::ALL).title(format!(
            " Functions by own cycles | / filter{} ",
            if app.filter.is_empty() {
                String::new()
            } else {
                format!(" [{}]", app.filter)
            }
        )))
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default().with_selected(Some(app.selected));
    f.render_stateful_widget(table, parts[0], &mut state);
    let mut hot: Vec<Vec<String>> = p
        .hot_blocks
        .iter()
        .map(|b| {
            // The source file without its folders: `mnn_support.h:280`.
            let source = b.source.as_deref().map_or(String::new(), |s| {
                s.rsplit(['/', '\\']).next().unwrap_or(s).to_owned()
            });
            vec![
                b.location.clone(),
                source,
                group(b.executions),
                group(b.cycles),
            ]
        })
        .collect();
    let hot_header = ["hot loop (block)", "source", "runs", "cycles"];
    let hot_widths = fit_columns(&hot_header, &mut hot, 0, inner);
    f.render_widget(
        Table::new(hot.into_iter().map(Row::new), hot_widths)
            .header(Row::new(hot_header.to_vec()).style(Style::default().fg(ACCENT)))
            .block(Block::default().borders(Borders::ALL).title(" Hot blocks ")),
        parts[1],
    );
}

fn code(f: &mut Frame<'_>, app: &App, area: Rect) {
    let Some(func) = app.profile.code.get(app.code_function) else {
        f.render_widget(
            Paragraph::new("No annotated code in this profile.")
                .block(Block::default().borders(Borders::ALL).title(" Code ")),
            area,
        );
        return;
    };
    let total: u64 = func
        .instructions
        .iter()
        .map(|i| i.cycles)
        .sum::<u64>()
        .max(1);
    let (mut cells, styles): (Vec<Vec<String>>, Vec<Style>) = super::code_rows(func)
        .into_iter()
        .map(|(at, source_row)| {
            let i = &func.instructions[at];
            if source_row {
                // `file.c:101  the line's text`, the file without its folders.
                let location = i.source.as_deref().unwrap_or_default();
                let short = location.rsplit(['/', '\\']).next().unwrap_or(location);
                let text = match &i.source_text {
                    Some(t) => format!("{short}  {t}"),
                    None => short.to_owned(),
                };
                return (
                    vec![
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        text,
                    ],
                    Style::default().fg(ACCENT),
                );
            }
            let share = i.cycles as f64 / total as f64;
            let style = if i.executions == 0 {
                Style::default().fg(Color::DarkGray)
            } else if share >= 0.10 {
                Style::default().fg(WARN).add_modifier(Modifier::BOLD)
            } else if share >= 0.02 {
                Style::default().fg(Color::Yellow)
            } else {
                Style::default()
            };
            (
                vec![
                    format!("{:08x}", i.address),
                    if i.executions == 0 {
                        String::new()
                    } else {
                        group(i.executions)
                    },
                    if i.cycles == 0 {
                        String::new()
                    } else {
                        group(i.cycles)
                    },
                    if i.cycles == 0 {
                        String::new()
                    } else {
                        format!("{:.1}%", 100.0 * share)
                    },
                    i.text.clone(),
                ],
                style,
            )
        })
        .unzip();
    let header = ["address", "runs", "cycles", "share", "instruction"];
    let widths = fit_columns(
        &header,
        &mut cells,
        4,
        area.width.saturating_sub(2) as usize,
    );
    let rows: Vec<Row<'_>> = cells
        .into_iter()
        .zip(styles)
        .map(|(c, style)| Row::new(c).style(style))
        .collect();
    let table = Table::new(rows, widths)
        .header(
            Row::new(header.to_vec())
                .style(Style::default().fg(ACCENT).add_modifier(Modifier::BOLD)),
        )
        .block(Block::default().borders(Borders::ALL).title(format!(
            " Code: {} ({}/{}) | n p next/previous function, j k move ",
            func.name,
            app.code_function + 1,
            app.profile.code.len()
        )))
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .column_spacing(1);
    let mut state = TableState::default().with_selected(Some(app.selected));
    f.render_stateful_widget(table, area, &mut state);
}

fn compare(f: &mut Frame<'_>, app: &App, area: Rect) {
    let Some((base, d)) = &app.compare else {
        f.render_widget(
            Paragraph::new(
                "No second profile: open one with `mcusim tui CURRENT.json --compare BASELINE.json`.",
            )
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(" Compare ")),
            area,
        );
        return;
    };
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Length(9), Constraint::Min(4)])
        .split(area);
    let fmt = |v: f64, m: Metric| {
        if m == Metric::Energy {
            format!("{v:.2}")
        } else {
            group(v.round().max(0.0) as u64)
        }
    };
    let signed = |v: f64, m: Metric| {
        let s = fmt(v.abs(), m);
        if v > 1e-9 {
            format!("+{s}")
        } else if v < -1e-9 {
            format!("-{s}")
        } else {
            "0".into()
        }
    };
    let colour = |v: f64| {
        if v > 1e-9 {
            WARN
        } else if v < -1e-9 {
            GOOD
        } else {
            Color::Reset
        }
    };
    let (mut total_cells, total_styles): (Vec<Vec<String>>, Vec<Style>) = d
        .totals
        .iter()
        .map(|x| {
            (
                vec![
                    x.metric.name().to_owned(),
                    fmt(x.baseline, x.metric),
                    fmt(x.current, x.metric),
                    signed(x.delta, x.metric),
                    x.percent
                        .map_or_else(|| "-".into(), |p| format!("{p:+.2}%")),
                ],
                Style::default().fg(colour(x.delta)),
            )
        })
        .unzip();
    let inner = area.width.saturating_sub(2) as usize;
    let total_header = ["total", "baseline", "current", "delta", "%"];
    let total_widths = fit_columns(&total_header, &mut total_cells, 0, inner);
    let totals: Vec<Row<'_>> = total_cells
        .into_iter()
        .zip(total_styles)
        .map(|(c, style)| Row::new(c).style(style))
        .collect();
    f.render_widget(
        Table::new(totals, total_widths)
            .header(
                Row::new(total_header.to_vec())
                    .style(Style::default().fg(ACCENT).add_modifier(Modifier::BOLD)),
            )
            .block(Block::default().borders(Borders::ALL).title(format!(
                " Compare: {} (baseline) -> {} ",
                base.firmware.file, app.profile.firmware.file
            ))),
        parts[0],
    );
    let (mut cells, styles): (Vec<Vec<String>>, Vec<Style>) = d
        .layers
        .iter()
        .map(|l| {
            let c = l.deltas.iter().find(|x| x.metric == Metric::Cycles);
            let change = match l.change {
                Change::Same => "",
                Change::Changed => "changed",
                Change::Added => "added",
                Change::Removed => "removed",
                Change::Renamed => "renamed",
            };
            (
                vec![
                    l.name.clone(),
                    l.op.clone(),
                    c.map_or_else(String::new, |x| signed(x.delta, Metric::Cycles)),
                    c.and_then(|x| x.percent)
                        .map_or_else(|| "-".into(), |p| format!("{p:+.2}%")),
                    change.to_owned(),
                ],
                Style::default().fg(colour(c.map_or(0.0, |x| x.delta))),
            )
        })
        .unzip();
    let header = ["layer", "op", "cycles", "%", ""];
    let widths = fit_columns(&header, &mut cells, 0, inner);
    let rows: Vec<Row<'_>> = cells
        .into_iter()
        .zip(styles)
        .map(|(c, style)| Row::new(c).style(style))
        .collect();
    let table = Table::new(rows, widths)
        .header(
            Row::new(header.to_vec())
                .style(Style::default().fg(ACCENT).add_modifier(Modifier::BOLD)),
        )
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Layers by impact "),
        )
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default().with_selected(Some(app.selected));
    f.render_stateful_widget(table, parts[1], &mut state);
}

fn help(f: &mut Frame<'_>, area: Rect) {
    let keys = [
        ("1-6, Tab, Shift-Tab", "switch view"),
        ("j k, Down Up", "move"),
        ("PgDn PgUp, g G", "page, first, last"),
        ("Enter", "layer detail; function's code"),
        ("n p", "next, previous function (Code)"),
        ("Esc", "close detail, clear filter"),
        ("s, r", "sort key, reverse (Layers)"),
        ("/", "filter layers or functions"),
        ("+ -, h l", "zoom, pan (Timeline)"),
        ("?", "this help"),
        ("mouse", "click a tab, wheel to move"),
        ("q, Ctrl-C", "quit"),
    ];
    let lines: Vec<Line<'_>> = keys
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<20}"), Style::default().fg(ACCENT)),
                Span::raw(*what),
            ])
        })
        .collect();
    // Wide enough for the longest line (key column, text, borders), within the screen.
    let width = keys
        .iter()
        .map(|(_, what)| 21 + what.chars().count() as u16 + 3)
        .max()
        .unwrap_or(50);
    let rect = centered(area, width, lines.len() as u16 + 2);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Keys (any key closes) ")
                .border_style(Style::default().fg(ACCENT)),
        ),
        rect,
    );
}
