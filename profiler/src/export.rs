//! Exports of a [`Profile`]: JSON (the versioned schema), CSV (one row per layer, Vela's column
//! names where they mean the same), a Chrome trace event file for ui.perfetto.dev, and folded
//! stacks for flamegraph tools. All deterministic.

use crate::profile::Profile;
use std::fmt::Write as _;

/// The profile as pretty JSON with a final newline.
pub fn json(p: &Profile) -> String {
    let mut text = serde_json::to_string_pretty(p).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// One row per layer. "TFLite_operator", "Op Cycles", "Network%", "MAC Count",
/// "Network% (MAC)", "Name" and, on boards with an NPU, "Util%" (the NPU's MACs against its
/// peak) are Vela's per-layer columns of the same meaning; an NPU board adds the engine, the
/// NPU's busy cycles and its bound.
pub fn csv(p: &Profile) -> String {
    let engines = p.layers.iter().any(|l| l.engine.is_some());
    let mut t = String::from(
        "Index,TFLite_operator,Name,Op Cycles,Network%,MAC Count,Network% (MAC),Cycles/MAC,Instructions,Execute,Branch,Stall,Memory Wait,Energy (uJ)",
    );
    t.push_str(if engines {
        ",Engine,NPU Cycles,Util%,Bound\n"
    } else {
        "\n"
    });
    let macs = p.totals.macs.max(1) as f64;
    for l in &p.layers {
        let _ = write!(
            t,
            "{},{},{},{},{:.4},{},{:.4},{},{},{},{},{},{},{}",
            l.index,
            csv_field(&l.op),
            csv_field(&l.name),
            l.cycles.0,
            100.0 * l.share,
            l.macs,
            100.0 * l.macs as f64 / macs,
            l.cycles_per_mac
                .map_or(String::new(), |c| format!("{c:.4}")),
            l.instructions,
            l.breakdown.execute.0,
            l.breakdown.branch.0,
            l.breakdown.stall.0,
            l.breakdown.memory.0,
            l.energy_uj.map_or(String::new(), |e| format!("{e:.6}"))
        );
        if engines {
            let npu = l.devices.iter().find(|d| d.mac_utilisation.is_some());
            let bound = npu.and_then(|d| d.bound());
            let _ = write!(
                t,
                ",{},{},{},{}",
                l.engine.as_deref().unwrap_or(""),
                npu.map_or(String::new(), |d| d.busy_cycles.0.to_string()),
                npu.and_then(|d| d.mac_utilisation)
                    .map_or(String::new(), |u| format!("{:.2}", 100.0 * u)),
                bound.unwrap_or("")
            );
        }
        t.push('\n');
    }
    t
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"?\"".into())
}

/// Chrome trace event JSON (ui.perfetto.dev and chrome://tracing open it): the CPU as one
/// track with a slice per layer (timestamps in microseconds of simulated time), one track per
/// device with a slice per activity, the energy spent so far and the SRAM in use as counters.
pub fn perfetto(p: &Profile) -> String {
    let hz = p.board.clock_hz.max(1) as f64;
    let us = |cycles: u64| cycles as f64 / hz * 1e6;
    let mut events = vec![
        format!(
            "{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{{\"name\":{}}}}}",
            json_string(&format!("{} ({})", p.board.name, p.firmware.file))
        ),
        "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":{\"name\":\"CPU\"}}"
            .to_owned(),
        format!(
            "{{\"name\":\"run\",\"ph\":\"X\",\"pid\":1,\"tid\":0,\"ts\":0,\"dur\":{:.3},\"args\":{{\"cycles\":{}}}}}",
            us(p.totals.cycles.0),
            p.totals.cycles.0
        ),
    ];
    // Energy counters only where the board has energy coefficients.
    let mut energy = p.totals.energy_uj.map(|_| 0.0);
    if energy.is_some() {
        events.push(
            "{\"name\":\"energy (uJ)\",\"ph\":\"C\",\"pid\":1,\"ts\":0,\"args\":{\"uJ\":0}}"
                .to_owned(),
        );
    }
    for &(at, bytes) in &p.memory.timeline {
        events.push(format!(
            "{{\"name\":\"SRAM in use (bytes)\",\"ph\":\"C\",\"pid\":1,\"ts\":{:.3},\"args\":{{\"bytes\":{bytes}}}}}",
            us(at.0)
        ));
    }
    for l in &p.layers {
        events.push(format!(
            "{{\"name\":{},\"cat\":{},\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":{:.3},\"dur\":{:.3},\"args\":{{\"index\":{},\"cycles\":{},\"macs\":{}{}}}}}",
            json_string(&l.name),
            json_string(&l.op),
            us(l.start_cycle.0),
            us(l.cycles.0),
            l.index,
            l.cycles.0,
            l.macs,
            l.energy_uj
                .map_or(String::new(), |e| format!(",\"energy_uj\":{e:.6}"))
        ));
        if let (Some(sum), Some(e)) = (energy.as_mut(), l.energy_uj) {
            *sum += e;
            events.push(format!(
                "{{\"name\":\"energy (uJ)\",\"ph\":\"C\",\"pid\":1,\"ts\":{:.3},\"args\":{{\"uJ\":{:.6}}}}}",
                us(l.start_cycle.0 + l.cycles.0),
                sum
            ));
        }
    }
    // One track per device, after the CPU's, in the order the devices first logged work.
    let mut tracks: Vec<&str> = Vec::new();
    for a in &p.activity {
        let tid = match tracks.iter().position(|t| *t == a.track) {
            Some(i) => i + 2,
            None => {
                tracks.push(&a.track);
                events.push(format!(
                    "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{},\"args\":{{\"name\":{}}}}}",
                    tracks.len() + 1,
                    json_string(&a.track)
                ));
                tracks.len() + 1
            }
        };
        events.push(format!(
            "{{\"name\":{},\"cat\":\"device\",\"ph\":\"X\",\"pid\":1,\"tid\":{tid},\"ts\":{:.3},\"dur\":{:.3},\"args\":{{\"cycles\":{},\"bytes\":{},\"macs\":{}}}}}",
            json_string(&a.label),
            us(a.begin.0),
            us(a.end.0 - a.begin.0),
            a.end.0 - a.begin.0,
            a.bytes,
            a.macs
        ));
    }
    format!(
        "{{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n{}\n]}}\n",
        events.join(",\n")
    )
}

/// Folded stacks in cycles, for any flamegraph tool: with the call tree, one line per call path
/// (`Reset_Handler;main;mnn_conv_s8;mat_mult_dsp cycles`, the path's exclusive cycles);
/// without it, `firmware;OP;name cycles` per layer plus the cycles outside layers.
pub fn folded(p: &Profile) -> String {
    // A frame may hold spaces (demangled C++ names); the count is after the line's last space.
    let clean = |s: &str| s.replace([';', '\n'], "_");
    let mut t = String::new();
    if !p.call_tree.is_empty() {
        let mut paths: Vec<String> = Vec::with_capacity(p.call_tree.len());
        for node in &p.call_tree {
            let path = match node.parent.and_then(|i| paths.get(i as usize)) {
                Some(parent) => format!("{parent};{}", clean(&node.name)),
                None => clean(&node.name),
            };
            if node.self_cycles > 0 {
                let _ = writeln!(t, "{path} {}", node.self_cycles);
            }
            paths.push(path);
        }
        return t;
    }
    let root = clean(&p.firmware.file);
    for l in &p.layers {
        let _ = writeln!(
            t,
            "{root};{};{} {}",
            l.op,
            l.name.replace([';', ' '], "_"),
            l.cycles.0
        );
    }
    let _ = writeln!(
        t,
        "{root};(outside_layers) {}",
        p.totals.outside_layers_cycles.0
    );
    t
}
