//! The vocabulary shared by the simulator and the profiler: units of time and address,
//! why a run stopped, what it counted, and the run report format.
//!
//! The simulator produces these values; the profiler and the CLI consume them. Neither side
//! needs the other, and this crate needs neither.

pub mod abi;
pub mod event;
pub mod file;
pub mod report;
mod stop;
mod units;

pub use event::{Activity, BlockCount, CallNode, ProbeHit, ProbeId, Traffic};
pub use stop::{FaultKind, FaultState, LimitKind, StopReason};
pub use units::{Addr, Breakdown, Cycles};

/// A symbol's name for people: C++ (Itanium ABI) and Rust (legacy and v0) symbols demangled,
/// Rust's hash left out; any other name as it is.
pub fn demangle(symbol: &str) -> String {
    if let Ok(d) = rustc_demangle::try_demangle(symbol) {
        return format!("{d:#}");
    }
    if symbol.starts_with("_Z")
        && let Ok(sym) = cpp_demangle::Symbol::new(symbol)
        && let Ok(text) = sym.demangle(&cpp_demangle::DemangleOptions::default())
    {
        return text;
    }
    symbol.to_owned()
}

/// `1234567` as `1,234,567`: how the reports, views and messages write counts.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The JSON Schema (draft 2020-12) of a report type as serde writes it, for the report format
/// `version` (e.g. `mcusim-run/1`): derived from the type, so it follows every serde attribute;
/// its `schema` property is a const of the version, so a reader can tell the version from it.
pub fn json_schema<T: schemars::JsonSchema>(version: &str) -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>();
    schema.insert(
        "$id".into(),
        format!(
            "https://mcusim.dev/schema/{}.json",
            version.replace('/', "-")
        )
        .into(),
    );
    schema.insert("title".into(), version.into());
    let mut value = schema.to_value();
    value["properties"]["schema"]["const"] = version.into();
    value
}
