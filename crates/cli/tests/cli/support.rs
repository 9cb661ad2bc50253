//! Shared helpers: run the real `datalab` binary, write small projects.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `datalab ARGS` and returns its output.
pub fn datalab(args: &[&str]) -> Output {
    datalab_with(args, &[])
}

/// Runs `datalab ARGS` with these environment variables (and no inherited datalab ones).
pub fn datalab_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_datalab"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("DATALAB_PROJECT")
        .env_remove("DATALAB_KEY_PASSPHRASE")
        .envs(env.iter().copied())
        .output()
        .expect("the datalab binary runs")
}

/// Runs `datalab ARGS`, asserts success and returns stdout.
pub fn ok(args: &[&str]) -> String {
    ok_with(args, &[])
}

/// [`ok`] with environment variables.
pub fn ok_with(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = datalab_with(args, env);
    assert!(
        out.status.success(),
        "datalab {args:?} failed with {:?}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Writes a minimal project: `datalab.toml`, `sources/NAME.toml` for each spec, and data files
/// (paths relative to the project folder).
pub fn project(dir: &Path, sources: &[(&str, &str)], files: &[(&str, &[u8])]) {
    std::fs::create_dir_all(dir.join("sources")).expect("mkdir");
    std::fs::write(
        dir.join("datalab.toml"),
        "format_version = 1\nname = \"t\"\n",
    )
    .expect("write datalab.toml");
    for (name, spec) in sources {
        std::fs::write(dir.join("sources").join(format!("{name}.toml")), spec).expect("write spec");
    }
    for (rel, bytes) in files {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, bytes).expect("write file");
    }
}

/// `status --format json` of a project.
pub fn status(dir: &Path) -> serde_json::Value {
    let out = ok(&["status", "--project", s(dir), "--format", "json"]);
    serde_json::from_str(&out).expect("status json")
}

/// The status line of one source.
pub fn source_status(dir: &Path, source: &str) -> serde_json::Value {
    status(dir)["sources"]
        .as_array()
        .expect("sources array")
        .iter()
        .find(|s| s["source"] == source)
        .cloned()
        .unwrap_or_else(|| panic!("no source {source} in status"))
}

/// Query result as CSV rows (header excluded).
pub fn query(dir: &Path, sql: &str) -> Vec<Vec<String>> {
    let out = ok(&["query", "--project", s(dir), "--format", "csv", sql]);
    let mut rows = csv_rows(&out);
    if !rows.is_empty() {
        rows.remove(0);
    }
    rows
}

/// Parses CSV text into rows of fields (header included).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("csv record").iter().map(str::to_string).collect())
        .collect()
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A synthetic city at a small scale, through the custodian step (keys and lookups in
/// `custodian/`, pseudonymized data in `lab/data/`, with the demo passphrase).
pub fn city(dir: &Path, scale: &str) -> PathBuf {
    ok(&["synth", "--out", s(dir), "--scale", scale, "--quiet"]);
    dir.join("lab")
}

/// Imports the synthetic city's registry export (`DIR/registry`, beside `DIR/lab`) into its lab.
pub fn import_city_registry(lab: &Path) {
    let export = lab.parent().expect("the city folder").join("registry");
    ok(&[
        "registry",
        "import",
        "--quiet",
        "--project",
        s(lab),
        "--format",
        "csv",
        s(&export),
    ]);
}

/// A synthetic city built, with its annual public release and its registry: what publications
/// are made from.
pub fn released_city(dir: &Path, scale: &str) -> PathBuf {
    let lab = city(dir, scale);
    ok(&["build", "--quiet", "--project", s(&lab)]);
    ok(&["release", "--quiet", "--project", s(&lab), "annual"]);
    import_city_registry(&lab);
    lab
}
