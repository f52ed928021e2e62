//! A board file: parsed and validated; one that passes is turned into a machine with a tiny
//! firmware (the memory map, peripherals and caches it asks for must build).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = mcusim_boards::Board::parse(text, "fuzz.toml");
});
