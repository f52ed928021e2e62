//! mcusim's NPU (`sim/src/devices/npu.rs`) driven by real firmware through the runtime's
//! driver (`kernels/runtime/mcusim_npu.h`) on `corstone-300`: one descriptor of each kind
//! agrees with the CPU's reference kernel and takes the cycles Vela's model gives; a bad
//! descriptor fails with its index; a compiled model runs its layers on the NPU while the
//! core sleeps, and the profile shows it.

use crate::support::*;

const BOARD: &str = "corstone-300";

/// Each descriptor's cycles: Vela 5.2.0's estimate of the same layer on the U55-128 with
/// `Ethos_U55_High_End_Embedded` (the largest of compute and each port's transfers;
/// `xtask/vela/layer_cycles.py` computes them with Vela's own functions), plus mcusim's
/// 32-cycle descriptor fetch.
const EXPECTED: [(&str, u64, u64); 7] = [
    // (operation, cycles, MACs); compute-bound unless noted.
    ("CONV_2D", 6804 + 32, 589_824),
    ("DEPTHWISE_CONV_2D", 1280 + 32, 9216),
    ("FULLY_CONNECTED", 10260 + 32, 65_536),
    ("AVERAGE_POOL_2D", 1344 + 32, 4096),
    ("MAX_POOL_2D", 1284 + 32, 4096),
    ("ADD", 6144 + 32, 0),
    ("MUL", 3072 + 32, 0),
];

#[test]
fn each_descriptor_agrees_with_the_cpu_and_takes_velas_cycles() {
    let elf = kernel_firmware(BOARD, "npu_layers");
    let run = mcusim(["run", "-q", "--board", BOARD, elf.to_str().unwrap()]);
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    for (op, cycles, macs) in EXPECTED {
        let line = run
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("npu_layers: {op} ")))
            .unwrap_or_else(|| panic!("no line for {op}: {}", run.stdout));
        assert!(line.starts_with("agrees"), "{op}: {line}");
        let numbers: Vec<u64> = line
            .split([',', ' ', '+'])
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(numbers[..2], [cycles, macs], "{op}: {line}");
    }
    // The convolution on staged weights agrees, waited for the copy (which was still in flight
    // when the driver returned) and its bytes came from flash.
    let staged = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("npu_layers: STAGED "))
        .unwrap_or_else(|| panic!("no staged line: {}", run.stdout));
    assert!(staged.starts_with("agrees"), "{staged}");
    assert!(staged.contains("copy in flight"), "{staged}");
    let numbers: Vec<u64> = staged
        .split([',', ' '])
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(
        numbers[0] > 6804 + 2 * 32,
        "no wait for the weights: {staged}"
    );
    assert!(
        (1..=2304).contains(&numbers[1]),
        "the copy's flash bytes: {staged}"
    );
    // A convolution writing NHCWB16 bricks and a pool reading them agree with the CPU, and
    // the bricks are where the format says.
    assert!(
        run.stdout
            .contains("npu_layers: BRICKS agrees, laid out as NHCWB16"),
        "{}",
        run.stdout
    );
    // Four weight DMAs queue at once (each descriptor its 32-cycle fetch); the fifth waits
    // for the oldest to land (a copy of 1 KiB from flash at an eighth of the clock, begun a
    // few hundred cycles before). All five land.
    let queue = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("npu_layers: DMA QUEUE "))
        .unwrap_or_else(|| panic!("no DMA queue line: {}", run.stdout));
    assert!(queue.starts_with("copied"), "{queue}");
    let took: Vec<u64> = queue
        .split([',', ' '])
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(took.len(), 5, "{queue}");
    assert!(took[..4].iter().all(|&t| t == 32), "{queue}");
    assert!(took[4] > 4 * 32, "the fifth did not wait: {queue}");
    // The second descriptor of the queue is bad: the driver returns 1 + its index.
    assert!(
        run.stdout.contains("npu_layers: bad descriptor -> 2"),
        "{}",
        run.stdout
    );
    // Past the cap on one descriptor's work (`npu::MAX_WORK`): refused, not computed.
    assert!(
        run.stdout.contains("npu_layers: too much work -> 1"),
        "{}",
        run.stdout
    );
}

/// KWS compiled for the NPU board: its convolutions run on the NPU while the core sleeps,
/// the layers the NPU lacks stay on the CPU with the reason said, and `--cpu-only` runs
/// everything on the CPU, slower.
#[test]
fn a_model_runs_on_the_npu_and_the_profile_shows_it() {
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("npu");
    std::fs::create_dir_all(&dir).unwrap();
    let profile = |extra: &[&str], out: &str| {
        let out = dir.join(out);
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "profile".as_ref(),
            model.as_os_str(),
            "--board".as_ref(),
            BOARD.as_ref(),
            "--json".as_ref(),
            out.as_os_str(),
        ];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        let run = mcusim(args);
        assert_eq!(run.status, 0, "{}", run.stderr);
        let p: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_valid("profile", &p);
        (run, p)
    };
    let (run, npu) = profile(&[], "npu.json");
    assert!(
        run.stderr.contains("layers on the NPU"),
        "the placement is said: {}",
        run.stderr
    );
    assert!(
        run.stdout.contains("of its 128-MAC peak"),
        "the NPU's MAC utilisation: {}",
        run.stdout
    );
    let header = run.stdout.lines().next().unwrap_or("");
    assert!(header.ends_with("  engine"), "the engine column: {header}");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.contains("  npu ") && l.contains('%'))
            && run.stdout.lines().any(|l| l.ends_with("  cpu")),
        "each layer's engine: {}",
        run.stdout
    );
    // The CSV gets the engine, the NPU's cycles, Vela's Util% and the bound.
    let csv = dir.join("npu.csv");
    let run_csv = mcusim([
        "profile".as_ref(),
        model.as_os_str(),
        "--board".as_ref(),
        BOARD.as_ref(),
        "-q".as_ref(),
        "--csv".as_ref(),
        csv.as_os_str(),
    ]);
    assert_eq!(run_csv.status, 0, "{}", run_csv.stderr);
    let csv = std::fs::read_to_string(&csv).unwrap();
    let mut rows = csv.lines();
    let header = rows.next().unwrap();
    assert!(
        header.ends_with(",Engine,NPU Cycles,Bound") && header.contains(",Util%,"),
        "{csv}"
    );
    assert!(
        rows.any(|r| r.contains(",npu,") && r.ends_with(",compute")),
        "{csv}"
    );
    let (_, again) = profile(&[], "again.json");
    assert_eq!(npu["layers"], again["layers"], "deterministic");
    let (_, cpu) = profile(&["--cpu-only"], "cpu.json");
    let cycles = |p: &serde_json::Value| p["totals"]["cycles"].as_u64().unwrap();
    assert!(
        cycles(&npu) * 3 < cycles(&cpu),
        "the NPU is much faster: {} against {}",
        cycles(&npu),
        cycles(&cpu)
    );
    let npu_busy = |l: &serde_json::Value| {
        l["devices"].as_array().and_then(|d| {
            d.iter().find(|d| d["device"] == "npu").map(|d| {
                (
                    d["busy_cycles"].as_u64().unwrap(),
                    d["macs"].as_u64().unwrap(),
                )
            })
        })
    };
    let mut on_npu = 0;
    for l in npu["layers"].as_array().unwrap() {
        if let Some((busy, macs)) = npu_busy(l) {
            on_npu += 1;
            // The model's MACs; a pool's window sums count too on the NPU (as Vela counts them).
            let model_macs = l["macs"].as_u64().unwrap();
            assert!(
                macs == model_macs || model_macs == 0,
                "{}: {macs}",
                l["name"]
            );
            let layer = l["cycles"].as_u64().unwrap();
            assert!(
                busy <= layer && busy > 0,
                "{}: {busy} of {layer}",
                l["name"]
            );
            // The core sleeps in WFI while the NPU works.
            let sleep = l["breakdown"]["sleep"].as_u64().unwrap_or(0);
            assert!(sleep * 2 > busy, "{}: asleep {sleep} of {busy}", l["name"]);
            // The layer's engine, the NPU's MAC utilisation against its 128-MAC peak and
            // what bound it, as the device logged it.
            assert_eq!(l["engine"], "npu", "{}", l["name"]);
            let d = l["devices"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["device"] == "npu")
                .unwrap();
            let u = d["mac_utilisation"].as_f64().unwrap();
            assert!(
                (u - macs as f64 / (busy as f64 * 128.0)).abs() < 1e-9,
                "{}: {u}",
                l["name"]
            );
            let work = d["work"].as_str().unwrap();
            assert!(
                ["(compute)", "(sram)", "(flash)"]
                    .iter()
                    .any(|b| work.ends_with(b)),
                "{}: {work}",
                l["name"]
            );
        } else {
            assert_eq!(l["engine"], "cpu", "{}", l["name"]);
            assert!(
                ["SOFTMAX", "RESHAPE"].contains(&l["op"].as_str().unwrap()),
                "only what the NPU lacks stays on the CPU: {}",
                l["op"]
            );
        }
    }
    assert!(on_npu >= 4, "{on_npu} layers on the NPU");
    for l in cpu["layers"].as_array().unwrap() {
        assert!(
            npu_busy(l).is_none(),
            "--cpu-only: {} on the NPU",
            l["name"]
        );
        assert_eq!(l["engine"], "cpu", "--cpu-only: {}", l["name"]);
    }
}
