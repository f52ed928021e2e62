//! A `.tflite` file: read, checked, lowered, planned (every layer the NPU takes on it, with
//! NHCWB16 bricks), interpreted on a zero input and generated as C. None may panic; a model
//! the checks pass must plan, interpret and generate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcusim_compiler::tflite::Model;
use mcusim_compiler::{codegen, interp, place, plan};

fuzz_target!(|data: &[u8]| {
    let Ok(model) = Model::parse(data, "fuzz.tflite") else {
        return;
    };
    if model.check("fuzz.tflite").is_err() {
        return;
    }
    let Ok(layers) = model.lower() else {
        return;
    };
    let on_npu: Vec<bool> = place::place(&layers, true).iter().map(|p| p.npu).collect();
    let p = plan::plan_with_npu(&model, &layers, true, &on_npu, &[]);
    let inputs: Vec<Vec<i8>> = model
        .inputs
        .iter()
        .map(|&t| vec![0; model.tensors[t].elements()])
        .collect();
    let _ = interp::run(&model, &layers, &inputs);
    let options = codegen::Options {
        source_name: "fuzz.tflite".into(),
        reference_kernels: false,
        weights_in_sram: false,
        layer_markers: true,
        npu: on_npu,
    };
    let _ = codegen::generate(&model, &layers, &p, &options);
});
