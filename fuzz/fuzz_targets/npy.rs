//! A `.npy` file, as `--input` reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mcusim_compiler::npy::parse(data);
});
