//! A saved profile, as `diff`, `check --baseline` and `tui` read it: deserialised, diffed
//! against itself and exported in every format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcusim_profiler::{Profile, diff, export};

fuzz_target!(|data: &[u8]| {
    let Ok(p) = serde_json::from_slice::<Profile>(data) else {
        return;
    };
    let _ = diff::diff(&p, &p, &diff::Thresholds::default());
    let _ = export::json(&p);
    let _ = export::csv(&p);
    let _ = export::perfetto(&p);
    let _ = export::folded(&p);
});
