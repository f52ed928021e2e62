//! `mcusim diff` and `mcusim check`: regressions caught with the layers that moved, unchanged
//! rebuilds pass, reports in every format parse, budgets fail, output does not depend on
//! `--jobs`.

use crate::support::{Run, mcusim};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir(name: &str) -> PathBuf {
    let dir = root().join("target/tmp/check").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
    mcusim(args.iter().map(|a| a.as_ref()))
}

/// Compiles and profiles the bundled KWS-style model into `json`.
fn profile(json: &Path, extra: &[&str]) {
    let model = root().join("examples/models/kws_ds_cnn.tflite");
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
        vec![&"profile", &model, &"-q", &"--json", &json];
    for e in extra {
        args.push(e);
    }
    let r = run(&args);
    assert_eq!(r.status, 0, "{}", r.stderr);
}

#[test]
fn diff_passes_an_unchanged_rebuild_and_names_the_layers_of_a_slowdown() {
    let dir = out_dir("diff");
    let (base, same, slow) = (
        dir.join("base.json"),
        dir.join("same.json"),
        dir.join("slow.json"),
    );
    profile(&base, &[]);
    profile(&same, &[]);
    profile(&slow, &["--opt=-O0"]);
    // An unchanged rebuild: byte-identical report, no change, status 0.
    assert!(
        std::fs::read(&base).unwrap() == std::fs::read(&same).unwrap(),
        "the same model profiled twice gives different reports"
    );
    let r = run(&[&"diff", &base, &same, &"--max-regression", &"0%"]);
    assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("no change"), "{}", r.stdout);
    // -O0: the convolutions slow down, the report says which and why, status 1.
    let r = run(&[&"diff", &base, &slow, &"--max", &"cycles=+2%"]);
    assert_eq!(r.status, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("REGRESSION"), "{}", r.stdout);
    let first_moved = r
        .stdout
        .lines()
        .skip_while(|l| !l.contains("layers that moved"))
        .nth(1)
        .unwrap();
    assert!(
        first_moved.contains("CONV_2D") || first_moved.contains("DEPTHWISE_CONV_2D"),
        "{first_moved}"
    );
    assert!(first_moved.contains("execute +"), "{first_moved}");
    assert!(r.stdout.contains("drift: arguments"), "{}", r.stdout);
    // A generous limit lets it pass.
    let r = run(&[&"diff", &base, &slow, &"--max-regression", &"5000%"]);
    assert_eq!(r.status, 0, "{}", r.stdout);

    // Markdown: a verdict line and tables whose rows have the header's column count.
    let r = run(&[
        &"diff",
        &base,
        &slow,
        &"--max",
        &"cycles=+2%",
        &"--format",
        &"markdown",
    ]);
    assert_eq!(r.status, 1);
    let tables: Vec<Vec<&str>> = r
        .stdout
        .split("\n\n")
        .map(|b| b.lines().filter(|l| l.starts_with('|')).collect::<Vec<_>>())
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(tables.len(), 2, "{}", r.stdout);
    for t in &tables {
        let cols = |l: &str| l.matches('|').count() - l.matches("\\|").count();
        assert!(t[1].starts_with("|---"), "{t:?}");
        assert!(t.iter().all(|l| cols(l) == cols(t[0])), "{t:?}");
    }

    // JUnit: parsed by a JUnit reader; one case per total metric and per layer and metric.
    let junit = dir.join("diff.xml");
    let r = run(&[
        &"diff",
        &base,
        &slow,
        &"--max",
        &"cycles=+2%",
        &"--max-layer",
        &"cycles=+2%",
        &"--format",
        &"junit",
        &"-o",
        &junit,
    ]);
    assert_eq!(r.status, 1);
    let suites = junit_parser::from_reader(std::io::BufReader::new(
        std::fs::File::open(&junit).unwrap(),
    ))
    .unwrap();
    assert_eq!(suites.suites.len(), 1);
    let suite = &suites.suites[0];
    assert!(suite.cases.len() >= 6 + 13 * 3, "{}", suite.cases.len());
    assert_eq!(
        suite.failures as usize,
        suite.cases.iter().filter(|c| c.status.is_failure()).count()
    );
    assert!(
        suite
            .cases
            .iter()
            .any(|c| c.original_name == "cycles" && c.status.is_failure())
    );
    assert!(
        suite
            .cases
            .iter()
            .any(|c| c.original_name == "conv_1/out cycles" && c.status.is_failure())
    );

    // JSON: the versioned diff.
    let r = run(&[&"diff", &base, &slow, &"--format", &"json"]);
    assert_eq!(r.status, 0, "no limits, no failure");
    let d: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(d["schema"], "mcusim-diff/1");
    crate::support::assert_valid("diff", &d);
    assert_eq!(d["layers"].as_array().unwrap().len(), 13);

    // Tool errors: status 2 with the file named.
    let r = run(&[&"diff", &base, &dir.join("missing.json")]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("missing.json"), "{}", r.stderr);
    let r = run(&[&"diff", &base, &same, &"--max", &"speed=1%"]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("unknown metric"), "{}", r.stderr);
}

#[test]
fn diff_matches_layers_by_name_and_reports_added_removed_and_renamed() {
    let dir = out_dir("rename");
    let base = dir.join("base.json");
    profile(&base, &[]);
    let mut p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    let layers = p["layers"].as_array_mut().unwrap();
    layers[0]["name"] = "conv_first".into();
    let removed = layers.remove(5);
    let mut added = removed.clone();
    added["name"] = "extra".into();
    added["index"] = 99.into();
    layers.push(added);
    let cur = dir.join("cur.json");
    std::fs::write(&cur, serde_json::to_string(&p).unwrap()).unwrap();
    let r = run(&[&"diff", &base, &cur, &"--format", &"json"]);
    let d: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    crate::support::assert_valid("diff", &d);
    let change = |name: &str| {
        d["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == name)
            .map(|l| l["change"].as_str().unwrap().to_owned())
    };
    assert_eq!(change("conv_first").as_deref(), Some("renamed"));
    assert_eq!(change("extra").as_deref(), Some("added"));
    assert_eq!(
        change(removed["name"].as_str().unwrap()).as_deref(),
        Some("removed")
    );
    assert_eq!(change("conv_3/out").as_deref(), Some("same"));
}

fn write_config(dir: &Path, extra: &str) -> PathBuf {
    let models = root().join("examples/models");
    let config = dir.join("mcusim.toml");
    std::fs::write(
        &config,
        format!(
            r#"board = "nucleo-l4r5zi"
max_regression = "1%"

[[model]]
path = "{m}/kws_ds_cnn.tflite"
name = "kws"
boards = ["nucleo-l4r5zi", "nucleo-u575zi"]
budget = {{ max_latency_ms = 100, max_peak_sram = 32768 }}
{extra}

[[model]]
path = "{m}/autoencoder.tflite"
budget = {{ max_cycles = 1000000 }}
"#,
            m = models.display()
        ),
    )
    .unwrap();
    config
}

#[test]
fn check_runs_entries_in_parallel_checks_budgets_and_catches_regressions() {
    let dir = out_dir("budgets");
    let baseline = dir.join("baseline");
    let config = write_config(&dir, "");
    // Save the baseline.
    let r = run(&[
        &"check",
        &"-q",
        &"--config",
        &config,
        &"--baseline",
        &baseline,
        &"--update-baseline",
    ]);
    assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
    for f in [
        "kws@nucleo-l4r5zi",
        "kws@nucleo-u575zi",
        "autoencoder@nucleo-l4r5zi",
    ] {
        assert!(baseline.join(format!("{f}.json")).exists(), "{f}");
    }
    // Unchanged: passes; the JSON report is byte-identical whatever --jobs says.
    let reports: Vec<String> = ["1", "2", "3"]
        .iter()
        .map(|jobs| {
            let r = run(&[
                &"check",
                &"-q",
                &"--config",
                &config,
                &"--baseline",
                &baseline,
                &"--jobs",
                jobs,
                &"--format",
                &"json",
            ]);
            assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
            r.stdout
        })
        .collect();
    assert_eq!(reports[0], reports[1]);
    assert_eq!(reports[0], reports[2]);
    let report: serde_json::Value = serde_json::from_str(&reports[0]).unwrap();
    assert_eq!(report["schema"], "mcusim-check/1");
    crate::support::assert_valid("check", &report);
    assert_eq!(report["entries"].as_array().unwrap().len(), 3);

    // One optimised kernel family off (the reference kernels for KWS): caught, status 1, the
    // layers named in the markdown; the other model passes.
    let slow = write_config(&dir, "reference_kernels = true");
    let r = run(&[
        &"check",
        &"-q",
        &"--config",
        &slow,
        &"--baseline",
        &baseline,
        &"--format",
        &"markdown",
    ]);
    assert_eq!(r.status, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("| ❌ | kws@nucleo-l4r5zi |"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("| ✅ | autoencoder@nucleo-l4r5zi |"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("conv_1/out"), "{}", r.stdout);

    // Over budget: a latency budget the model cannot meet fails without any baseline.
    let tight = dir.join("tight.toml");
    std::fs::write(
        &tight,
        format!(
            "[[model]]\npath = \"{}\"\nbudget = {{ max_latency_ms = 1.0 }}\n",
            root().join("examples/models/kws_ds_cnn.tflite").display()
        ),
    )
    .unwrap();
    let junit = dir.join("check.xml");
    let r = run(&[
        &"check",
        &"-q",
        &"--config",
        &tight,
        &"--format",
        &"junit",
        &"-o",
        &junit,
    ]);
    assert_eq!(r.status, 1, "{}{}", r.stdout, r.stderr);
    let suites = junit_parser::from_reader(std::io::BufReader::new(
        std::fs::File::open(&junit).unwrap(),
    ))
    .unwrap();
    assert_eq!(suites.failures, 1);

    // A broken configuration: status 2, the file named.
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[[model]]\npath = 3\n").unwrap();
    let r = run(&[&"check", &"--config", &bad]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("bad.toml"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

/// `--update-baseline` with one entry that cannot run saves none: the baseline set is the old
/// one, file for file, never half old and half new.
#[test]
fn a_broken_entry_leaves_the_baseline_set_as_it_was() {
    let dir = out_dir("half");
    let baseline = dir.join("baseline");
    let good = write_config(&dir, "");
    let update = |config: &Path| {
        run(&[
            &"check",
            &"-q",
            &"--config",
            &config,
            &"--baseline",
            &baseline,
            &"--update-baseline",
        ])
    };
    let r = update(&good);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let before: Vec<(PathBuf, Vec<u8>)> = {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&baseline)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect()
    };
    assert_eq!(before.len(), 3);
    // KWS with another input (new figures: the old code saved them before it met the broken
    // entry), then an entry that is not a model.
    let garbage = dir.join("garbage.tflite");
    std::fs::write(&garbage, b"not a model").unwrap();
    let broken = dir.join("broken.toml");
    let input = root().join("examples/models/kws_ds_cnn.input_0.npy");
    let changed = write_config(&dir, &format!("input = [\"{}\"]", input.display()));
    let text = std::fs::read_to_string(&changed).unwrap().replace(
        "budget = { max_cycles = 1000000 }",
        &format!(
            "budget = {{ max_cycles = 1000000 }}\n\n[[model]]\npath = \"{}\"",
            garbage.display()
        ),
    );
    std::fs::write(&broken, text).unwrap();
    let r = update(&broken);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(r.stderr.contains("garbage.tflite"), "{}", r.stderr);
    for (path, bytes) in &before {
        let now = std::fs::read(path).unwrap();
        assert!(&now == bytes, "{} was rewritten", path.display());
    }
    assert_eq!(
        std::fs::read_dir(&baseline).unwrap().count(),
        3,
        "a file was added"
    );
}

/// The GitHub Actions workflow in the README, as a user would copy it: its `check` step run as
/// written (in a repository holding the bundled `mcusim.toml`, its baseline saved), and the
/// file its comment step posts read back: a PR comment under 1 KB for an unchanged run, the
/// verdict first, details collapsed; and after a slowdown, the verdict and what failed above
/// the collapsed details.
#[test]
fn the_readme_workflow_posts_what_check_writes() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let after = readme
        .split("A GitHub Actions job that fails a pull request")
        .nth(1)
        .expect("the README has the workflow");
    let yaml = after
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(yaml).expect("the workflow is YAML");
    let steps = docs[0]["jobs"]["cycles"]["steps"].as_vec().unwrap();
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    let check = runs
        .iter()
        .find(|r| r.contains("mcusim check") && r.contains("--format markdown"))
        .expect("a check step writing markdown");
    let comment = runs
        .iter()
        .find(|r| r.starts_with("gh pr comment"))
        .expect("a comment step");
    let words: Vec<&str> = check.split_whitespace().collect();
    let value = |words: &[&str], flag: &str| {
        words
            .iter()
            .position(|w| *w == flag)
            .map(|i| words[i + 1].to_owned())
    };
    let written = value(&words, "--output").expect("check writes a file");
    let posted = value(
        &comment.split_whitespace().collect::<Vec<_>>(),
        "--body-file",
    );
    assert_eq!(
        posted.as_deref(),
        Some(written.as_str()),
        "{check} / {comment}"
    );
    let baseline = value(&words, "--baseline").expect("check compares to a baseline");

    // A repository with the bundled configuration (its model paths made absolute).
    let dir = out_dir("workflow");
    let models = root().join("examples/models");
    let config = std::fs::read_to_string(root().join("examples/mcusim.toml"))
        .unwrap()
        .replace("\"models/", &format!("\"{}/", models.display()));
    std::fs::write(dir.join("mcusim.toml"), &config).unwrap();
    let in_repo = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mcusim"))
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (status, err) = in_repo(&["check", "-q", "--baseline", &baseline, "--update-baseline"]);
    assert_eq!(status, Some(0), "{err}");
    let step: Vec<&str> = words[1..].to_vec();
    assert_eq!(words[0], "mcusim");
    let (status, err) = in_repo(&step);
    assert_eq!(status, Some(0), "{err}");
    let md = std::fs::read_to_string(dir.join(&written)).unwrap();
    assert!(md.len() < 1024, "{} bytes:\n{md}", md.len());
    let first = md.lines().next().unwrap();
    assert!(
        first.starts_with("### mcusim check: ✅ passed: 4 entries"),
        "{first}"
    );
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    assert!(
        md.contains("latency 66.2 of 80 ms") || md.contains(" of 80 ms"),
        "{md}"
    );
    assert!(md.contains("7,9"), "no thousands separators: {md}");
    for heading in md.lines().filter(|l| l.starts_with('#')) {
        assert!(
            heading.starts_with("### "),
            "another heading level: {heading}"
        );
    }

    // A slower KWS (its reference kernels): the verdict and the regression come first, the
    // tables of the layers that moved are collapsed.
    std::fs::write(
        dir.join("mcusim.toml"),
        config.replace("name = \"kws\"", "name = \"kws\"\nreference_kernels = true"),
    )
    .unwrap();
    let (status, err) = in_repo(&step);
    assert_eq!(status, Some(1), "{err}");
    let md = std::fs::read_to_string(dir.join(&written)).unwrap();
    let (head, _) = md.split_once("<details>").unwrap();
    assert!(
        head.starts_with(
            "### mcusim check: ❌ failed: `kws@nucleo-l4r5zi`, `kws@nucleo-u575zi` of 4"
        ),
        "{md}"
    );
    assert!(
        head.contains("- ❌ kws@nucleo-l4r5zi: regression: cycles +"),
        "{md}"
    );
    assert!(
        md.contains("<details><summary>kws@nucleo-l4r5zi: cycles +"),
        "{md}"
    );
    // The layers' changes are reported, and with no [max_layer], none of them fails.
    assert!(!head.contains("regression: conv_1/out"), "{md}");
}
