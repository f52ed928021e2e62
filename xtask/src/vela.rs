//! `cargo xtask vela`: mcusim's NPU against Arm's Vela, layer by layer. Installs
//! `ethos-u-vela` (PyPI) in a virtualenv under `target/`, compiles each shared MLPerf Tiny
//! model with Vela (`--verbose-performance`, `Ethos_U55_High_End_Embedded`, `Shared_Sram`)
//! and profiles it on `corstone-300` with the same accelerator size, and prints both per
//! layer: Vela's estimated Op Cycles and the cycles mcusim's NPU was busy in that layer.

use super::{Result, root};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Vela release compared with.
const VELA: &str = "ethos-u-vela==5.2.0";
const SYSTEM: &str = "Ethos_U55_High_End_Embedded";
const MEMORY: &str = "Shared_Sram";

fn venv() -> Result<PathBuf> {
    let dir = root().join("target/vela-venv");
    let vela = dir.join("bin/vela");
    if vela.is_file() {
        return Ok(vela);
    }
    eprintln!("xtask: installing {VELA} into {}", dir.display());
    let ok = |c: &mut Command, what: &str| -> Result {
        let s = c.status().map_err(|e| format!("{what}: {e}"))?;
        s.success()
            .then_some(())
            .ok_or_else(|| format!("{what} failed"))
    };
    ok(
        Command::new("python3").args(["-m", "venv"]).arg(&dir),
        "python3 -m venv (Debian: python3-venv)",
    )?;
    ok(
        Command::new(dir.join("bin/pip")).args(["install", "--quiet", VELA]),
        "pip install ethos-u-vela",
    )?;
    Ok(vela)
}

/// Vela's per-operator rows: (name, original operator, op cycles), in its order.
fn vela_rows(text: &str) -> Vec<(String, String, u64)> {
    let mut lines = text.lines();
    let mut rows = Vec::new();
    while let Some(l) = lines.next() {
        if !l.starts_with("Original Operator") && !l.starts_with("TFLite_operator") {
            continue;
        }
        let header = l;
        let Some(dashes) = lines.next() else { break };
        // Column spans from the dashes under the header.
        let mut spans = Vec::new();
        let mut start = None;
        for (i, ch) in dashes.char_indices().chain([(dashes.len(), ' ')]) {
            match (ch, start) {
                ('-', None) => start = Some(i),
                (' ', Some(s)) => {
                    spans.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        let col = |row: &str, name: &str| -> Option<String> {
            let i = spans.iter().position(|&(s, e)| {
                header
                    .get(s..e.min(header.len()))
                    .is_some_and(|h| h.trim() == name)
            })?;
            let (s, e) = spans[i];
            let e = if i + 1 == spans.len() { row.len() } else { e };
            row.get(s..e.min(row.len())).map(|v| v.trim().to_owned())
        };
        for row in lines.by_ref() {
            if row.trim().is_empty() {
                break;
            }
            let (Some(name), Some(op), Some(cycles)) = (
                col(row, "Name"),
                col(row, "Original Operator").or_else(|| col(row, "TFLite_operator")),
                col(row, "Op Cycles").and_then(|c| c.parse::<u64>().ok()),
            ) else {
                continue;
            };
            rows.push((name, op, cycles));
        }
    }
    rows
}

/// The TFLite output tensor a Vela row belongs to: its name up to the first `;`, without
/// the `_softmax_N`-style suffix of operators Vela decomposes.
fn vela_key(name: &str) -> String {
    let first = name.split(';').next().unwrap_or(name);
    match first.rsplit_once('_') {
        Some((head, n)) if n.chars().all(|c| c.is_ascii_digit()) => {
            head.rsplit_once('_').map_or(head, |(h, _)| h).to_owned()
        }
        _ => first.to_owned(),
    }
}

/// `corstone-300` with an NPU of `macs` MACs per cycle, as a board file.
fn board(macs: u32) -> Result<PathBuf> {
    let text = include_str!("../../boards/corstone-300.toml");
    let dir = root().join("target/vela");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join(format!("corstone-300-u55-{macs}.toml"));
    let text = text
        .replace("macs = 128", &format!("macs = {macs}"))
        .replace(
            "name = \"corstone-300\"",
            &format!("name = \"corstone-300-u55-{macs}\""),
        );
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(path)
}

struct Layer {
    index: u64,
    op: String,
    name: String,
    macs: u64,
    npu: Option<u64>,
}

fn mcusim_layers(mcusim: &Path, model: &Path, board: &Path, out: &Path) -> Result<Vec<Layer>> {
    let run = Command::new(mcusim)
        .arg("profile")
        .arg(model)
        .arg("--board")
        .arg(board)
        .args(["-q", "--json"])
        .arg(out)
        .output()
        .map_err(|e| e.to_string())?;
    if !run.status.success() {
        return Err(format!(
            "mcusim profile {}: {}",
            model.display(),
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    let text = std::fs::read_to_string(out).map_err(|e| e.to_string())?;
    let p: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let layers = p["layers"].as_array().cloned().unwrap_or_default();
    Ok(layers
        .iter()
        .map(|l| Layer {
            index: l["index"].as_u64().unwrap_or(0),
            op: l["op"].as_str().unwrap_or("").to_owned(),
            name: l["name"].as_str().unwrap_or("").to_owned(),
            macs: l["macs"].as_u64().unwrap_or(0),
            npu: l["devices"].as_array().and_then(|d| {
                d.iter()
                    .find(|d| d["device"] == "npu")
                    .and_then(|d| d["busy_cycles"].as_u64())
            }),
        })
        .collect())
}

fn pct(ours: u64, theirs: u64) -> String {
    if theirs == 0 {
        return "-".into();
    }
    format!(
        "{:+.1}%",
        (ours as f64 - theirs as f64) / theirs as f64 * 100.0
    )
}

pub fn run() -> Result {
    let shared = root().join("../shared/models");
    if !shared.is_dir() {
        return Err(format!(
            "{} is absent: the comparison runs the shared MLPerf Tiny models",
            shared.display()
        ));
    }
    let vela = venv()?;
    super::cargo(&["build", "--release", "--quiet", "--bin", "mcusim"])?;
    let mcusim = root().join("target/release/mcusim");
    let out = root().join("target/vela");
    println!(
        "mcusim's NPU against {VELA} (--verbose-performance, {SYSTEM}, {MEMORY}); cycles are NPU cycles per layer; layers of at least 100,000 MACs marked *"
    );
    for macs in [128u32, 256] {
        let accel = format!("ethos-u55-{macs}");
        let board = board(macs)?;
        for name in ["kws_ref_model", "pretrainedResnet_quant", "ad01_int8"] {
            let model = shared.join(format!("{name}.tflite"));
            let dir = out.join(format!("{name}-{macs}"));
            let run = Command::new(&vela)
                .arg(&model)
                .args(["--accelerator-config", &accel, "--system-config", SYSTEM])
                .args([
                    "--memory-mode",
                    MEMORY,
                    "--verbose-performance",
                    "--output-dir",
                ])
                .arg(&dir)
                .output()
                .map_err(|e| format!("{}: {e}", vela.display()))?;
            if !run.status.success() {
                return Err(format!(
                    "vela {name}: {}",
                    String::from_utf8_lossy(&run.stderr)
                ));
            }
            let text = String::from_utf8_lossy(&run.stdout);
            // Vela decomposes a SOFTMAX into a run of NPU operations named after its input
            // (`..._softmax_N`) and its output: the k-th run is the k-th SOFTMAX's.
            let mut theirs: BTreeMap<String, u64> = BTreeMap::new();
            let (mut softmaxes, mut in_softmax) = (0, false);
            for (n, op, cycles) in vela_rows(&text) {
                let softmax = op == "Softmax";
                if softmax && !in_softmax {
                    softmaxes += 1;
                }
                in_softmax = softmax;
                let key = if softmax {
                    format!("SOFTMAX#{softmaxes}")
                } else {
                    vela_key(&n)
                };
                *theirs.entry(key).or_default() += cycles;
            }
            let layers = mcusim_layers(&mcusim, &model, &board, &dir.join("mcusim.json"))?;
            println!("\n{name} on {accel}");
            println!(
                "  {:>3}  {:<18} {:>10} {:>11} {:>11} {:>8}  note",
                "#", "op", "MACs", "Vela", "mcusim", "diff"
            );
            let (mut sum_v, mut sum_m) = (0u64, 0u64);
            let mut worst: f64 = 0.0;
            let mut softmaxes = 0;
            for l in &layers {
                let key = if l.op == "SOFTMAX" {
                    softmaxes += 1;
                    format!("SOFTMAX#{softmaxes}")
                } else {
                    l.name.split(';').next().unwrap_or(&l.name).to_owned()
                };
                let v = theirs.remove(&key);
                let note = match (v, l.npu) {
                    (Some(_), Some(_)) => String::new(),
                    (Some(_), None) => "on mcusim's CPU (its NPU lacks it)".into(),
                    (None, Some(_)) => "Vela: not an NPU operator".into(),
                    (None, None) => "CPU in both".into(),
                };
                if let (Some(v), Some(m)) = (v, l.npu) {
                    sum_v += v;
                    sum_m += m;
                    if l.macs >= 100_000 && v > 0 {
                        worst = worst.max(((m as f64 - v as f64) / v as f64).abs());
                    }
                }
                println!(
                    "  {:>3}{} {:<18} {:>10} {:>11} {:>11} {:>8}  {note}",
                    l.index,
                    if l.macs >= 100_000 { '*' } else { ' ' },
                    l.op,
                    l.macs,
                    v.map_or("-".into(), |v| v.to_string()),
                    l.npu.map_or("-".into(), |m| m.to_string()),
                    match (v, l.npu) {
                        (Some(v), Some(m)) => pct(m, v),
                        _ => "-".into(),
                    },
                );
            }
            let rest: u64 = theirs.values().sum();
            if rest > 0 {
                println!("       (Vela's other operators: {rest} cycles)");
            }
            println!(
                "  total over layers both run on the NPU: Vela {sum_v}, mcusim {sum_m} ({}); worst layer of >= 100,000 MACs {:.1}%",
                pct(sum_m, sum_v),
                worst * 100.0
            );
        }
    }
    println!(
        "\nWhere mcusim differs: weights are staged in SRAM whole (Vela slices them by depth and double-buffers), their copy counted in the layer that starts it and hidden under what runs meanwhile, the first layer's not (Vela's startup choice differs); the encoded weights' size is mcusim's own Golomb-Rice estimate, not Vela's encoder; busy cycles include the 32-cycle descriptor fetch."
    );
    Ok(())
}
