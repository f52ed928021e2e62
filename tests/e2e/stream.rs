//! Sample streams (`--stream FILE`): the board's sample stream (`sim/src/devices/
//! sample_stream.rs`) read by DMA through the DMAMUX by real firmware, and streaming model
//! firmware (`kernels/runtime/stream_main.c`) profiled for its real-time margin, duty cycle,
//! power and battery life.

use crate::support::*;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcusim-e2e-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A raw file of `n` samples with a known pattern.
fn raw_samples(name: &str, n: usize) -> (PathBuf, Vec<i16>) {
    let data: Vec<i16> = (0..n).map(|i| ((i * 37) % 2000) as i16 - 1000).collect();
    let path = scratch(name);
    let bytes: Vec<u8> = data.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(&path, bytes).unwrap();
    (path, data)
}

/// `seconds` of a 16 kHz tone with some noise-like content, as a WAV file.
fn wav(name: &str, seconds: u32) -> PathBuf {
    let path = scratch(name);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for i in 0..16_000 * seconds {
        let t = f64::from(i) / 16_000.0;
        let s = 12_000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
            + 3_000.0 * (f64::from(i) * 0.37).sin();
        w.write_sample(s as i16).unwrap();
    }
    w.finalize().unwrap();
    path
}

fn number(stdout: &str, prefix: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no '{prefix}' in\n{stdout}"))
}

#[test]
fn firmware_reads_the_stream_by_dma_in_order_and_on_time() {
    let (file, data) = raw_samples("pattern.raw", 1_000);
    // (board, clock, rate)
    for (board, clock, rate) in [
        ("nucleo-l4r5zi", 120_000_000u64, 16_000u64),
        ("nucleo-g0b1re", 64_000_000, 8_000),
    ] {
        let elf = firmware(board, "stream_dma", &[]);
        let run = mcusim([
            "run",
            "-q",
            "--board",
            board,
            elf.to_str().unwrap(),
            "--stream",
            file.to_str().unwrap(),
            "--stream-rate",
            &rate.to_string(),
        ]);
        assert_eq!(run.status, 0, "{board}: {}{}", run.stdout, run.stderr);
        // Routed to another request line, the channel moves nothing, and the stream, unread,
        // loses its second sample.
        assert!(
            run.stdout
                .contains("stream_dma: misrouted: 256 of 256 items left, 2 samples played, 1 lost"),
            "{board}: {}",
            run.stdout
        );
        // Routed right, the next 256 samples land in order.
        let taken = &data[2..258];
        let sum: i64 = taken.iter().map(|&s| i64::from(s)).sum();
        let line = format!(
            "stream_dma: 256 samples from 2 at {rate} Hz, sum {sum}, first {}, last {}",
            taken[0], taken[255]
        );
        assert!(
            run.stdout.contains(&line),
            "{board}: no '{line}' in\n{}",
            run.stdout
        );
        assert!(run.stdout.contains("stream_dma: 0 samples lost meanwhile"));
        // The 256th sample arrives ceil(256 x f / rate) cycles after EN (the stream keeps
        // real time); the DMA's item then takes 6 cycles (AN4031 sec. 3.1: 2 per port, a
        // peripheral read and an SRAM write without wait states), and the firmware's reading
        // of the counter around it adds a few.
        let expected = (256 * clock).div_ceil(rate) + 6;
        let cycles = number(
            &run.stdout
                .lines()
                .filter(|l| l.contains("cycles from EN"))
                .collect::<String>(),
            "stream_dma: ",
        );
        assert!(
            (expected..expected + 40).contains(&cycles),
            "{board}: {cycles} cycles, expected {expected} and a few"
        );
    }
}

#[test]
fn without_a_file_the_stream_ends_at_once() {
    let elf = firmware("nucleo-l4r5zi", "stream_dma", &[]);
    let run = mcusim([
        "run",
        "-q",
        "--board",
        "nucleo-l4r5zi",
        elf.to_str().unwrap(),
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("stream_dma: no samples, EOS 1"),
        "{}",
        run.stdout
    );
}

fn autoencoder() -> String {
    format!(
        "{}/examples/models/autoencoder.tflite",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn stream_profile(window: &str, out: &str, audio: &Path) -> (Run, serde_json::Value, String) {
    let json = scratch(out);
    let model = autoencoder();
    let run = mcusim([
        "profile",
        model.as_str(),
        "--board",
        "nucleo-g0b1re",
        "-q",
        "--stream",
        audio.to_str().unwrap(),
        "--stream-window",
        window,
        "--battery-mah",
        "220",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    let text = std::fs::read_to_string(&json).unwrap();
    let p: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_valid("profile", &p);
    (run, p, text)
}

#[test]
fn a_streaming_model_reports_margin_duty_cycle_power_and_battery_life() {
    let audio = wav("two-seconds.wav", 2);
    let (run, p, first) = stream_profile("4000", "stream-a.json", &audio);
    let s = &p["stream"];
    let f = |k: &str| s[k].as_f64().unwrap_or_else(|| panic!("no {k} in {s}"));
    // 32,000 samples in windows of 4,000 (250 ms each): all 8 run, none missed.
    assert_eq!(s["samples"], 32_000);
    assert_eq!(s["windows"], 8, "{s}");
    assert_eq!(s["inferences"], 8);
    assert_eq!(s["missed_windows"], 0);
    assert_eq!(s["late_windows"], 0);
    assert_eq!(f("period_ms"), 250.0);
    // 64 MHz: 16,000,000 cycles a period.
    assert_eq!(s["period_cycles"], 16_000_000);
    let (worst, mean) = (f("inference_worst_ms"), f("inference_mean_ms"));
    assert!(worst >= mean && mean > 1.0, "{s}");
    assert!((f("margin_worst_ms") - (250.0 - worst)).abs() < 1e-9);
    assert!(f("margin_worst_share") > 0.0 && f("margin_worst_share") < 1.0);
    // Awake a bit longer than the inferences take (the interrupt and the input copy).
    let duty = f("duty_cycle");
    assert!(
        duty > mean / 250.0 && duty < mean / 250.0 + 0.02,
        "duty {duty}, {s}"
    );
    // The board's model: 100 uA/MHz x 64 MHz awake, 1,600 uA asleep, at 3.0 V.
    let (awake_mw, asleep_mw) = (3.0 * 100.0 * 64.0 / 1e3, 3.0 * 1_600.0 / 1e3);
    let power = f("average_power_mw");
    let modelled = duty * awake_mw + (1.0 - duty) * asleep_mw;
    assert!(
        (power - modelled).abs() / modelled < 0.01,
        "{power} mW, {modelled} mW"
    );
    assert_eq!(f("energy_per_second_mj"), power);
    assert!((f("energy_per_inference_uj") - power * 250.0).abs() / (power * 250.0) < 1e-6);
    assert!((f("battery_hours") - 220.0 / (power / 3.0)).abs() < 1e-6);
    // The DMA took every sample: 6 cycles and 2 bytes each.
    let dma = &p["devices"][0];
    assert_eq!(dma["device"], "dma1");
    assert_eq!(dma["bytes"], 64_000);
    assert_eq!(dma["busy_cycles"], 32_000 * 6);
    assert!(
        run.stdout
            .contains("mcusim stream: 8 windows of 4000 samples, 0 missed, 0 samples lost")
    );
    // The same run again: the same bytes.
    let (_, _, again) = stream_profile("4000", "stream-b.json", &audio);
    assert_eq!(first, again, "a streaming profile is deterministic");
    // The table says it too.
    let model = autoencoder();
    let table = mcusim([
        "profile",
        model.as_str(),
        "--board",
        "nucleo-g0b1re",
        "--stream",
        audio.to_str().unwrap(),
        "--stream-window",
        "4000",
        "--battery-mah",
        "220",
    ]);
    assert!(
        table
            .stdout
            .contains("8 windows of 4000 samples (250.000 ms), 8 inferences")
    );
    assert!(
        table.stdout.contains("a 220 mAh battery lasts"),
        "{}",
        table.stdout
    );
}

#[test]
fn a_model_too_slow_for_its_windows_falls_behind() {
    let audio = wav("one-second.wav", 1);
    // Windows of 640 samples (40 ms) for an inference of about 76 ms.
    let (_, p, _) = stream_profile("640", "stream-late.json", &audio);
    let s = &p["stream"];
    assert!(s["margin_worst_ms"].as_f64().unwrap() < 0.0, "{s}");
    assert_eq!(s["late_windows"], s["inferences"]);
    assert!(s["missed_windows"].as_u64().unwrap() > 0, "{s}");
    assert!(s["duty_cycle"].as_f64().unwrap() > 0.99, "{s}");
}

#[test]
fn stream_options_that_cannot_work_are_refused() {
    let audio = wav("refused.wav", 1);
    let (raw, _) = raw_samples("norate.raw", 10);
    let elf = firmware("nucleo-l4r5zi", "stream_dma", &[]);
    let model = autoencoder();
    for (args, says) in [
        (
            vec![
                "profile",
                model.as_str(),
                "--board",
                "mps2-an386",
                "-q",
                "--stream",
                audio.to_str().unwrap(),
            ],
            "no sample stream",
        ),
        (
            vec![
                "run",
                "--board",
                "nucleo-l4r5zi",
                elf.to_str().unwrap(),
                "--stream",
                raw.to_str().unwrap(),
            ],
            "--stream-rate",
        ),
        (
            vec![
                "run",
                "--board",
                "nucleo-l4r5zi",
                elf.to_str().unwrap(),
                "--battery-mah",
                "100",
            ],
            "--stream FILE",
        ),
    ] {
        let run = mcusim(&args);
        assert_eq!(run.status, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
}
