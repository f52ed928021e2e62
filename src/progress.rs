//! The progress line on standard error during the long steps of a command (building the
//! firmware, running it), drawn only when standard error is a terminal: logs and pipes get the
//! summary lines and nothing that redraws itself.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal as _;
use std::time::Duration;

/// A spinner with the step's description and its elapsed time, cleared when dropped.
pub struct Spinner(ProgressBar);

impl Spinner {
    /// A spinner, if standard error is a terminal.
    pub fn new() -> Option<Spinner> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(100));
        Some(Spinner(bar))
    }

    /// The step now running.
    pub fn step(&self, message: String) {
        self.0.set_message(message);
    }

    /// A line that stays, printed above the spinner.
    pub fn say(&self, line: &str) {
        self.0.println(line);
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Prints `line` as a lasting progress line: above the spinner if there is one.
pub fn say(spinner: Option<&Spinner>, line: &str) {
    match spinner {
        Some(s) => s.say(line),
        None => eprintln!("{line}"),
    }
}
