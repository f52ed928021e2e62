//! `mcusim tui`: a profile explored in the terminal (ratatui on crossterm).
//!
//! The app is plain state ([`App`]) changed by key events ([`App::key`]) and drawn by
//! [`draw`]; the event source is a trait, so tests drive the whole app with scripted keys on
//! ratatui's test backend, and the binary drives it from the terminal. The terminal is
//! restored on exit, on error and on panic.

pub mod live;
mod views;

use crossterm::event::{
    self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};
use mcusim_profiler::Profile;
use mcusim_profiler::diff::{self, Diff, Thresholds};
use ratatui::Terminal;
use ratatui::backend::Backend;

pub use views::draw;

/// The views, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Layers,
    Timeline,
    Memory,
    Functions,
    Code,
    Compare,
}

impl View {
    pub const ALL: [View; 6] = [
        View::Layers,
        View::Timeline,
        View::Memory,
        View::Functions,
        View::Code,
        View::Compare,
    ];

    /// The view whose tab is at column `x` of the tab bar, as [`draw`] lays it out: each
    /// `N Title` padded by a space on either side, tabs divided by one `|`.
    pub fn tab_at(x: u16) -> Option<View> {
        let mut start = 0;
        for (i, v) in View::ALL.iter().enumerate() {
            let width = format!("{} {}", i + 1, v.title()).chars().count() as u16 + 2;
            if (start..start + width).contains(&x) {
                return Some(*v);
            }
            start += width + 1;
        }
        None
    }

    pub fn title(self) -> &'static str {
        match self {
            View::Layers => "Layers",
            View::Timeline => "Timeline",
            View::Memory => "Memory",
            View::Functions => "Functions",
            View::Code => "Code",
            View::Compare => "Compare",
        }
    }
}

/// What the layer table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Execution order.
    Order,
    Cycles,
    CyclesPerMac,
    Memory,
    Energy,
}

impl SortKey {
    fn next(self) -> SortKey {
        match self {
            SortKey::Order => SortKey::Cycles,
            SortKey::Cycles => SortKey::CyclesPerMac,
            SortKey::CyclesPerMac => SortKey::Memory,
            SortKey::Memory => SortKey::Energy,
            SortKey::Energy => SortKey::Order,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Order => "order",
            SortKey::Cycles => "cycles",
            SortKey::CyclesPerMac => "cycles/MAC",
            SortKey::Memory => "memory traffic",
            SortKey::Energy => "energy",
        }
    }
}

/// A board memory region, for the memory view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub name: String,
    pub kind: String,
    pub base: u64,
    pub size: u64,
}

/// The whole state of the app.
pub struct App {
    pub profile: Profile,
    /// A second profile and the diff against it (`--compare`).
    pub compare: Option<(Profile, Diff)>,
    /// The board's memory regions, when the board is known.
    pub regions: Vec<Region>,
    pub view: View,
    /// The selected row of the current list (in display order).
    pub selected: usize,
    pub sort: SortKey,
    pub descending: bool,
    /// The layer detail is open.
    pub detail: bool,
    pub help: bool,
    /// The row filter (layers and functions), and whether it is being typed.
    pub filter: String,
    pub filtering: bool,
    /// Timeline: the visible share of the run (1 = all) and where it starts (0..1).
    pub zoom: f64,
    pub pan: f64,
    /// Code: which annotated function is shown.
    pub code_function: usize,
    pub quit: bool,
}

impl App {
    pub fn new(profile: Profile, compare: Option<Profile>, regions: Vec<Region>) -> App {
        // `--compare OTHER`: OTHER is the baseline, the opened profile the current one.
        let compare = compare.map(|base| {
            let d = diff::diff(&base, &profile, &Thresholds::default());
            (base, d)
        });
        App {
            profile,
            compare,
            regions,
            view: View::Layers,
            selected: 0,
            sort: SortKey::Order,
            descending: true,
            detail: false,
            help: false,
            filter: String::new(),
            filtering: false,
            zoom: 1.0,
            pan: 0.0,
            code_function: 0,
            quit: false,
        }
    }

    /// Indices of the layers shown, in display order (filtered, sorted).
    pub fn layer_rows(&self) -> Vec<usize> {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<usize> = (0..self.profile.layers.len())
            .filter(|&i| {
                let l = &self.profile.layers[i];
                needle.is_empty()
                    || l.name.to_lowercase().contains(&needle)
                    || l.op.to_lowercase().contains(&needle)
            })
            .collect();
        let layers = &self.profile.layers;
        let key = |i: &usize| -> f64 {
            let l = &layers[*i];
            match self.sort {
                SortKey::Order => *i as f64,
                SortKey::Cycles => l.cycles.0 as f64,
                SortKey::CyclesPerMac => l.cycles_per_mac.unwrap_or(0.0),
                SortKey::Memory => {
                    let t = &l.traffic;
                    (t.sram_read_bytes + t.sram_write_bytes + t.flash_read_bytes) as f64
                }
                SortKey::Energy => l.energy_uj.unwrap_or(0.0),
            }
        };
        if self.sort != SortKey::Order {
            rows.sort_by(|a, b| {
                let o = key(a).total_cmp(&key(b));
                if self.descending { o.reverse() } else { o }.then(a.cmp(b))
            });
        }
        rows
    }

    /// Indices of the functions shown (filtered).
    pub fn function_rows(&self) -> Vec<usize> {
        let needle = self.filter.to_lowercase();
        (0..self.profile.functions.len())
            .filter(|&i| {
                needle.is_empty()
                    || self.profile.functions[i]
                        .name
                        .to_lowercase()
                        .contains(&needle)
            })
            .collect()
    }

    fn row_count(&self) -> usize {
        match self.view {
            View::Layers | View::Timeline => self.layer_rows().len(),
            View::Functions => self.function_rows().len(),
            View::Compare => self.compare.as_ref().map_or(0, |(_, d)| d.layers.len()),
            View::Memory => self.profile.memory.top_flash_symbols.len(),
            View::Code => self
                .profile
                .code
                .get(self.code_function)
                .map_or(0, |c| code_rows(c).len()),
        }
    }

    /// The selected layer, if the view lists layers.
    pub fn selected_layer(&self) -> Option<usize> {
        self.layer_rows().get(self.selected).copied()
    }

    fn switch(&mut self, view: View) {
        if self.view != view {
            self.view = view;
            // The code view opens at its function's hottest instruction.
            self.selected = match view {
                View::Code => self.profile.code.get(self.code_function).map_or(0, hottest),
                _ => 0,
            };
            self.detail = false;
        }
    }

    fn step_view(&mut self, forward: bool) {
        let i = View::ALL.iter().position(|v| *v == self.view).unwrap_or(0);
        let n = View::ALL.len();
        let next = if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        };
        self.switch(View::ALL[next]);
    }

    fn move_by(&mut self, delta: isize) {
        let n = self.row_count();
        if n == 0 {
            self.selected = 0;
            return;
        }
        let at = self.selected as isize + delta;
        self.selected = at.clamp(0, n as isize - 1) as usize;
    }

    /// Handles one key.
    pub fn key(&mut self, key: KeyEvent) {
        self.apply(key);
        self.follow_selection();
    }

    fn apply(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        if self.filtering {
            match key.code {
                KeyCode::Enter => self.filtering = false,
                KeyCode::Esc => {
                    self.filtering = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            self.selected = 0;
            return;
        }
        if self.help {
            // Any key closes the help; `q` still quits.
            self.help = false;
            if key.code == KeyCode::Char('q') {
                self.quit = true;
            }
            return;
        }
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Esc => {
                if self.detail {
                    self.detail = false;
                } else if !self.filter.is_empty() {
                    self.filter.clear();
                    self.selected = 0;
                }
            }
            KeyCode::Char('?') => self.help = true,
            KeyCode::Tab => self.step_view(true),
            KeyCode::BackTab => self.step_view(false),
            KeyCode::Char(c @ '1'..='6') => {
                self.switch(View::ALL[c as usize - '1' as usize]);
            }
            KeyCode::Down | KeyCode::Char('j') => self.move_by(1),
            KeyCode::Up | KeyCode::Char('k') => self.move_by(-1),
            KeyCode::PageDown => self.move_by(10),
            KeyCode::PageUp => self.move_by(-10),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.move_by(isize::MAX / 2),
            KeyCode::Enter if self.view == View::Layers => {
                self.detail = self.selected_layer().is_some();
            }
            // A function's annotated code, if it is among the annotated ones.
            KeyCode::Enter if self.view == View::Functions => {
                let name = self
                    .function_rows()
                    .get(self.selected)
                    .map(|&i| self.profile.functions[i].name.clone());
                if let Some(i) =
                    name.and_then(|n| self.profile.code.iter().position(|c| c.name == n))
                {
                    self.switch(View::Code);
                    self.code_function = i;
                    self.selected = hottest(&self.profile.code[i]);
                }
            }
            KeyCode::Char(']' | 'n' | '[' | 'p')
                if self.view == View::Code && !self.profile.code.is_empty() =>
            {
                let n = self.profile.code.len();
                let forward = matches!(key.code, KeyCode::Char(']' | 'n'));
                self.code_function = if forward {
                    (self.code_function + 1) % n
                } else {
                    (self.code_function + n - 1) % n
                };
                self.selected = hottest(&self.profile.code[self.code_function]);
            }
            KeyCode::Char('s') if self.view == View::Layers => {
                self.sort = self.sort.next();
                self.selected = 0;
            }
            KeyCode::Char('r') if self.view == View::Layers => {
                self.descending = !self.descending;
                self.selected = 0;
            }
            KeyCode::Char('/') if matches!(self.view, View::Layers | View::Functions) => {
                self.filtering = true;
                self.filter.clear();
                self.selected = 0;
            }
            KeyCode::Char('+') | KeyCode::Char('=') if self.view == View::Timeline => {
                self.zoom = (self.zoom / 2.0).max(1.0 / 64.0);
                self.center_on_selected();
            }
            KeyCode::Char('-') if self.view == View::Timeline => {
                self.zoom = (self.zoom * 2.0).min(1.0);
                self.center_on_selected();
            }
            KeyCode::Left | KeyCode::Char('h') if self.view == View::Timeline => {
                self.pan = (self.pan - self.zoom / 4.0).max(0.0);
            }
            KeyCode::Right | KeyCode::Char('l') if self.view == View::Timeline => {
                self.pan = (self.pan + self.zoom / 4.0).min(1.0 - self.zoom);
            }
            _ => {}
        }
    }
}

impl App {
    /// The selected layer's span as shares of the run, if a layer is selected.
    fn selected_span(&self) -> Option<(f64, f64)> {
        let l = &self.profile.layers[self.selected_layer()?];
        let total = self.profile.totals.cycles.0.max(1) as f64;
        Some((
            l.start_cycle.0 as f64 / total,
            (l.start_cycle.0 + l.cycles.0) as f64 / total,
        ))
    }

    /// Zooming keeps the selected layer in the middle of the window.
    fn center_on_selected(&mut self) {
        let mid = self
            .selected_span()
            .map_or(self.pan + self.zoom / 2.0, |(a, b)| (a + b) / 2.0);
        self.pan = (mid - self.zoom / 2.0).clamp(0.0, (1.0 - self.zoom).max(0.0));
    }

    /// Moving to a layer outside the window pans to it.
    pub fn follow_selection(&mut self) {
        if self.view != View::Timeline {
            return;
        }
        if let Some((a, b)) = self.selected_span()
            && (b < self.pan || a > self.pan + self.zoom)
        {
            self.center_on_selected();
        }
    }
}

/// The row of a function's costliest instruction.
/// The Code view's row of the hottest instruction (rows: each source line, where the profile
/// has them, then its instructions).
fn hottest(f: &mcusim_profiler::profile::AnnotatedFunction) -> usize {
    let i = f
        .instructions
        .iter()
        .enumerate()
        .max_by_key(|(i, x)| (x.cycles, std::cmp::Reverse(*i)))
        .map_or(0, |(i, _)| i);
    code_rows(f)
        .iter()
        .position(|&(at, source)| at == i && !source)
        .unwrap_or(0)
}

/// The Code view's rows of `f`: (instruction index, whether the row is the source line that
/// instruction starts), a source line's row before each run of its instructions.
pub fn code_rows(f: &mcusim_profiler::profile::AnnotatedFunction) -> Vec<(usize, bool)> {
    let mut rows = Vec::with_capacity(f.instructions.len());
    for (i, x) in f.instructions.iter().enumerate() {
        if x.source.is_some() {
            rows.push((i, true));
        }
        rows.push((i, false));
    }
    rows
}

/// Where key events come from.
pub trait Events {
    /// The next key, or `None` when there are no more (the app then ends).
    fn next_key(&mut self) -> std::io::Result<Option<KeyEvent>>;
}

/// Keys from the terminal.
pub struct TerminalEvents;

impl Events for TerminalEvents {
    fn next_key(&mut self) -> std::io::Result<Option<KeyEvent>> {
        let key = match event::read()? {
            Event::Key(k) => Some(k),
            Event::Mouse(m) => mouse_key(m),
            _ => None,
        };
        // Resizes and other events: a key that does nothing, so the app redraws.
        Ok(Some(key.unwrap_or(KeyEvent::new(
            KeyCode::Null,
            KeyModifiers::NONE,
        ))))
    }
}

/// The key a mouse event stands for: the wheel moves the selection (pans the timeline), a
/// click on the tab bar opens that view.
pub fn mouse_key(m: MouseEvent) -> Option<KeyEvent> {
    let code = match m.kind {
        MouseEventKind::ScrollDown => KeyCode::Down,
        MouseEventKind::ScrollUp => KeyCode::Up,
        MouseEventKind::Down(MouseButton::Left) if m.row == 0 => {
            let i = View::ALL
                .iter()
                .position(|v| Some(*v) == View::tab_at(m.column))?;
            KeyCode::Char(char::from(b'1' + i as u8))
        }
        _ => return None,
    };
    Some(KeyEvent::new(code, KeyModifiers::NONE))
}

/// Scripted keys, for tests.
#[cfg(test)]
pub struct ScriptedEvents(pub std::collections::VecDeque<KeyEvent>);

#[cfg(test)]
impl ScriptedEvents {
    /// Keys from a compact script: each char is a key, `\n` Enter, `\t` Tab, `\x1b` Esc.
    pub fn from_script(script: &str) -> ScriptedEvents {
        ScriptedEvents(
            script
                .chars()
                .map(|c| {
                    let code = match c {
                        '\n' => KeyCode::Enter,
                        '\t' => KeyCode::Tab,
                        '\x1b' => KeyCode::Esc,
                        c => KeyCode::Char(c),
                    };
                    KeyEvent::new(code, KeyModifiers::NONE)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
impl Events for ScriptedEvents {
    fn next_key(&mut self) -> std::io::Result<Option<KeyEvent>> {
        Ok(self.0.pop_front())
    }
}

/// Runs the app until it quits or the events end.
pub fn run_app<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    events: &mut dyn Events,
) -> std::io::Result<()> {
    while !app.quit {
        terminal
            .draw(|f| draw(f, app))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        match events.next_key()? {
            Some(k) => app.key(k),
            None => break,
        }
    }
    Ok(())
}

type CrosstermTerminal = Terminal<ratatui::backend::CrosstermBackend<std::io::Stdout>>;

/// Runs `body` in the real terminal: raw mode and the alternate screen, both undone on exit,
/// on error and on panic.
pub fn in_terminal<T>(
    body: impl FnOnce(&mut CrosstermTerminal) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    use crossterm::terminal::{
        EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
    };
    fn restore() {
        let _ = disable_raw_mode();
        let _ = crossterm::execute!(
            std::io::stdout(),
            crossterm::event::DisableMouseCapture,
            LeaveAlternateScreen,
            crossterm::cursor::Show
        );
    }
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        default_hook(info);
    }));
    enable_raw_mode()?;
    let result = (|| -> anyhow::Result<T> {
        // The mouse: wheel and tab clicks (Shift+drag still selects text in most terminals).
        crossterm::execute!(
            std::io::stdout(),
            EnterAlternateScreen,
            crossterm::event::EnableMouseCapture
        )?;
        let backend = ratatui::backend::CrosstermBackend::new(std::io::stdout());
        let mut terminal = Terminal::new(backend)?;
        terminal.clear()?;
        body(&mut terminal)
    })();
    restore();
    let _ = std::panic::take_hook();
    result
}

/// Runs the app in the real terminal.
pub fn run_in_terminal(app: &mut App) -> anyhow::Result<()> {
    in_terminal(|terminal| Ok(run_app(terminal, app, &mut TerminalEvents)?))
}

/// Whether a key waiting in the terminal asks to stop (`q`, Esc, Ctrl-C); does not block.
pub fn stop_requested() -> bool {
    while event::poll(std::time::Duration::ZERO).unwrap_or(false) {
        if let Ok(Event::Key(k)) = event::read()
            && k.kind != KeyEventKind::Release
            && (matches!(k.code, KeyCode::Char('q') | KeyCode::Esc)
                || (k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL)))
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests;
