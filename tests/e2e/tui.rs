//! `mcusim tui` in a real terminal: the binary driven in tmux (`send-keys`, `capture-pane`) at
//! 80x24 and 200x60, its numbers checked against the JSON report, and `q` leaving a shell.

use crate::support::mcusim;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits until the screen shows `text` (up to 20 s).
    fn wait_for(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "waited for {text:?}; the screen shows:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend(keys);
        self.run(&args);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn session(report: &Path, w: u16, h: u16) -> Tmux {
    let tmux = Tmux {
        socket: format!("mcusim-test-{}-{w}", std::process::id()),
    };
    let bin = env!("CARGO_BIN_EXE_mcusim");
    let command = format!(
        "{bin} tui {} --compare {}; echo TUI-EXIT=$?; sleep 60",
        report.display(),
        report.display()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        &w.to_string(),
        "-y",
        &h.to_string(),
        &command,
    ]);
    tmux
}

#[test]
fn the_tui_shows_the_kws_profile_in_tmux_and_quits_cleanly() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: tmux is not installed (apt-get install tmux)");
        return;
    }
    let dir = root().join("target/tmp/tui");
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("kws.json");
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let r = mcusim([
        "profile".as_ref(),
        model.as_os_str(),
        "-q".as_ref(),
        "--json".as_ref(),
        report.as_os_str(),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let layers = p["layers"].as_array().unwrap();
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        let tmux = session(&report, w, h);
        let s = tmux.wait_for("Layers (13)");
        // The table's numbers are the report's.
        for l in layers.iter().take(8) {
            let cycles = group(l["cycles"].as_u64().unwrap());
            assert!(s.contains(&cycles), "{cycles} at {w}x{h}:\n{s}");
        }
        // Detail of the third layer, then every view.
        tmux.keys(&["j", "j", "Enter"]);
        let s = tmux.wait_for("Layer detail");
        assert!(s.contains(layers[2]["name"].as_str().unwrap()), "{s}");
        tmux.keys(&["Escape", "s", "r", "/", "c", "o", "n", "v", "Enter"]);
        tmux.wait_for("[conv]");
        for (key, heading) in [
            ("2", "SRAM in use"),
            ("3", "Largest objects in flash"),
            ("4", "Hot blocks"),
            ("5", "Code: "),
            ("6", "Layers by impact"),
            ("?", "Keys (any key closes)"),
        ] {
            tmux.keys(&[key]);
            let s = tmux.wait_for(heading);
            match key {
                // The arena plan, its peak's buffers among its rows.
                "3" if h >= 60 => {
                    assert!(s.contains("Arena plan"), "{s}");
                    assert!(s.contains("peak 19,776 B at layer 1"), "{s}");
                }
                // The hottest function's source lines from the DWARF line table, their text
                // read from the kernel library's sources.
                "5" => {
                    // A row `mnn_support.h:280  if (px < x_end) {`: file:line, then the text
                    // (the screen read again while the view is still being drawn).
                    let source_row = |s: &str| {
                        s.lines().any(|l| {
                            l.split(['.', ' ', '│'])
                                .any(|w| w.starts_with("c:") || w.starts_with("h:"))
                                && (l.contains(';') || l.contains('{') || l.contains('('))
                        })
                    };
                    let mut s = s;
                    for _ in 0..30 {
                        if source_row(&s) {
                            break;
                        }
                        std::thread::sleep(std::time::Duration::from_millis(100));
                        s = tmux.screen();
                    }
                    assert!(source_row(&s), "no source line: {s}");
                }
                _ => {}
            }
        }
        tmux.keys(&["Escape", "2", "+", "+", "l", "h", "-", "q"]);
        let s = tmux.wait_for("TUI-EXIT=0");
        // The alternate screen is gone: only the shell's line remains.
        assert!(!s.contains("Layers"), "{s}");
    }
}

/// `profile --tui`: the live view while the firmware builds and runs, then the full result.
#[test]
fn profile_tui_shows_the_run_live_then_the_result() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: tmux is not installed (apt-get install tmux)");
        return;
    }
    let tmux = Tmux {
        socket: format!("mcusim-test-{}-live", std::process::id()),
    };
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let command = format!(
        "{} profile {} --reference-kernels --tui; echo TUI-EXIT=$?; sleep 60",
        env!("CARGO_BIN_EXE_mcusim"),
        model.display()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "80",
        "-y",
        "24",
        &command,
    ]);
    // The live view comes first (building takes a second or two), then the result.
    tmux.wait_for("mcusim: running");
    tmux.wait_for("Layers (13)");
    tmux.keys(&["5"]);
    tmux.wait_for("Code: ");
    tmux.keys(&["q"]);
    let s = tmux.wait_for("TUI-EXIT=0");
    assert!(!s.contains("Layers"), "{s}");
}
