//! The kernels against TensorFlow Lite Micro on the MLPerf Tiny models in `../shared`: every
//! layer against the recorded intermediate tensors, and whole models on all recorded inputs,
//! through the reference kernels and through the optimised ones (both the DSP variants, their
//! intrinsics emulated on the host, and the portable ones).

mod support;

use mcusim_compiler::npy;
use mcusim_compiler::tflite::Model;
use mcusim_kernels::Variant;
use support::{run_layer, run_model, shared};

const VARIANTS: [Variant; 3] = [Variant::Reference, Variant::Dsp, Variant::Generic];

fn load(shared: &std::path::Path, name: &str) -> Model {
    let path = shared.join("models").join(format!("{name}.tflite"));
    let model = Model::load(&path).expect("model loads");
    model
        .check(&path.display().to_string())
        .expect("model is supported");
    model
}

#[test]
fn whole_models_match_tflite_micro_on_every_input() {
    let Some(shared) = shared() else { return };
    for name in ["kws_ref_model", "pretrainedResnet_quant", "ad01_int8"] {
        let model = load(&shared, name);
        let layers = model.lower().expect("model lowers");
        for n in 0..4 {
            let dir = shared.join("vectors").join(name);
            let input = npy::read(&dir.join(format!("input_{n}.npy"))).expect("input vector");
            let want = npy::read(&dir.join(format!("output_{n}.npy"))).expect("output vector");
            for variant in VARIANTS {
                let values = run_model(&model, &layers, &input.data, variant);
                let got = values[model.outputs[0]].as_ref().expect("output computed");
                let diffs = got.iter().zip(&want.data).filter(|(a, b)| a != b).count();
                assert_eq!(
                    diffs,
                    0,
                    "{name} input {n} ({variant:?}): {diffs} of {} outputs differ",
                    want.data.len()
                );
            }
        }
    }
}

#[test]
fn every_layer_matches_the_recorded_intermediate_tensors() {
    let Some(shared) = shared() else { return };
    for name in ["kws_ref_model", "pretrainedResnet_quant"] {
        let model = load(&shared, name);
        let layers = model.lower().expect("model lowers");
        let dir = shared.join("vectors").join(name).join("tensors_0");
        let index: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("index.json")).expect("index.json"),
        )
        .expect("json");
        let mut recorded: Vec<Option<Vec<i8>>> = vec![None; model.tensors.len()];
        for entry in index.as_array().expect("a list") {
            let i = entry["index"].as_u64().expect("index") as usize;
            let file = entry["file"].as_str().expect("file");
            recorded[i] = Some(npy::read(&dir.join(file)).expect("tensor").data);
        }
        let mut checked = 0;
        for layer in &layers {
            let Some(want) = recorded[layer.outputs[0]].as_ref() else {
                continue;
            };
            if layer.inputs.iter().any(|&i| recorded[i].is_none()) {
                continue;
            }
            for variant in VARIANTS {
                let got = run_layer(&model, layer, &recorded, variant);
                let diffs = got.iter().zip(want).filter(|(a, b)| a != b).count();
                assert_eq!(
                    diffs,
                    0,
                    "{name} layer {} ({}, {variant:?}): {diffs} of {} values differ",
                    layer.index,
                    layer.op.name(),
                    want.len()
                );
            }
            checked += 1;
        }
        assert_eq!(
            checked,
            layers.len(),
            "{name}: every layer had recorded inputs and outputs"
        );
    }
}
