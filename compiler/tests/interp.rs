//! The Rust reference interpreter against TensorFlow Lite Micro: the MLPerf Tiny models in
//! `../shared` (all recorded inputs), the held-out models and the bundled example models.

use mcusim_compiler::interp;
use mcusim_compiler::npy;
use mcusim_compiler::tflite::Model;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn check(model_path: &Path, inputs: &[PathBuf], output: &Path) {
    let model = Model::load(model_path).unwrap();
    model.check(&model_path.display().to_string()).unwrap();
    let layers = model.lower().unwrap();
    let inputs: Vec<Vec<i8>> = inputs.iter().map(|p| npy::read(p).unwrap().data).collect();
    let got = interp::run(&model, &layers, &inputs)
        .unwrap_or_else(|e| panic!("{}: {e}", model_path.display()));
    let want = npy::read(output).unwrap().data;
    assert_eq!(got[0], want, "{}", model_path.display());
}

#[test]
fn interpreter_matches_tflite_micro_on_the_mlperf_tiny_models() {
    let shared = root().join("../shared");
    if !shared.join("models").is_dir() {
        eprintln!(
            "skipped: {} is absent (the shared models and vectors)",
            shared.display()
        );
        return;
    }
    for name in ["kws_ref_model", "pretrainedResnet_quant", "ad01_int8"] {
        for n in 0..4 {
            let v = shared.join("vectors").join(name);
            check(
                &shared.join("models").join(format!("{name}.tflite")),
                &[v.join(format!("input_{n}.npy"))],
                &v.join(format!("output_{n}.npy")),
            );
        }
    }
}

#[test]
fn interpreter_matches_tflite_micro_on_the_heldout_and_example_models() {
    let data = root().join("kernels/tests/heldout/data");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20);
    for case in &cases {
        let inputs: Vec<PathBuf> = (0..8)
            .map(|k| case.join(format!("input_{k}.npy")))
            .filter(|p| p.exists())
            .collect();
        check(
            &case.join("model.tflite"),
            &inputs,
            &case.join("output_0.npy"),
        );
    }
    let examples = root().join("examples/models");
    for name in ["kws_ds_cnn", "mobilenet_tiny", "autoencoder"] {
        check(
            &examples.join(format!("{name}.tflite")),
            &[examples.join(format!("{name}.input_0.npy"))],
            &examples.join(format!("{name}.output_0.npy")),
        );
    }
}

#[test]
fn the_arithmetic_matches_known_values() {
    // 0.5 * 2^31 * 0.5 = 2^29.
    assert_eq!(interp::doubling_high_mult(1 << 30, 1 << 30), 1 << 29);
    assert_eq!(interp::doubling_high_mult(i32::MIN, i32::MIN), i32::MAX);
    // Ties away from zero.
    assert_eq!(interp::divide_by_power_of_two(3, 1), 2);
    assert_eq!(interp::divide_by_power_of_two(-3, 1), -2);
    assert_eq!(interp::divide_by_power_of_two(5, 2), 1);
    // exp(0) is one; exp(-1) in Q0.31 is about 0.3679 * 2^31.
    assert_eq!(interp::exp_on_negative_values(0, 5), i32::MAX);
    let e = interp::exp_on_negative_values(-(1 << 26), 5);
    assert!((f64::from(e) / 2f64.powi(31) - (-1f64).exp()).abs() < 1e-6);
}
