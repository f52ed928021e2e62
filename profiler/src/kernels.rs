//! Kernel entry points recognised by symbol, for firmware without layer markers: each
//! outermost call of one of them is a layer. Recognised: mcusim's own kernels (`mnn_*_s8`),
//! CMSIS-NN's (`arm_*_s8`, `arm_*_s16`, `arm_*_s4`, not its `arm_nn_*` internals) and
//! TensorFlow Lite Micro's operator invoke functions (`tflite::...::Eval` and its kin with
//! the signature of `TfLiteRegistration::invoke`, told by their demangled names), which call
//! the others and so take precedence by being outermost.

use crate::elf::{Function, Image};

/// Whether the function is a kernel entry point.
pub fn is_kernel(f: &Function) -> bool {
    is_c_kernel(&f.symbol) || is_tflite_invoke(&f.name)
}

/// mnn's and CMSIS-NN's kernels, by their C names.
fn is_c_kernel(name: &str) -> bool {
    if name.ends_with("_get_buffer_size") || name.ends_with("_get_stripe_size") {
        return false;
    }
    if let Some(rest) = name.strip_prefix("mnn_") {
        let base = ["_ref", "_dsp", "_generic", "_opt"]
            .iter()
            .find_map(|s| rest.strip_suffix(s))
            .unwrap_or(rest);
        return (base.ends_with("_s8") && base != "copy_s8")
            || base == "quantize_f32_s8"
            || base == "dequantize_s8_f32";
    }
    if let Some(rest) = name.strip_prefix("arm_") {
        return !rest.starts_with("nn_")
            && !rest.starts_with("memcpy")
            && !rest.starts_with("memset")
            && ["_s8", "_s16", "_s4"]
                .iter()
                .any(|s| rest.ends_with(s) || rest.contains(&format!("{s}_")));
    }
    false
}

/// A demangled C++ name split into its scope path (`tflite`, `(anonymous namespace)`, ...),
/// its last component and its parameter list, or `None` if it has no parameter list.
fn split_cpp(name: &str) -> Option<(Vec<&str>, &str, &str)> {
    // The first parenthesis that is not part of a `(anonymous namespace)` scope.
    let mut at = 0;
    let open = loop {
        let i = at + name[at..].find('(')?;
        if name[i..].starts_with("(anonymous namespace)") {
            at = i + "(anonymous namespace)".len();
        } else {
            break i;
        }
    };
    let mut path: Vec<&str> = name[..open].split("::").collect();
    let last = path.pop()?;
    Some((path, last, &name[open..]))
}

/// TFLite Micro's operator invoke functions: `tflite::<scopes>::<...Eval...>(TfLiteContext*,
/// TfLiteNode*)`, the signature every registered operator's `invoke` has. `Prepare` has it
/// too, hence the name; helpers (`EvalQuantizedPerChannel(...)`) take more parameters.
fn is_tflite_invoke(name: &str) -> bool {
    match split_cpp(name) {
        Some((path, last, params)) => {
            path.first() == Some(&"tflite")
                && last.contains("Eval")
                && params.starts_with("(TfLiteContext*, TfLiteNode*)")
        }
        None => false,
    }
}

/// The TFLite operator a kernel function computes (`None` if nothing says).
pub fn op_of(f: &Function) -> Option<&'static str> {
    if f.symbol.starts_with("mnn_") || f.symbol.starts_with("arm_") {
        return op_of_c_kernel(&f.symbol);
    }
    if !is_tflite_invoke(&f.name) {
        return None;
    }
    let (path, last, _) = split_cpp(&f.name)?;
    let word = last.replace("Eval", "").to_ascii_lowercase();
    // TFLite Micro keeps one operator per source file, named after it: `kernels/conv.cpp`,
    // `kernels/cmsis_nn/depthwise_conv.cpp`. Pooling and activations hold several, told
    // apart by the function's name.
    let from_file = f.source.as_ref().and_then(|(path, _)| {
        let (dir, file) = path.rsplit_once(['/', '\\'])?;
        if !dir.replace('\\', "/").split('/').any(|d| d == "kernels") {
            return None;
        }
        let stem = file.split('.').next()?;
        match stem {
            "pooling" | "activations" | "reduce" | "maximum_minimum" | "elementwise" => {
                op_word(&word)
            }
            _ => op_file(stem),
        }
    });
    from_file
        .or_else(|| op_word(&word))
        .or_else(|| path.iter().rev().find_map(|scope| op_file(scope)))
}

/// The operator a TFLite Micro kernel source file (its stem) implements.
fn op_file(stem: &str) -> Option<&'static str> {
    const FILES: [(&str, &str); 18] = [
        ("conv", "CONV_2D"),
        ("depthwise_conv", "DEPTHWISE_CONV_2D"),
        ("fully_connected", "FULLY_CONNECTED"),
        ("transpose_conv", "TRANSPOSE_CONV"),
        ("softmax", "SOFTMAX"),
        ("reshape", "RESHAPE"),
        ("add", "ADD"),
        ("mul", "MUL"),
        ("sub", "SUB"),
        ("pad", "PAD"),
        ("concatenation", "CONCATENATION"),
        ("quantize", "QUANTIZE"),
        ("dequantize", "DEQUANTIZE"),
        ("logistic", "LOGISTIC"),
        ("tanh", "TANH"),
        ("svdf", "SVDF"),
        ("strided_slice", "STRIDED_SLICE"),
        ("l2_pool_2d", "L2_POOL_2D"),
    ];
    FILES.iter().find(|(f, _)| *f == stem).map(|(_, op)| *op)
}

/// The operator an invoke function's name says (`AverageEval`, `EvalAdd`, `Relu6Eval`),
/// lower-cased with `Eval` taken out.
fn op_word(word: &str) -> Option<&'static str> {
    const WORDS: [(&str, &str); 14] = [
        ("average", "AVERAGE_POOL_2D"),
        ("max", "MAX_POOL_2D"),
        ("relu6", "RELU6"),
        ("relu", "RELU"),
        ("softmax", "SOFTMAX"),
        ("reshape", "RESHAPE"),
        ("add", "ADD"),
        ("mul", "MUL"),
        ("sub", "SUB"),
        ("mean", "MEAN"),
        ("quantize", "QUANTIZE"),
        ("dequantize", "DEQUANTIZE"),
        ("logistic", "LOGISTIC"),
        ("tanh", "TANH"),
    ];
    WORDS.iter().find(|(w, _)| *w == word).map(|(_, op)| *op)
}

/// The TFLite operator an mnn or CMSIS-NN kernel computes, from its name.
fn op_of_c_kernel(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    // Longest, most specific first: "depthwise" before "conv", "dequantize" before "quantize".
    const OPS: [(&str, &str); 17] = [
        ("depthwise", "DEPTHWISE_CONV_2D"),
        ("transpose_conv", "TRANSPOSE_CONV"),
        ("conv", "CONV_2D"),
        ("fully_connected", "FULLY_CONNECTED"),
        ("avgpool", "AVERAGE_POOL_2D"),
        ("avg_pool", "AVERAGE_POOL_2D"),
        ("maxpool", "MAX_POOL_2D"),
        ("max_pool", "MAX_POOL_2D"),
        ("softmax", "SOFTMAX"),
        ("concat", "CONCATENATION"),
        ("dequantize", "DEQUANTIZE"),
        ("quantize", "QUANTIZE"),
        ("logistic", "LOGISTIC"),
        ("sigmoid", "LOGISTIC"),
        ("tanh", "TANH"),
        ("elementwise_add", "ADD"),
        ("elementwise_mul", "MUL"),
    ];
    if let Some((_, op)) = OPS.iter().find(|(k, _)| n.contains(k)) {
        return Some(op);
    }
    let base = n.strip_prefix("mnn_").or_else(|| n.strip_prefix("arm_"))?;
    [
        ("add_", "ADD"),
        ("mul_", "MUL"),
        ("pad_", "PAD"),
        ("reshape", "RESHAPE"),
    ]
    .iter()
    .find(|(k, _)| base.starts_with(k))
    .map(|(_, op)| *op)
}

/// The entry addresses of the image's kernel functions.
pub fn entries(image: &Image) -> Vec<u32> {
    image
        .functions()
        .iter()
        .filter(|f| is_kernel(f))
        .map(|f| f.start)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::demangle;

    fn function(symbol: &str, source: Option<&str>) -> Function {
        Function {
            start: 0x100,
            end: 0x200,
            name: demangle(symbol),
            symbol: symbol.into(),
            source: source.map(|s| (s.to_owned(), 10)),
        }
    }

    #[test]
    fn kernel_names_are_recognised() {
        for name in [
            "mnn_conv_s8",
            "mnn_conv_s8_dsp",
            "mnn_depthwise_conv_s8_opt",
            "mnn_add_s8_ref",
            "mnn_quantize_f32_s8",
            "arm_convolve_s8",
            "arm_convolve_wrapper_s8",
            "arm_depthwise_conv_s8_opt",
            "arm_fully_connected_s16",
            "arm_elementwise_add_s8",
            "arm_softmax_s8",
            "_ZN6tflite12_GLOBAL__N_14EvalEP13TfLiteContextP10TfLiteNode",
            "_ZN6tflite12_GLOBAL__N_111AverageEvalEP13TfLiteContextP10TfLiteNode",
            "_ZN6tflite3ops5micro7reshape4EvalEP13TfLiteContextP10TfLiteNode",
            "_ZN6tflite7EvalAddEP13TfLiteContextP10TfLiteNode",
        ] {
            assert!(is_kernel(&function(name, None)), "{name}");
        }
        for name in [
            "mnn_conv_s8_get_buffer_size",
            "mnn_copy_s8",
            "mnn_requantize_row",
            "arm_nn_mat_mult_kernel_s8_s16",
            "arm_convolve_s8_get_buffer_size",
            "arm_memcpy_s8",
            "main",
            "_ZN6tflite16MicroInterpreter6InvokeEv",
            // Not operator invoke functions, though their names hold "Eval".
            "_ZN6tflite14MicroAllocator25AllocateTfLiteEvalTensorsEPKNS_5ModelEPNS_19SubgraphAllocationsE",
            "_ZN6tflite26TfLiteEvalTensorByteLengthEPK16TfLiteEvalTensorPj",
            "_ZN6tflite5micro12GetEvalInputEPK13TfLiteContextPK10TfLiteNodei",
            "_ZN6tflite12_GLOBAL__N_123EvalQuantizedPerChannelEP13TfLiteContextP10TfLiteNodeRK16TfLiteConvParamsRKNS0_6OpDataEPK16TfLiteEvalTensorSD_SD_PSB_.constprop.0",
            "_ZN6tflite12_GLOBAL__N_17PrepareEP13TfLiteContextP10TfLiteNode",
        ] {
            assert!(!is_kernel(&function(name, None)), "{name}");
        }
    }

    #[test]
    fn operators_follow_from_names() {
        let op = |symbol: &str| op_of(&function(symbol, None));
        assert_eq!(op("mnn_depthwise_conv_s8_opt"), Some("DEPTHWISE_CONV_2D"));
        assert_eq!(op("arm_convolve_1x1_s8_fast"), Some("CONV_2D"));
        assert_eq!(op("mnn_dequantize_s8_f32"), Some("DEQUANTIZE"));
        assert_eq!(op("mnn_quantize_f32_s8"), Some("QUANTIZE"));
        assert_eq!(op("mnn_add_s8"), Some("ADD"));
        assert_eq!(op("arm_elementwise_mul_s8"), Some("MUL"));
        assert_eq!(op("mnn_pad_s8"), Some("PAD"));
        assert_eq!(op("mnn_avgpool_s8"), Some("AVERAGE_POOL_2D"));
        assert_eq!(op("main"), None);
        assert_eq!(
            op("_ZN6tflite12_GLOBAL__N_111AverageEvalEP13TfLiteContextP10TfLiteNode"),
            Some("AVERAGE_POOL_2D")
        );
        assert_eq!(
            op("_ZN6tflite12_GLOBAL__N_111SoftmaxEvalEP13TfLiteContextP10TfLiteNode"),
            Some("SOFTMAX")
        );
        assert_eq!(
            op("_ZN6tflite3ops5micro7reshape4EvalEP13TfLiteContextP10TfLiteNode"),
            Some("RESHAPE")
        );
        assert_eq!(
            op("_ZN6tflite7EvalAddEP13TfLiteContextP10TfLiteNode"),
            Some("ADD")
        );
        // An anonymous-namespace Eval says nothing by itself ...
        let eval = "_ZN6tflite12_GLOBAL__N_14EvalEP13TfLiteContextP10TfLiteNode";
        assert_eq!(op(eval), None);
        // ... its source file does.
        for (file, expected) in [
            (
                "src/tensorflow/lite/micro/kernels/cmsis_nn/conv.cpp",
                "CONV_2D",
            ),
            (
                "tensorflow/lite/micro/kernels/depthwise_conv.cc",
                "DEPTHWISE_CONV_2D",
            ),
            (
                "./tensorflow/lite/micro/kernels/cmsis_nn/fully_connected.cpp",
                "FULLY_CONNECTED",
            ),
        ] {
            assert_eq!(op_of(&function(eval, Some(file))), Some(expected), "{file}");
        }
        // A pooling file holds both pools: the name decides.
        let avg = "_ZN6tflite12_GLOBAL__N_111AverageEvalEP13TfLiteContextP10TfLiteNode";
        assert_eq!(
            op_of(&function(avg, Some("kernels/cmsis_nn/pooling.cpp"))),
            Some("AVERAGE_POOL_2D")
        );
        // A file outside a kernels folder is not an operator's.
        assert_eq!(op_of(&function(eval, Some("micro/conv.cpp"))), None);
    }

    #[test]
    fn demangled_names_split_past_anonymous_namespaces() {
        let (path, last, params) =
            split_cpp("tflite::(anonymous namespace)::Eval(TfLiteContext*, TfLiteNode*)").unwrap();
        assert_eq!(path, ["tflite", "(anonymous namespace)"]);
        assert_eq!(last, "Eval");
        assert_eq!(params, "(TfLiteContext*, TfLiteNode*)");
        assert!(split_cpp("main").is_none());
    }
}
