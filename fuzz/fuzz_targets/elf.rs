//! A firmware ELF, as the simulator loads it and the profiler reads its symbols and lines.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mcusim_sim::Firmware::parse(data, "fuzz.elf", "fuzz.elf".into());
    let _ = mcusim_profiler::elf::Image::parse(data, "fuzz.elf");
});
