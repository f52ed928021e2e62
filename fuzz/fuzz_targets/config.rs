//! `mcusim.toml`: parsed and checked as `mcusim check` does before it builds anything (its
//! boards resolved, its budgets and limits read, every entry's compiler options checked
//! against the toolchain's allowlist).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = mcusim_profiler::config::parse(text, Path::new("fuzz/mcusim.toml")) {
        for e in &config.entries {
            if let Some(opt) = &e.opt {
                let _ = mcusim_toolchain::opt_flags(opt);
            }
        }
    }
});
