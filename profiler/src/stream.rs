//! The stream summary: for firmware that runs one inference per window of a sample stream,
//! whether it keeps up (the real-time margin), how much of the time the core is awake (the
//! duty cycle), and what that costs on average (power, energy per second, battery life).
//!
//! Windows come from the firmware's window marker (`mcusim_window(samples)`), inferences from
//! its inference markers. A window's period is its samples over the stream's rate; an
//! inference's margin is that period less the inference's time. The steady state is measured
//! from the first window to the last (whole periods, each one inference and the sleep after
//! it); with a single window, from it to the end of its inference. Power is the energy model's
//! over that interval, sleep included; battery life is the capacity over the average current
//! at the board's supply voltage (regulator losses and self-discharge left out).

use crate::energy;
use crate::profile::{MemoryTraffic, StreamSummary};
use mcusim_traces::{Cycles, ProbeHit, ProbeId};

/// What the run knew of its stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamFacts {
    /// The sample file as given.
    pub file: String,
    pub rate_hz: u32,
    pub samples: u64,
    /// For the battery life.
    pub battery_mah: Option<f64>,
    /// The probes of the inference markers (begin, end) and the window marker, if the
    /// firmware has them.
    pub inference: Option<(ProbeId, ProbeId)>,
    pub window: Option<ProbeId>,
}

/// The summary of a streaming run.
pub fn summary(
    s: &StreamFacts,
    hits: &[ProbeHit],
    activity: &[mcusim_traces::Activity],
    clock_hz: u64,
    model: Option<&energy::Model>,
    supply_volts: Option<f64>,
) -> StreamSummary {
    let windows: Vec<&ProbeHit> = hits.iter().filter(|h| Some(h.probe) == s.window).collect();
    // Each inference: a begin and the end that follows it.
    let mut inferences: Vec<(&ProbeHit, &ProbeHit)> = Vec::new();
    if let Some((b, e)) = s.inference {
        let mut open = None;
        for h in hits {
            if h.probe == b {
                open = Some(h);
            } else if h.probe == e
                && let Some(start) = open.take()
            {
                inferences.push((start, h));
            }
        }
    }
    let rate = f64::from(s.rate_hz.max(1));
    let window_samples = windows.first().map(|w| w.arg0);
    let period_cycles =
        window_samples.map(|n| (f64::from(n) * clock_hz as f64 / rate).round() as u64);
    let times: Vec<u64> = inferences
        .iter()
        .map(|(b, e)| (e.cycle - b.cycle).0)
        .collect();
    let worst = times.iter().copied().max();
    let mean = (!times.is_empty()).then(|| times.iter().sum::<u64>() as f64 / times.len() as f64);
    let ms = |cycles: f64| cycles * 1e3 / clock_hz.max(1) as f64;
    // The steady-state interval.
    let interval = match (windows.first(), windows.last(), inferences.last()) {
        (Some(a), Some(b), _) if windows.len() >= 2 => Some((*a, *b)),
        (Some(a), _, Some((_, end))) => Some((*a, *end)),
        _ => None,
    };
    let mut out = StreamSummary {
        file: s.file.clone(),
        rate_hz: s.rate_hz,
        samples: s.samples,
        seconds: s.samples as f64 / rate,
        windows: windows.len() as u64,
        window_samples,
        missed_windows: window_samples
            .filter(|&n| n > 0)
            .map(|n| (s.samples / u64::from(n)).saturating_sub(windows.len() as u64)),
        period_cycles: period_cycles.map(Cycles),
        period_ms: period_cycles.map(|p| ms(p as f64)),
        inferences: inferences.len() as u64,
        inference_worst_cycles: worst.map(Cycles),
        inference_mean_cycles: mean,
        inference_worst_ms: worst.map(|w| ms(w as f64)),
        inference_mean_ms: mean.map(ms),
        margin_worst_ms: None,
        margin_mean_ms: None,
        margin_worst_share: None,
        late_windows: 0,
        measured_cycles: interval.map(|(a, b)| b.cycle - a.cycle),
        duty_cycle: None,
        average_power_mw: None,
        energy_per_second_mj: None,
        energy_per_inference_uj: None,
        battery_mah: s.battery_mah,
        battery_hours: None,
    };
    if let (Some(p), Some(w), Some(m)) = (period_cycles, worst, mean) {
        out.margin_worst_ms = Some(ms(p as f64 - w as f64));
        out.margin_mean_ms = Some(ms(p as f64 - m));
        out.margin_worst_share = Some((p as f64 - w as f64) / (p as f64).max(1.0));
        out.late_windows = times.iter().filter(|&&t| t > p).count() as u64;
    }
    if let Some((a, b)) = interval {
        let span = (b.cycle - a.cycle).0;
        let breakdown = crate::diff(b.breakdown, a.breakdown);
        if span > 0 {
            out.duty_cycle = Some(1.0 - breakdown.sleep.0 as f64 / span as f64);
        }
        if let Some(model) = model
            && span > 0
        {
            let traffic = MemoryTraffic::from(b.traffic.since(&a.traffic));
            // The devices' work in the interval (the DMA filling the windows) counts too.
            let work = crate::devices::busy(activity, a.cycle, b.cycle);
            let devices_uj =
                model.devices_uj(work.iter().map(|d| (d.device.as_str(), d.bytes, d.macs)));
            let uj = model.energy_uj(&breakdown, &traffic, devices_uj);
            let seconds = span as f64 / clock_hz.max(1) as f64;
            let mw = uj * 1e-3 / seconds;
            out.average_power_mw = Some(mw);
            out.energy_per_second_mj = Some(mw);
            let inside = inferences
                .iter()
                .filter(|(begin, _)| begin.cycle >= a.cycle && begin.cycle < b.cycle)
                .count()
                .max(usize::from(windows.len() < 2));
            out.energy_per_inference_uj = (inside > 0).then(|| uj / inside as f64);
            if let (Some(mah), Some(v)) = (s.battery_mah, supply_volts)
                && mw > 0.0
                && v > 0.0
            {
                out.battery_hours = Some(mah / (mw / v));
            }
        }
    }
    out
}

/// The summary as the profile table prints it.
pub fn lines(s: &StreamSummary) -> String {
    let f = |v: Option<f64>, digits: usize, unit: &str| {
        v.map_or_else(|| "unknown".to_owned(), |x| format!("{x:.digits$} {unit}"))
    };
    let mut t = format!(
        "stream: {} ({} samples at {} Hz, {:.3} s): {} windows{}, {} inferences{}\n",
        s.file,
        crate::group(s.samples),
        s.rate_hz,
        s.seconds,
        s.windows,
        s.window_samples.map_or_else(String::new, |n| format!(
            " of {n} samples ({})",
            f(s.period_ms, 3, "ms")
        )),
        s.inferences,
        match s.missed_windows {
            Some(m) if m > 0 => format!(", {m} windows missed (the core was busy)"),
            _ => String::new(),
        }
    );
    t.push_str(&format!(
        "  inference: worst {}, mean {}; margin: worst {}{}, mean {}{}\n",
        f(s.inference_worst_ms, 3, "ms"),
        f(s.inference_mean_ms, 3, "ms"),
        f(s.margin_worst_ms, 3, "ms"),
        s.margin_worst_share.map_or_else(String::new, |m| format!(
            " ({:.1}% of the period)",
            100.0 * m
        )),
        f(s.margin_mean_ms, 3, "ms"),
        if s.late_windows > 0 {
            format!("; {} inferences longer than the period", s.late_windows)
        } else {
            String::new()
        }
    ));
    t.push_str(&format!(
        "  duty cycle {}, average power {} (sleep included), {} per second, {} per window",
        s.duty_cycle
            .map_or_else(|| "unknown".to_owned(), |d| format!("{:.2}%", 100.0 * d)),
        f(s.average_power_mw, 3, "mW"),
        f(s.energy_per_second_mj, 3, "mJ"),
        f(s.energy_per_inference_uj, 1, "uJ"),
    ));
    if let Some(mah) = s.battery_mah {
        t.push_str(&format!(
            "; a {mah} mAh battery lasts {}",
            s.battery_hours.map_or_else(
                || "unknown (no energy coefficients)".to_owned(),
                |h| format!("{h:.1} h ({:.1} days)", h / 24.0)
            )
        ));
    }
    t.push('\n');
    t
}
