//! Exports of a [`Profile`]: JSON (the versioned schema), CSV (one row per layer, Vela's column
//! names where they mean the same), a Chrome trace event file for ui.perfetto.dev, and folded
//! stacks for flamegraph tools. All deterministic.

use crate::profile::Profile;
use std::collections::BTreeMap;
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
        "Index,TFLite_operator,Name,SRAM Usage,Peak%,Op Cycles,Network%,MAC Count,Network% (MAC),Util%,Cycles/MAC,Time (us),Instructions,Execute,Branch,Stall,Memory Wait,Energy (uJ)",
    );
    t.push_str(if engines {
        ",Engine,NPU Cycles,Bound\n"
    } else {
        "\n"
    });
    let macs = p.totals.macs.max(1) as f64;
    // SRAM Usage as Vela means it: the arena bytes live while the layer runs (from the plan,
    // when this run compiled the model), and Peak% of the most live at any layer.
    let plan = p.memory.plan.as_ref();
    let live = |index: u32| -> Option<u64> {
        plan.map(|pl| {
            pl.buffers
                .iter()
                .filter(|b| b.first_layer <= index && index <= b.last_layer)
                .map(|b| u64::from(b.size))
                .sum()
        })
    };
    let peak = plan.map_or(0, |pl| u64::from(pl.peak_bytes)).max(1);
    for l in &p.layers {
        // Util%: the MACs against what the engine that ran the layer could do in its cycles
        // (the NPU's MAC array, or the core's peak int8 MACs per cycle).
        let npu = l.devices.iter().find(|d| d.mac_utilisation.is_some());
        let util = match npu.and_then(|d| d.mac_utilisation) {
            Some(u) => Some(100.0 * u),
            None if l.macs > 0 && l.cycles.0 > 0 && p.roofline.peak_macs_per_cycle > 0.0 => {
                Some(100.0 * l.macs as f64 / (l.cycles.0 as f64 * p.roofline.peak_macs_per_cycle))
            }
            None => None,
        };
        let sram = live(l.index);
        let _ = write!(
            t,
            "{},{},{},{},{},{},{:.4},{},{:.4},{},{},{:.3},{},{},{},{},{},{}",
            l.index,
            csv_field(&l.op),
            csv_field(&l.name),
            sram.map_or(String::new(), |b| b.to_string()),
            sram.map_or(String::new(), |b| format!(
                "{:.2}",
                100.0 * b as f64 / peak as f64
            )),
            l.cycles.0,
            100.0 * l.share,
            l.macs,
            100.0 * l.macs as f64 / macs,
            util.map_or(String::new(), |u| format!("{u:.2}")),
            l.cycles_per_mac
                .map_or(String::new(), |c| format!("{c:.4}")),
            l.time_us,
            l.instructions,
            l.breakdown.execute.0,
            l.breakdown.branch.0,
            l.breakdown.stall.0,
            l.breakdown.memory.0,
            l.energy_uj.map_or(String::new(), |e| format!("{e:.6}"))
        );
        if engines {
            let bound = npu.and_then(|d| d.bound());
            let _ = write!(
                t,
                ",{},{},{}",
                l.engine.as_deref().unwrap_or(""),
                npu.map_or(String::new(), |d| d.busy_cycles.0.to_string()),
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
        "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"run\"}}"
            .to_owned(),
        "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":{\"name\":\"CPU: layers\"}}"
            .to_owned(),
        // The tracks in this order: the run, the layers, then the devices.
        "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"sort_index\":0}}"
            .to_owned(),
        "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":{\"sort_index\":1}}"
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
/// and its exclusive cycles (`Reset_Handler;main;mcusim_model_run;layer 2 conv_3/out
/// (CONV_2D);mnn_conv_s8;mat_mult_dsp 771234`), each layer a frame of its own above its
/// kernels, so five convolutions stay five towers; without it, `firmware;layer ...` per layer
/// plus the cycles outside layers. The lines sum to the run's cycles either way.
///
/// The call tree is the whole run's: a layer's cycles in a function (from its blocks) go to
/// that function's call paths under the layer markers' caller, split by each path's share of
/// the function's cycles where there are several (an approximation only then), and never more
/// than the path has; what is left stays on the path without a layer frame.
pub fn folded(p: &Profile) -> String {
    // A frame may hold spaces (demangled C++ names); the count is after the line's last space.
    let clean = |s: &str| s.replace([';', '\n'], "_");
    let layer_frame =
        |l: &crate::Layer| format!("layer {} {} ({})", l.index, clean(&l.name), clean(&l.op));
    let mut t = String::new();
    if !p.call_tree.is_empty() {
        let tree = &p.call_tree;
        let mut paths: Vec<String> = Vec::with_capacity(tree.len());
        for node in tree {
            let path = match node.parent.and_then(|i| paths.get(i as usize)) {
                Some(parent) => format!("{parent};{}", clean(&node.name)),
                None => clean(&node.name),
            };
            paths.push(path);
        }
        let mut left: Vec<u64> = tree.iter().map(|n| n.self_cycles).collect();
        let mut lines: Vec<(String, u64)> = Vec::new();
        // The function that calls the layer markers: layers are frames below it.
        let caller = tree
            .iter()
            .find(|n| n.name == mcusim_traces::abi::LAYER_BEGIN)
            .and_then(|n| n.parent)
            .map(|i| i as usize)
            .filter(|&i| i < tree.len());
        if let Some(caller) = caller.filter(|_| p.attribution == "markers") {
            let under = |mut n: usize| loop {
                if n == caller {
                    return true;
                }
                match tree[n].parent {
                    Some(up) if (up as usize) < n => n = up as usize,
                    _ => return false,
                }
            };
            let mut nodes_of: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (i, n) in tree.iter().enumerate() {
                if i != caller && under(i) {
                    nodes_of.entry(n.name.as_str()).or_default().push(i);
                }
            }
            for l in &p.layers {
                let frame = layer_frame(l);
                let ran: std::collections::BTreeSet<&str> =
                    l.hot_functions.iter().map(|f| f.name.as_str()).collect();
                // A path whose callers all ran in the layer is the layer's; the others are
                // taken only when none is.
                let in_layer = |mut n: usize| loop {
                    match tree[n].parent.map(|u| u as usize) {
                        Some(up) if up == caller => return true,
                        Some(up) if up < n && ran.contains(tree[up].name.as_str()) => n = up,
                        _ => return false,
                    }
                };
                for fc in &l.hot_functions {
                    // The caller's own code run within the layer is the layer's frame's own.
                    if fc.name == tree[caller].name {
                        let share = fc.cycles.min(left[caller]);
                        if share > 0 {
                            lines.push((format!("{};{frame}", paths[caller]), share));
                            left[caller] -= share;
                        }
                        continue;
                    }
                    let Some(all) = nodes_of.get(fc.name.as_str()) else {
                        continue;
                    };
                    let mine: Vec<usize> = all.iter().copied().filter(|&n| in_layer(n)).collect();
                    let nodes = if mine.is_empty() { all } else { &mine };
                    let total: u64 = nodes.iter().map(|&n| left[n]).sum();
                    let mut give = fc.cycles.min(total);
                    for (k, &n) in nodes.iter().enumerate() {
                        if give == 0 || total == 0 {
                            break;
                        }
                        let share = if k + 1 == nodes.len() {
                            give
                        } else {
                            (u128::from(fc.cycles.min(total)) * u128::from(left[n])
                                / u128::from(total)) as u64
                        }
                        .min(left[n])
                        .min(give);
                        if share == 0 {
                            continue;
                        }
                        let rest = &paths[n][paths[caller].len()..];
                        lines.push((format!("{};{frame}{rest}", paths[caller]), share));
                        left[n] -= share;
                        give -= share;
                    }
                }
            }
        }
        for (i, &cycles) in left.iter().enumerate() {
            if cycles > 0 {
                lines.push((paths[i].clone(), cycles));
            }
        }
        // One line per path, in the order first met.
        let mut order: Vec<String> = Vec::new();
        let mut sums: BTreeMap<String, u64> = BTreeMap::new();
        for (path, cycles) in lines {
            let e = sums.entry(path.clone()).or_insert_with(|| {
                order.push(path);
                0
            });
            *e += cycles;
        }
        for path in order {
            let _ = writeln!(t, "{path} {}", sums[&path]);
        }
        return t;
    }
    let root = clean(&p.firmware.file);
    for l in &p.layers {
        let _ = writeln!(t, "{root};{} {}", layer_frame(l), l.cycles.0);
    }
    let _ = writeln!(
        t,
        "{root};(outside_layers) {}",
        p.totals.outside_layers_cycles.0
    );
    t
}
