//! The firmware ABI: the symbols by which mcusim finds what a firmware holds, named once.
//!
//! The C side is `kernels/runtime/` (`mcusim.h`, `runtime.c`, `startup.c`, the linker script)
//! and the code `mcusim compile` generates; the Rust side is the binary's pipeline and the
//! profiler's image reader, which take these names from here. Firmware built with other tools
//! (TensorFlow Lite Micro) lacks most of them, and every use says what happens without one.

/// The model input buffer `--input` is written into before the run (`const int8_t[]`).
pub const INPUT_DATA: &str = "mcusim_model_input_data";

/// The model output buffer `--output` reads after the run (`int8_t[]`).
pub const OUTPUT_DATA: &str = "mcusim_model_output_data";

/// The layer markers: called with a `const mcusim_layer_info *` around every layer.
pub const LAYER_BEGIN: &str = "mcusim_layer_begin";
pub const LAYER_END: &str = "mcusim_layer_end";

/// SEGGER RTT's control block, as SEGGER's code, `defmt-rtt` and `rtt-target` name it: a debug
/// probe (and mcusim) drains its up buffers.
pub const RTT_CONTROL_BLOCK: &str = "_SEGGER_RTT";

/// Around one inference (`mcusim_inference_begin`, `_end`).
pub const INFERENCE_BEGIN: &str = "mcusim_inference_begin";
pub const INFERENCE_END: &str = "mcusim_inference_end";

/// Streaming firmware's window marker: called with the window's sample count when a window
/// is ready for an inference.
pub const WINDOW: &str = "mcusim_window";

/// Generated code's layer descriptions are objects `layer_0`, `layer_1`, ...
pub const LAYER_OBJECT_PREFIX: &str = "layer_";

/// `mcusim_layer_info`'s size: four words (index, `const char *op`, `const char *name`,
/// MACs).
pub const LAYER_INFO_BYTES: u32 = 16;

/// The word where mcusim's `_sbrk` keeps the highest heap address it handed out.
pub const HEAP_PEAK: &str = "mcusim_heap_peak";

/// A heap allocator (newlib's `_sbrk`): with it and without [`HEAP_PEAK`], the heap is
/// someone else's and the free RAM is not watched.
pub const SBRK: &str = "_sbrk";

/// The program's entry after start-up (the arena is marked when it starts).
pub const MAIN: &str = "main";

/// The tensor arena: mcusim's generated code plans `arena`; TensorFlow Lite Micro's examples
/// call theirs `tensor_arena`.
pub const ARENA: [&str; 2] = ["arena", "tensor_arena"];

/// The linker script's bounds of the free RAM: where the heap starts (above static data) and
/// the stack's top.
pub const HEAP_START: &str = "__heap_start";
pub const STACK_TOP: &str = "__StackTop";

/// The index `N` of a layer description object `layer_N`.
pub fn layer_object_index(symbol: &str) -> Option<u32> {
    let digits = symbol.strip_prefix(LAYER_OBJECT_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runtime and the linker script define what this module names.
    #[test]
    fn the_runtime_defines_the_names() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
        let header = read("kernels/runtime/mcusim.h");
        let runtime = read("kernels/runtime/runtime.c");
        let linker = read("toolchain/src/lib.rs");
        for name in [
            LAYER_BEGIN,
            LAYER_END,
            "mcusim_layer_info",
            INFERENCE_BEGIN,
            INFERENCE_END,
            WINDOW,
        ] {
            assert!(header.contains(name), "mcusim.h has no {name}");
            if name != "mcusim_layer_info" {
                assert!(runtime.contains(name), "runtime.c has no {name}");
            }
        }
        for name in [HEAP_PEAK, SBRK, HEAP_START] {
            assert!(runtime.contains(name), "runtime.c has no {name}");
        }
        for name in [HEAP_START, STACK_TOP] {
            assert!(linker.contains(name), "the linker script has no {name}");
        }
    }

    #[test]
    fn layer_objects_are_layer_and_digits() {
        assert_eq!(layer_object_index("layer_0"), Some(0));
        assert_eq!(layer_object_index("layer_17"), Some(17));
        assert_eq!(layer_object_index("layer_"), None);
        assert_eq!(layer_object_index("layer_1a"), None);
        assert_eq!(layer_object_index("mcusim_layer_begin"), None);
    }
}
