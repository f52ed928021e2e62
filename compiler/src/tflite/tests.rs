use super::*;
use std::path::PathBuf;

/// A shared model, or `None` (with the reason printed) when `../shared` is absent.
fn shared_model(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/models")
        .join(name);
    if path.exists() {
        Some(path)
    } else {
        println!(
            "skipped: {} is absent (../shared is not beside this checkout)",
            path.display()
        );
        None
    }
}

#[test]
fn reads_the_kws_model() {
    let Some(path) = shared_model("kws_ref_model.tflite") else {
        return;
    };
    let m = Model::load(&path).unwrap();
    let ops: Vec<Op> = m.operators.iter().map(|o| o.op).collect();
    assert_eq!(m.operators.len(), 13, "README: 13 operators");
    assert_eq!(ops[0], Op::Conv2d);
    assert!(ops.contains(&Op::DepthwiseConv2d));
    assert!(ops.contains(&Op::AveragePool2d));
    assert!(ops.contains(&Op::FullyConnected));
    assert_eq!(*ops.last().unwrap(), Op::Softmax);
    let input = &m.tensors[m.inputs[0]];
    assert_eq!(input.shape, [1, 49, 10, 1]);
    assert_eq!(input.dtype, TensorType::Int8);
    assert_eq!(input.name, "input_1");
    // The first convolution has per-channel weight scales and stride 2.
    let conv = &m.operators[0];
    let w = &m.tensors[conv.inputs[1] as usize];
    assert_eq!(w.dtype, TensorType::Int8);
    assert_eq!(w.data.as_ref().unwrap().len(), w.elements());
    assert_eq!(
        w.quantization.as_ref().unwrap().scale.len(),
        w.shape[0] as usize
    );
    assert!(
        matches!(conv.options, Options::Conv { stride: (2, 2), .. }),
        "{:?}",
        conv.options
    );
}

/// MACs of a model's convolutions and fully connected layers.
fn macs(m: &Model) -> u64 {
    m.operators
        .iter()
        .map(|o| {
            let out = &m.tensors[o.outputs[0] as usize];
            let w = &m.tensors[o.inputs.get(1).copied().unwrap_or(0).max(0) as usize];
            match o.op {
                Op::Conv2d => out.elements() as u64 * (w.elements() as u64 / w.shape[0] as u64),
                Op::DepthwiseConv2d => out.elements() as u64 * (w.shape[1] * w.shape[2]) as u64,
                Op::FullyConnected => {
                    w.elements() as u64 * (out.elements() as u64 / w.shape[0] as u64)
                }
                _ => 0,
            }
        })
        .sum()
}

#[test]
fn mac_counts_match_mlperf_tiny() {
    for (name, expected) in [
        ("kws_ref_model.tflite", 2_656_768),
        ("pretrainedResnet_quant.tflite", 12_501_632),
        ("ad01_int8.tflite", 264_192),
    ] {
        let Some(path) = shared_model(name) else {
            return;
        };
        let m = Model::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(macs(&m), expected, "{name}");
    }
}

#[test]
fn garbage_and_truncated_files_are_refused_without_panicking() {
    let err = Model::parse(b"definitely not a model", "g.tflite")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("g.tflite: not a valid .tflite model: no TFL3"),
        "{err}"
    );
    let Some(path) = shared_model("kws_ref_model.tflite") else {
        return;
    };
    let bytes = std::fs::read(path).unwrap();
    for cut in [8, 64, 1000, bytes.len() / 2, bytes.len() - 1] {
        let r = std::panic::catch_unwind(|| Model::parse(&bytes[..cut], "t.tflite"));
        let r = r.unwrap_or_else(|_| panic!("panicked at cut {cut}"));
        if let Err(e) = r {
            assert!(
                e.to_string()
                    .starts_with("t.tflite: not a valid .tflite model"),
                "{e}"
            );
        }
    }
    // Random corruption anywhere: never a panic.
    let mut seed = 7u64;
    for case in 0..2000 {
        let mut b = bytes.clone();
        for _ in 0..4 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = (seed >> 33) as usize % b.len();
            b[at] = (seed >> 20) as u8;
        }
        let r =
            std::panic::catch_unwind(|| Model::parse(&b, "c.tflite").map(|m| m.check("c.tflite")));
        assert!(r.is_ok(), "case {case} panicked");
    }
}

#[test]
fn unsupported_parts_are_listed_with_operator_and_name() {
    let Some(path) = shared_model("kws_ref_model.tflite") else {
        return;
    };
    let mut m = Model::parse(&std::fs::read(path).unwrap(), "kws.tflite").unwrap();
    m.operators[1].op = Op::Other(99);
    let t = m.operators[3].outputs[0] as usize;
    m.tensors[t].dtype = TensorType::Float32;
    m.tensors[t].shape_signature[1] = -1;
    let err = m.check("kws.tflite").unwrap_err().to_string();
    // The float tensor is reported for both operators that use it.
    assert!(err.starts_with("kws.tflite: 5 problem(s):"), "{err}");
    assert!(
        err.contains("operator 4 (CONV_2D, 'functional_1/activation_4/Relu'): input tensor 25"),
        "{err}"
    );
    assert!(err.contains("operator 1 (builtin operator 99"), "{err}");
    assert!(err.contains("operator not supported"), "{err}");
    assert!(err.contains("is float32, not int8"), "{err}");
    assert!(err.contains("has a dynamic shape"), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
}
