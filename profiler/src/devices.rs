//! What the devices did, from their activity log (`mcusim_traces::Activity`): each device's
//! busy time, bytes and MACs over the run and within each layer.
//!
//! Busy time is the union of a device's activities, so two transfers it runs at once (two
//! DMA channels) count once. An activity that spans a layer boundary is split by time: its
//! bytes and MACs go to each side in proportion to the time there (an approximation: a device
//! need not move data at a steady rate). A zero-length activity belongs where it began.
//! Work paced by something else (a DMA serving a peripheral's requests) says how many of its
//! cycles were busy; they are spread evenly over it and added to the union of the rest (an
//! approximation: paced work is taken to overlap nothing else of the device's).

use crate::profile::{DeviceBusy, DeviceRow};
use mcusim_traces::{Activity, Cycles};

/// The devices in the order they first appear in the log.
fn tracks(activity: &[Activity]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for a in activity {
        if !names.contains(&a.track.as_str()) {
            names.push(&a.track);
        }
    }
    names
}

/// The union of `intervals` clipped to `from..to`, in cycles.
fn union(mut intervals: Vec<(u64, u64)>, from: Cycles, to: Cycles) -> Cycles {
    intervals.retain_mut(|(b, e)| {
        *b = (*b).max(from.0);
        *e = (*e).min(to.0);
        b < e
    });
    intervals.sort_unstable();
    let (mut total, mut reach) = (0, 0);
    for (b, e) in intervals {
        let b = b.max(reach);
        if e > b {
            total += e - b;
            reach = e;
        }
    }
    Cycles(total)
}

/// The share of `count` an activity does in `from..to`.
fn portion(a: &Activity, count: u64, from: Cycles, to: Cycles) -> u64 {
    let length = a.end.0 - a.begin.0;
    if length == 0 {
        return if (from..to).contains(&a.begin) {
            count
        } else {
            0
        };
    }
    (u128::from(count) * u128::from(a.overlap(from, to).0) / u128::from(length)) as u64
}

/// Each device's work within `from..to`; devices that did none there are left out.
pub fn busy(activity: &[Activity], from: Cycles, to: Cycles) -> Vec<DeviceBusy> {
    let span = (to.0.saturating_sub(from.0)).max(1) as f64;
    tracks(activity)
        .into_iter()
        .filter_map(|name| {
            let own: Vec<&Activity> = activity.iter().filter(|a| a.track == name).collect();
            let dense = own
                .iter()
                .filter(|a| a.busy.is_none())
                .map(|a| (a.begin.0, a.end.0));
            let paced: u64 = own
                .iter()
                .filter_map(|a| a.busy.map(|b| portion(a, b.0, from, to)))
                .sum();
            let busy = union(dense.collect(), from, to) + Cycles(paced);
            let bytes = own.iter().map(|a| portion(a, a.bytes, from, to)).sum();
            let macs = own.iter().map(|a| portion(a, a.macs, from, to)).sum();
            let touched = own
                .iter()
                .any(|a| a.overlap(from, to).0 > 0 || portion(a, 1, from, to) > 0);
            // Its longest activity here; ties to the earliest, so the choice is deterministic.
            let work = own
                .iter()
                .map(|a| (a.overlap(from, to).0, a))
                .filter(|(c, _)| *c > 0)
                .fold(None::<(u64, &Activity)>, |best, (c, a)| match best {
                    Some((b, _)) if b >= c => best,
                    _ => Some((c, a)),
                })
                .map(|(_, a)| a.label.clone());
            touched.then(|| DeviceBusy {
                device: name.to_owned(),
                busy_cycles: busy,
                busy_share: busy.0 as f64 / span,
                bytes,
                macs,
                work,
                mac_utilisation: None,
            })
        })
        .collect()
}

/// The NPUs of `board` and their peak MACs per cycle, by peripheral name.
pub fn mac_peaks(board: &mcusim_boards::Board) -> Vec<(String, u64)> {
    board
        .peripherals()
        .iter()
        .filter_map(|p| match p.model {
            mcusim_boards::PeripheralModel::Npu { macs, .. } => {
                Some((p.name.clone(), u64::from(macs)))
            }
            _ => None,
        })
        .collect()
}

/// Sets each NPU's MAC utilisation in `busy` from its peak in `peaks`.
pub fn utilisation(busy: &mut [DeviceBusy], peaks: &[(String, u64)]) {
    for b in busy {
        if let Some((_, peak)) = peaks.iter().find(|(n, _)| *n == b.device)
            && b.busy_cycles.0 > 0
        {
            b.mac_utilisation = Some(b.macs as f64 / (b.busy_cycles.0 * peak) as f64);
        }
    }
}

/// The engine that ran a layer whose device work is `busy`: `npu` when an NPU did MACs in
/// it, `cpu` otherwise; `None` on a board without an NPU.
pub fn engine(busy: &[DeviceBusy], peaks: &[(String, u64)]) -> Option<String> {
    if peaks.is_empty() {
        return None;
    }
    let npu = busy
        .iter()
        .any(|b| b.macs > 0 && peaks.iter().any(|(n, _)| *n == b.device));
    Some(if npu { "npu" } else { "cpu" }.into())
}

/// Each device's work over the whole run (`0..cycles`).
pub fn summary(activity: &[Activity], cycles: Cycles) -> Vec<DeviceRow> {
    // Work logged past the run's end (a device scheduled ahead of the stop) still counts.
    let end = activity
        .iter()
        .map(|a| a.end)
        .max()
        .unwrap_or(cycles)
        .max(cycles);
    busy(activity, Cycles(0), Cycles(end.0 + 1))
        .into_iter()
        .map(|b| DeviceRow {
            activities: activity.iter().filter(|a| a.track == b.device).count() as u64,
            busy_share: b.busy_cycles.0 as f64 / cycles.0.max(1) as f64,
            device: b.device,
            busy_cycles: b.busy_cycles,
            bytes: b.bytes,
            macs: b.macs,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(track: &str, begin: u64, end: u64, bytes: u64) -> Activity {
        Activity {
            track: track.into(),
            begin: Cycles(begin),
            end: Cycles(end),
            bytes,
            macs: 0,
            label: "x".into(),
            busy: None,
        }
    }

    #[test]
    fn busy_time_is_the_union_and_bytes_split_by_time() {
        let log = [
            act("dma1", 0, 100, 400),
            act("dma1", 50, 150, 400),
            act("npu", 120, 120, 8),
            act("npu", 200, 300, 100),
        ];
        let first = busy(&log, Cycles(0), Cycles(100));
        assert_eq!(first.len(), 1, "the NPU did nothing before 100");
        assert_eq!(first[0].busy_cycles, Cycles(100));
        assert_eq!(first[0].bytes, 400 + 200);
        let second = busy(&log, Cycles(100), Cycles(200));
        assert_eq!(second[0].busy_cycles, Cycles(50));
        assert_eq!(second[0].bytes, 200);
        assert_eq!((second[1].device.as_str(), second[1].bytes), ("npu", 8));
        assert_eq!(second[1].busy_cycles, Cycles(0));
        let all = summary(&log, Cycles(300));
        assert_eq!(all[0].busy_cycles, Cycles(150));
        assert_eq!(all[0].bytes, 800);
        assert_eq!((all[1].activities, all[1].busy_cycles), (2, Cycles(100)));
        assert!((all[1].busy_share - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn no_activity_no_rows() {
        assert!(busy(&[], Cycles(0), Cycles(10)).is_empty());
        assert!(summary(&[], Cycles(10)).is_empty());
    }

    #[test]
    fn an_npus_layers_get_their_engine_and_utilisation() {
        let mut npu = act("npu", 0, 1_000, 64);
        npu.macs = 64_000;
        npu.label = "conv (flash)".into();
        let log = [act("dma1", 0, 100, 8), npu];
        let peaks = vec![("npu".to_owned(), 128)];
        let mut b = busy(&log, Cycles(0), Cycles(2_000));
        utilisation(&mut b, &peaks);
        assert_eq!(b[0].mac_utilisation, None, "a DMA has no MACs");
        assert_eq!(b[1].mac_utilisation, Some(64_000.0 / (1_000.0 * 128.0)));
        assert_eq!(b[1].work.as_deref(), Some("conv (flash)"));
        assert_eq!(engine(&b, &peaks).as_deref(), Some("npu"));
        assert_eq!(engine(&b[..1], &peaks).as_deref(), Some("cpu"));
        assert_eq!(engine(&b, &[]), None, "no NPU on the board");
    }
}
