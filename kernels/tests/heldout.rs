//! Held-out operator tests: small models the project generated (kernels/tests/heldout/
//! generate.py) covering operator options the MLPerf Tiny models do not use, each with the
//! output TensorFlow Lite Micro computed for it. Every case is read with the model reader,
//! lowered, and run through the reference, DSP and generic kernels; all must match bit for bit.

mod support;

use mcusim_compiler::npy;
use mcusim_compiler::tflite::Model;
use mcusim_kernels::Variant;
use std::path::PathBuf;
use support::run_model_inputs;

#[test]
fn heldout_models_match_tflite_micro() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/heldout/data");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&data)
        .expect("the held-out data is in the repository")
        .map(|e| e.expect("directory entry").path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let path = case.join("model.tflite");
        let model = Model::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        model
            .check(&path.display().to_string())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let layers = model.lower().unwrap_or_else(|e| panic!("{name}: {e}"));
        let inputs: Vec<Vec<i8>> = (0..model.inputs.len())
            .map(|i| {
                npy::read(&case.join(format!("input_{i}.npy")))
                    .expect("input")
                    .data
            })
            .collect();
        let want = npy::read(&case.join("output_0.npy")).expect("output").data;
        for variant in [
            Variant::Reference,
            Variant::Dispatch,
            Variant::Dsp,
            Variant::Generic,
        ] {
            let values = run_model_inputs(&model, &layers, &inputs, variant);
            let got = values[model.outputs[0]].as_ref().expect("output computed");
            let diffs = got.iter().zip(&want).filter(|(a, b)| a != b).count();
            if diffs != 0 || got.len() != want.len() {
                failures.push(format!(
                    "{name} ({variant:?}): {diffs} of {} values differ",
                    want.len()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
