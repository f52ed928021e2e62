//! The profiler on its own: hand-built run facts (no simulator), checked in milliseconds. The
//! layer rows and the rows outside layers sum to the total whatever the layers; diff and
//! budget decide as they should; every export is well formed and agrees with the profile.

use super::*;
use mcusim_traces::{BlockCount, ProbeHit};
use proptest::prelude::*;

const BEGIN: ProbeId = ProbeId(0);
const END: ProbeId = ProbeId(1);

fn hit(probe: ProbeId, cycle: u64, arg0: u32) -> ProbeHit {
    ProbeHit {
        probe,
        cycle: Cycles(cycle),
        instructions: cycle / 2,
        arg0,
        breakdown: Breakdown {
            execute: Cycles(cycle),
            ..Breakdown::default()
        },
        stack_low: None,
        traffic: Traffic::default(),
    }
}

/// A run of `total` cycles with marked layers at the given (start, length) spans, each with
/// 1,000 MACs per 2,000 cycles.
struct Run {
    board: Board,
    image: elf::Image,
    hits: Vec<ProbeHit>,
    infos: BTreeMap<u32, LayerInfo>,
    total: u64,
    activity: Vec<mcusim_traces::Activity>,
}

impl Run {
    fn new(total: u64, spans: &[(u64, u64)]) -> Run {
        let mut hits = Vec::new();
        let mut infos = BTreeMap::new();
        for (i, &(start, len)) in spans.iter().enumerate() {
            let addr = 0x0800_1000 + 16 * i as u32;
            hits.push(hit(BEGIN, start, addr));
            hits.push(hit(END, start + len, addr));
            infos.insert(
                addr,
                LayerInfo {
                    index: i as u32,
                    op: if i % 2 == 0 {
                        "CONV_2D"
                    } else {
                        "DEPTHWISE_CONV_2D"
                    }
                    .into(),
                    name: format!("layer_{i}/out"),
                    macs: len / 2,
                },
            );
        }
        Run {
            board: Board::builtin("nucleo-l4r5zi").unwrap().unwrap(),
            image: elf::Image::default(),
            hits,
            infos,
            total,
            activity: Vec::new(),
        }
    }

    fn profile(&self) -> Profile {
        profile(&RunFacts {
            stream: None,
            board: &self.board,
            firmware_name: "fw.elf".into(),
            firmware_hash: "0123".into(),
            arguments: vec!["profile".into(), "fw.elf".into()],
            stop: StopReason::Exit { code: 0 },
            instructions: self.total / 2,
            cycles: Cycles(self.total),
            breakdown: Breakdown {
                execute: Cycles(self.total),
                ..Breakdown::default()
            },
            traffic: Traffic::default(),
            hits: &self.hits,
            block_snapshots: &[],
            markers: Some((BEGIN, END)),
            kernel_calls: None,
            call_tree: &[],
            layer_infos: self.infos.clone(),
            model_layers: None,
            layer_shapes: Default::default(),
            plan: None,
            sources: &|_| None,
            stack_peak_bytes: Some(1024),
            heap_peak_bytes: Some(0),
            arena_touched_bytes: None,
            image: &self.image,
            blocks: &[] as &[BlockCount],
            activity: &self.activity,
        })
    }
}

/// Non-overlapping spans inside a run: gaps and lengths drawn, in order.
fn spans() -> impl Strategy<Value = (u64, Vec<(u64, u64)>)> {
    prop::collection::vec((0u64..5_000, 1u64..50_000), 0..20).prop_flat_map(|parts| {
        let mut at = 0;
        let spans: Vec<(u64, u64)> = parts
            .iter()
            .map(|&(gap, len)| {
                let s = (at + gap, len);
                at += gap + len;
                s
            })
            .collect();
        (at..at + 10_000).prop_map(move |total| (total, spans.clone()))
    })
}

proptest! {
    #[test]
    fn layer_rows_and_outside_rows_sum_to_the_total((total, spans) in spans()) {
        let p = Run::new(total, &spans).profile();
        let inside: u64 = p.layers.iter().map(|l| l.cycles.0).sum();
        prop_assert_eq!(inside + p.totals.outside_layers_cycles.0, total);
        let t = &p.totals;
        prop_assert!(t.before_layers_cycles.0 + t.after_layers_cycles.0 <= t.outside_layers_cycles.0);
        prop_assert_eq!(p.layers.len(), spans.len());
        let shares: f64 = p.layers.iter().map(|l| l.share).sum();
        prop_assert!(shares <= 1.0 + 1e-9);
        // Energy splits the same way: layers never hold more than the run.
        let e: f64 = p.layers.iter().filter_map(|l| l.energy_uj).sum();
        prop_assert!(e <= p.totals.energy_uj.unwrap() * (1.0 + 1e-9));
    }
}

#[test]
fn diff_passes_the_same_and_fails_a_slower_layer() {
    let base = Run::new(100_000, &[(1_000, 40_000), (45_000, 30_000)]).profile();
    let same = diff::diff(
        &base,
        &base,
        &diff::Thresholds::all(diff::Limit::Percent(0.0)),
    );
    assert!(!same.failed);
    let slow = Run::new(110_000, &[(1_000, 50_000), (55_000, 30_000)]).profile();
    let mut t = diff::Thresholds::default();
    t.set("cycles=+5%").unwrap();
    let d = diff::diff(&base, &slow, &t);
    assert!(d.failed, "{d:?}");
    // The layer that moved comes first.
    assert_eq!(d.layers[0].name, "layer_0/out");
    // Layer 0 grew by 25%, the total by 10%: a limit of the totals holds no layer.
    let loose = diff::diff(
        &base,
        &slow,
        &diff::Thresholds::all(diff::Limit::Percent(15.0)),
    );
    assert!(!loose.failed, "{loose:?}");
    assert!(
        loose
            .layers
            .iter()
            .all(|l| l.deltas.iter().all(|d| d.limit.is_none()))
    );
    // A layer limit holds every layer, not the totals.
    let mut t = diff::Thresholds::all(diff::Limit::Percent(15.0));
    t.set_layer("cycles=+20%").unwrap();
    let d = diff::diff(&base, &slow, &t);
    assert!(d.failed && d.layers[0].failed() && !d.totals.iter().any(|x| x.failed));
    t.set_layer("cycles=+30%").unwrap();
    assert!(!diff::diff(&base, &slow, &t).failed);
    // A metric a layer does not have is refused as a layer limit.
    assert!(
        t.set_layer("flash=+0")
            .unwrap_err()
            .contains("not a metric of a layer")
    );
}

#[test]
fn budgets_pass_under_and_fail_over_their_limits() {
    let p = Run::new(100_000, &[(1_000, 40_000)]).profile();
    let ok = budget::check(
        &p,
        &budget::Budget {
            max_cycles: Some(100_000),
            ..budget::Budget::default()
        },
        &[],
    );
    assert!(ok.iter().all(|v| v.ok), "{ok:?}");
    let over = budget::check(
        &p,
        &budget::Budget {
            max_cycles: Some(99_999),
            max_stack: Some(1_000),
            ..budget::Budget::default()
        },
        &[budget::LayerBudget {
            name: "layer_0/out".into(),
            max_cycles: Some(39_999),
            ..budget::LayerBudget::default()
        }],
    );
    assert_eq!(over.iter().filter(|v| !v.ok).count(), 3, "{over:?}");
    // A layer that is not there is not measured: it fails.
    let missing = budget::check(
        &p,
        &budget::Budget::default(),
        &[budget::LayerBudget {
            name: "nope".into(),
            max_cycles: Some(1),
            ..budget::LayerBudget::default()
        }],
    );
    assert!(missing[0].actual.is_none() && !missing[0].ok);
}

#[test]
fn every_export_is_well_formed_and_agrees_with_the_profile() {
    let p = Run::new(100_000, &[(1_000, 40_000), (45_000, 30_000)]).profile();
    // JSON reads back to the same JSON (figures are written rounded, for stable bytes).
    let json = export::json(&p);
    let back: Profile = serde_json::from_str(&json).unwrap();
    assert_eq!(export::json(&back), json);
    assert_eq!(back.layers.len(), 2);
    // CSV: a header and a row per layer.
    let csv = export::csv(&p);
    assert_eq!(csv.lines().count(), 1 + p.layers.len());
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("0,CONV_2D,layer_0/out,,,40000,"),
        "no plan: SRAM Usage and Peak% are unknown, left empty"
    );
    // Perfetto: a slice per layer, at the layer's time.
    let trace: serde_json::Value = serde_json::from_str(&export::perfetto(&p)).unwrap();
    let slices: Vec<&serde_json::Value> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X" && e["tid"] == 1)
        .collect();
    assert_eq!(slices.len(), 2);
    assert_eq!(slices[1]["name"], "layer_1/out");
    let ts = slices[1]["ts"].as_f64().unwrap();
    assert!((ts - 45_000.0 / 120.0).abs() < 1e-6, "{ts}");
    // Folded stacks (no call tree): the layers and the rest, summing to the total.
    let folded = export::folded(&p);
    let sum: u64 = folded
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(sum, 100_000);
    // The same profile, the same bytes.
    assert_eq!(
        export::json(&Run::new(100_000, &[(1_000, 40_000), (45_000, 30_000)]).profile()),
        json
    );
}

#[test]
fn device_work_lands_in_its_layers_and_on_its_own_track() {
    let mut run = Run::new(100_000, &[(1_000, 40_000), (45_000, 30_000)]);
    let work =
        |track: &str, begin: u64, end: u64, bytes: u64, label: &str| mcusim_traces::Activity {
            track: track.into(),
            begin: Cycles(begin),
            end: Cycles(end),
            bytes,
            macs: 0,
            label: label.into(),
            busy: None,
        };
    // A transfer inside layer 0, one spanning the gap into layer 1, and an NPU job in it.
    run.activity = vec![
        work("dma1", 2_000, 12_000, 1_000, "ch1"),
        work("dma1", 40_000, 50_000, 1_000, "ch2"),
        work("npu", 46_000, 66_000, 0, "conv"),
    ];
    let p = run.profile();
    let l0 = &p.layers[0].devices;
    assert_eq!(l0.len(), 1);
    assert_eq!(l0[0].busy_cycles, Cycles(10_000 + 1_000));
    assert_eq!(l0[0].bytes, 1_000 + 100);
    assert!((l0[0].busy_share - 11_000.0 / 40_000.0).abs() < 1e-9);
    let l1: Vec<(&str, u64)> = p.layers[1]
        .devices
        .iter()
        .map(|d| (d.device.as_str(), d.busy_cycles.0))
        .collect();
    assert_eq!(l1, [("dma1", 5_000), ("npu", 20_000)]);
    // What each device spent most of the layer on; no board NPU here, so no engine.
    let work: Vec<Option<&str>> = p.layers[1]
        .devices
        .iter()
        .map(|d| d.work.as_deref())
        .collect();
    assert_eq!(work, [Some("ch2"), Some("conv")]);
    assert!(p.layers.iter().all(|l| l.engine.is_none()));
    assert!(
        p.layers[1]
            .devices
            .iter()
            .all(|d| d.mac_utilisation.is_none())
    );
    assert_eq!(p.devices.len(), 2);
    assert_eq!(
        (p.devices[0].busy_cycles, p.devices[0].bytes),
        (Cycles(20_000), 2_000)
    );
    // JSON keeps them; without activity there are no such fields at all.
    let json = export::json(&p);
    assert_eq!(serde_json::from_str::<Profile>(&json).unwrap(), p);
    assert!(
        !export::json(&Run::new(100_000, &[(1_000, 40_000)]).profile()).contains("\"devices\"")
    );
    // Perfetto: a named track per device, a slice per activity on it.
    let trace: serde_json::Value = serde_json::from_str(&export::perfetto(&p)).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let names: Vec<(&str, u64)> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| {
            (
                e["args"]["name"].as_str().unwrap(),
                e["tid"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("run", 0), ("CPU: layers", 1), ("dma1", 2), ("npu", 3)]
    );
    // Every slice is on a named track.
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let tid = e["tid"].as_u64().unwrap();
        assert!(names.iter().any(|n| n.1 == tid), "{e} on an unnamed track");
    }
    let on = |tid: u64| {
        events
            .iter()
            .filter(|e| e["ph"] == "X" && e["tid"] == tid)
            .count()
    };
    assert_eq!((on(2), on(3)), (2, 1));
}

#[test]
fn long_names_keep_both_ends() {
    assert_eq!(abbreviate("conv_1", 10), "conv_1");
    let long = "functional_1/activation_3/Relu;functional_1/conv2d_3/BiasAdd";
    let short = abbreviate(long, 21);
    assert_eq!(short.chars().count(), 21);
    assert_eq!(short, "functional…_3/BiasAdd");
    assert_eq!(abbreviate("abc", 1), "a");
}

#[test]
fn counts_are_grouped_in_thousands() {
    let cases = [
        (0, "0"),
        (999, "999"),
        (1000, "1,000"),
        (1_234_567, "1,234,567"),
    ];
    for (n, text) in cases {
        assert_eq!(group(n), text);
    }
}
