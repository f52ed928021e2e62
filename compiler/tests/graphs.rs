//! Synthetic models: random graphs written as `.tflite` read back, checked, lowered and
//! interpreted; the written file is what the reader reads.

use mcusim_compiler::synth;
use mcusim_compiler::tflite::writer;
use mcusim_compiler::tflite::{Model, Op};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_models_round_trip_and_interpret(seed in any::<u64>()) {
        let spec = synth::random_model(seed);
        let bytes = writer::write(&spec);
        let model = Model::parse(&bytes, "synthetic.tflite").unwrap();
        model.check("synthetic.tflite").unwrap();
        prop_assert_eq!(model.operators.len(), spec.operators.len());
        prop_assert_eq!(model.tensors.len(), spec.tensors.len());
        for (t, s) in model.tensors.iter().zip(&spec.tensors) {
            prop_assert_eq!(&t.shape, &s.shape);
            prop_assert_eq!(&t.name, &s.name);
        }
        let layers = model.lower().unwrap();
        let input = synth::random_input(seed, model.tensors[model.inputs[0]].elements());
        let out = mcusim_compiler::interp::run(&model, &layers, &[input]).unwrap();
        prop_assert_eq!(out[0].len(), model.tensors[model.outputs[0]].elements());
    }
}

#[test]
fn written_models_carry_the_operators_and_options() {
    // Over many seeds every operator the generator knows appears.
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..300 {
        let bytes = writer::write(&synth::random_model(seed));
        let model = Model::parse(&bytes, "synthetic.tflite").unwrap();
        for op in &model.operators {
            seen.insert(op.op.name());
        }
    }
    for op in [
        Op::Conv2d,
        Op::DepthwiseConv2d,
        Op::AveragePool2d,
        Op::MaxPool2d,
        Op::Add,
        Op::Mul,
        Op::Pad,
        Op::Reshape,
        Op::FullyConnected,
        Op::Softmax,
        Op::Logistic,
        Op::Tanh,
    ] {
        assert!(seen.contains(&op.name()), "{} never generated", op.name());
    }
}

#[test]
fn generated_c_is_deterministic() {
    use mcusim_compiler::{codegen, plan};
    for seed in 0..20 {
        let bytes = writer::write(&synth::random_model(seed));
        let model = Model::parse(&bytes, "synthetic.tflite").unwrap();
        let layers = model.lower().unwrap();
        let generate = || {
            let p = plan::plan(&model, &layers, true);
            let options = codegen::Options {
                source_name: "synthetic.tflite".into(),
                reference_kernels: false,
                weights_in_sram: false,
                layer_markers: true,
                npu: Vec::new(),
            };
            let g = codegen::generate(&model, &layers, &p, &options);
            (g.header, g.source)
        };
        assert_eq!(generate(), generate());
    }
}

/// The generated C defines and calls what the firmware ABI names, so the binary finds the
/// input, the output, the arena and the layers by those names.
#[test]
fn generated_c_defines_the_firmware_abi() {
    use mcusim_compiler::{codegen, plan};
    use mcusim_traces::abi;
    let bytes = writer::write(&synth::random_model(1));
    let model = Model::parse(&bytes, "synthetic.tflite").unwrap();
    let layers = model.lower().unwrap();
    let p = plan::plan(&model, &layers, true);
    let options = codegen::Options {
        source_name: "synthetic.tflite".into(),
        reference_kernels: false,
        weights_in_sram: false,
        layer_markers: true,
        npu: Vec::new(),
    };
    let g = codegen::generate(&model, &layers, &p, &options);
    for defined in [
        format!("const int8_t {}[", abi::INPUT_DATA),
        format!("int8_t {}[", abi::OUTPUT_DATA),
        format!("{}[", abi::ARENA[0]),
        format!("mcusim_layer_info {}0 =", abi::LAYER_OBJECT_PREFIX),
        format!("{}(&{}0);", abi::LAYER_BEGIN, abi::LAYER_OBJECT_PREFIX),
        format!("{}(&{}0);", abi::LAYER_END, abi::LAYER_OBJECT_PREFIX),
    ] {
        assert!(
            g.source.contains(&defined),
            "no `{defined}` in the generated C"
        );
    }
}

/// On random models placed on an NPU, a tensor lies in bricks only where the NPU alone
/// writes and reads it: never a model input or output, never a CPU layer's operand, and a
/// fully connected layer's only as rows of channels; its buffer holds the padded depth.
#[test]
fn bricks_are_only_between_npu_layers() {
    use mcusim_compiler::{place, plan};
    let mut some = 0;
    for seed in 0..200 {
        let bytes = writer::write(&synth::random_model(seed));
        let model = Model::parse(&bytes, "synthetic.tflite").unwrap();
        let layers = model.lower().unwrap();
        let on_npu: Vec<bool> = place::place(&layers, true).iter().map(|p| p.npu).collect();
        let p = plan::plan_with_npu(&model, &layers, true, &on_npu, &[]);
        for (t, &brick) in p.bricks.iter().enumerate() {
            if !brick {
                continue;
            }
            some += 1;
            assert!(!model.inputs.contains(&t) && !model.outputs.contains(&t));
            let mut writers = 0;
            for (pos, l) in layers.iter().enumerate() {
                if l.inputs.contains(&t) || l.outputs.contains(&t) {
                    assert!(
                        on_npu[pos],
                        "seed {seed}: tensor {t} touched by CPU layer {pos}"
                    );
                }
                writers += usize::from(l.outputs.contains(&t));
                if l.kernel.operator().flattens() && l.inputs.contains(&t) {
                    let s = &model.tensors[t].shape;
                    assert!(s[1..s.len() - 1].iter().all(|&d| d == 1), "seed {seed}");
                }
            }
            assert!(writers > 0);
            let b = p
                .buffers
                .iter()
                .find(|b| b.kind == plan::BufferKind::Tensor(t))
                .unwrap();
            assert!(b.size >= plan::brick_bytes(&model.tensors[t]));
        }
    }
    assert!(some > 0, "no random model had a brick tensor");
}
