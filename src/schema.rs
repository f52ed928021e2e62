//! `mcusim schema`: the JSON Schemas of the reports mcusim writes, derived from their types
//! (see [`mcusim_traces::json_schema`]). `schema/` at the repository's root holds a copy of each,
//! kept equal by the test below, for readers who do not run mcusim.

use crate::cli::SchemaKind;

/// The report format's version and its schema.
pub fn of(kind: SchemaKind) -> (&'static str, serde_json::Value) {
    match kind {
        SchemaKind::Profile => (
            mcusim_profiler::PROFILE_SCHEMA,
            mcusim_profiler::profile_schema(),
        ),
        SchemaKind::Run => (
            mcusim_traces::report::RUN_SCHEMA,
            mcusim_traces::json_schema::<mcusim_traces::report::RunReport>(
                mcusim_traces::report::RUN_SCHEMA,
            ),
        ),
        SchemaKind::Diff => (
            mcusim_profiler::diff::DIFF_SCHEMA,
            mcusim_traces::json_schema::<mcusim_profiler::diff::Diff>(
                mcusim_profiler::diff::DIFF_SCHEMA,
            ),
        ),
        SchemaKind::Check => (crate::cmd_check::CHECK_SCHEMA, crate::cmd_check::schema()),
        SchemaKind::Comparison => (
            mcusim_profiler::compare::COMPARISON_SCHEMA,
            mcusim_profiler::compare::comparison_schema(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// `schema/` holds the schemas users read; each must be the one the types give.
    /// `MCUSIM_BLESS=1` rewrites them after a deliberate change (then bump the format's version
    /// if a reader of the old one could break).
    #[test]
    fn the_committed_schemas_are_the_derived_ones() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
        for kind in SchemaKind::value_variants() {
            let (version, schema) = of(*kind);
            let path = dir.join(format!("{}.schema.json", version.replace('/', "-")));
            let derived = serde_json::to_string_pretty(&schema).unwrap() + "\n";
            if std::env::var_os("MCUSIM_BLESS").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &derived).unwrap();
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == derived,
                "{} is not the schema the types give; run with MCUSIM_BLESS=1 to rewrite it",
                path.display()
            );
        }
    }
}
