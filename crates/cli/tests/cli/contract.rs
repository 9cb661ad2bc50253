//! The command-line contract that scripts rely on (documented in the README).

use crate::support::{datalab, ok, s};

#[test]
fn demo_status_and_query_keep_their_contract() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("demo");
    let out = datalab(&["demo", "--no-serve", "--dir", s(&dir), "--scale", "0.02"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for sub in ["custodian", "lab", "truth"] {
        assert!(dir.join(sub).is_dir(), "demo wrote {sub}/");
    }
    let lab = dir.join("lab");

    let st: serde_json::Value =
        serde_json::from_str(&ok(&["status", "--project", s(&lab), "--format", "json"]))
            .expect("json");
    let sources = st["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 10);
    for src in sources {
        for key in ["rows_in", "rows_loaded", "rows_quarantined"] {
            assert!(src[key].is_u64(), "status json has {key}: {src}");
        }
        assert_eq!(src["snapshot_id"].as_str().map(str::len), Some(20), "{src}");
        assert_eq!(src["state"]["state"], "up_to_date");
    }

    let csv = ok(&[
        "query",
        "--project",
        s(&lab),
        "--format",
        "csv",
        "SELECT sex, COUNT(*) AS n FROM register GROUP BY sex ORDER BY sex",
    ]);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("sex,n"));
    assert_eq!(lines.next().map(|l| l.starts_with("F,")), Some(true));
    assert_eq!(lines.next().map(|l| l.starts_with("M,")), Some(true));

    let json = ok(&[
        "query",
        "--project",
        s(&lab),
        "--format",
        "json",
        "SELECT COUNT(*) AS n FROM accidents",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json array");
    assert!(v[0]["n"].as_u64().is_some_and(|n| n > 0));

    // A second demo run reuses the city and rebuilds nothing.
    let again = datalab(&["demo", "--no-serve", "--dir", s(&dir), "--scale", "0.02"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing changed"));
}

#[test]
fn exit_codes_say_whose_fault_it_is() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Not a project: input error.
    let out = datalab(&["build", "--project", s(tmp.path())]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("datalab init"));
    // Bad SQL: input error, message names the problem.
    let dir = tmp.path().join("p");
    ok(&["init", s(&dir), "--quiet"]);
    ok(&["build", "--project", s(&dir), "--quiet"]);
    let out = datalab(&["query", "--project", s(&dir), "SELECT nope FROM zones"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
    // Usage error from clap.
    assert_eq!(datalab(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        datalab(&["synth", "--out", s(&dir), "--years", "2024"])
            .status
            .code(),
        Some(2)
    );
}

/// The README documents every environment variable the binary reads (the list lives in one
/// place, `src/env.rs`, and `datalab env` prints it).
#[test]
fn readme_documents_every_environment_variable() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let listed = ok(&["env"]);
    let names: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(!names.is_empty(), "datalab env lists the variables");
    for name in names {
        assert!(
            readme.contains(&format!("`{name}`")),
            "README.md does not document {name}"
        );
    }
}
