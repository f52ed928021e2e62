//! Kernel entry points recognised by symbol, for firmware without layer markers: each
//! outermost call of one of them is a layer. Recognised: mcusim's own kernels (`mnn_*_s8`),
//! CMSIS-NN's (`arm_*_s8`, `arm_*_s16`, `arm_*_s4`, not its `arm_nn_*` internals) and
//! TensorFlow Lite Micro's operator `Eval` functions (C++ names in namespace `tflite`), which
//! call the others and so take precedence by being outermost.

use crate::elf::Image;

/// Whether the function `name` is a kernel entry point.
pub fn is_kernel(name: &str) -> bool {
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
    // Itanium-mangled C++: `_ZN6tflite...4Eval...` (tflite::<anonymous>::Eval and friends).
    name.starts_with("_ZN6tflite") && name.contains("Eval")
}

/// The TFLite operator a kernel function computes, from its name (`None` if it does not say).
pub fn op_of(name: &str) -> Option<&'static str> {
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
        .function_names()
        .filter(|(_, name)| is_kernel(name))
        .map(|(addr, _)| addr)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            assert!(is_kernel(name), "{name}");
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
        ] {
            assert!(!is_kernel(name), "{name}");
        }
    }

    #[test]
    fn operators_follow_from_names() {
        assert_eq!(
            op_of("mnn_depthwise_conv_s8_opt"),
            Some("DEPTHWISE_CONV_2D")
        );
        assert_eq!(op_of("arm_convolve_1x1_s8_fast"), Some("CONV_2D"));
        assert_eq!(op_of("mnn_dequantize_s8_f32"), Some("DEQUANTIZE"));
        assert_eq!(op_of("mnn_quantize_f32_s8"), Some("QUANTIZE"));
        assert_eq!(op_of("mnn_add_s8"), Some("ADD"));
        assert_eq!(op_of("arm_elementwise_mul_s8"), Some("MUL"));
        assert_eq!(op_of("mnn_pad_s8"), Some("PAD"));
        assert_eq!(op_of("mnn_avgpool_s8"), Some("AVERAGE_POOL_2D"));
        assert_eq!(op_of("main"), None);
    }
}
