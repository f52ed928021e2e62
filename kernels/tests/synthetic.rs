//! Random synthetic models (compiler::synth) through the C kernels on the host, every variant,
//! against the Rust reference interpreter.

mod support;

use mcusim_compiler::tflite::Model;
use mcusim_compiler::{interp, synth, tflite::writer};
use mcusim_kernels::Variant;
use support::run_model_inputs;

#[test]
fn random_models_give_the_interpreters_bytes_through_every_kernel_variant() {
    for seed in 0..400u64 {
        let bytes = writer::write(&synth::random_model(seed));
        let model = Model::parse(&bytes, "synthetic.tflite").unwrap();
        let layers = model.lower().unwrap();
        let input = synth::random_input(seed, model.tensors[model.inputs[0]].elements());
        let want = interp::run(&model, &layers, std::slice::from_ref(&input)).unwrap();
        for variant in [
            Variant::Reference,
            Variant::Dispatch,
            Variant::Dsp,
            Variant::Generic,
        ] {
            let values = run_model_inputs(&model, &layers, std::slice::from_ref(&input), variant);
            let got = values[model.outputs[0]].as_ref().unwrap();
            assert_eq!(got, &want[0], "seed {seed}, {variant:?}");
        }
    }
}
