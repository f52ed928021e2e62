//! The live view while a long simulation runs: instructions and cycles so far, simulated time,
//! the layer running; `q` stops the run (its profile so far is still shown).

use crate::pipeline::LiveStatus;
use mcusim_profiler::group;
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Gauge, Paragraph};

/// The layer's index at the start of its description (`3 conv_3/out (CONV_2D)`).
fn layer_index(layer: &str) -> Option<usize> {
    layer.split_whitespace().next()?.parse().ok()
}

/// Draws the live view: `title` says what runs where; `status` is `None` before the run.
pub fn draw_live(f: &mut Frame<'_>, title: &str, status: Option<&LiveStatus>) {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(7),
            Constraint::Length(3),
            Constraint::Min(0),
        ])
        .split(f.area());
    // Every line fits inside the box: long names are abbreviated in the middle, never cut.
    let inner = usize::from(f.area().width.saturating_sub(2));
    let fit = |s: String| Line::from(mcusim_profiler::abbreviate(&s, inner));
    let mut lines = vec![fit(title.to_owned())];
    match status {
        None => lines.push(Line::from("building the firmware and starting the run ...")),
        Some(s) => {
            lines.push(Line::from(format!(
                "instructions {}   cycles {}",
                group(s.instructions),
                group(s.cycles)
            )));
            lines.push(Line::from(format!(
                "simulated {:.3} ms",
                s.cycles as f64 / s.clock_hz.max(1) as f64 * 1e3
            )));
            lines.push(fit(format!(
                "running: {}",
                s.layer.as_deref().unwrap_or("start-up or between layers")
            )));
        }
    }
    lines.push(fit(
        "q stops the run (what ran so far is still shown)".to_owned()
    ));
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" mcusim: running ")
                .border_style(Style::default().fg(Color::Cyan)),
        ),
        rows[0],
    );
    let layers = status.and_then(|s| {
        let total = s.layers_total?;
        let at = s.layer.as_deref().and_then(layer_index)?;
        Some((at, total))
    });
    if let Some((at, total)) = layers {
        let ratio = ((at + 1) as f64 / total.max(1) as f64).clamp(0.0, 1.0);
        f.render_widget(
            Gauge::default()
                .block(Block::default().borders(Borders::ALL).title(" layers "))
                .gauge_style(
                    Style::default()
                        .fg(Color::Blue)
                        .add_modifier(Modifier::BOLD),
                )
                .label(format!("layer {} of {total}", at + 1))
                .ratio(ratio),
            rows[1],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    #[test]
    fn the_live_view_shows_the_run_so_far() {
        let status = LiveStatus {
            instructions: 2_000_000,
            cycles: 2_880_000,
            clock_hz: 120_000_000,
            layer: Some("2 conv_3/out (CONV_2D)".into()),
            layers_total: Some(13),
        };
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| draw_live(f, "kws.tflite on nucleo-l4r5zi", Some(&status)))
            .unwrap();
        let buf = t.backend().buffer().clone();
        let text: String = (0..24)
            .map(|y| {
                (0..80)
                    .map(|x| buf[(x, y)].symbol().to_owned())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(text.contains("instructions 2,000,000"), "{text}");
        assert!(text.contains("simulated 24.000 ms"), "{text}");
        assert!(text.contains("running: 2 conv_3/out (CONV_2D)"), "{text}");
        assert!(text.contains("layer 3 of 13"), "{text}");
        t.draw(|f| draw_live(f, "x", None)).unwrap();
    }
}
