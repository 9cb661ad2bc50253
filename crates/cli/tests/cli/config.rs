//! Mistakes in `datalab.toml` and `sources/*.toml`: the build stops before reading any data,
//! with exit code 2 and an error naming `file:line:column`, the key, and a hint.
//!
//! [`check_config`] is the one helper: a project made of these files must fail with a stderr
//! holding each expected fragment. Line numbers are asserted wherever the mistake sits on one
//! line; the specs are short so the numbers can be checked by eye.

use crate::support::{datalab, ok, project, query, s};
use std::path::Path;
use tempfile::TempDir;

/// Writes a project (`datalab.toml` replaced by `datalab_toml` when given, else the minimal
/// one; `sources/NAME.toml` from `sources`; a small `data/t.csv`), runs `datalab build` and
/// checks it fails with exit code 2 and a stderr holding every `expect` fragment.
fn check_config(datalab_toml: Option<&str>, sources: &[(&str, &str)], expect: &[&str]) {
    let dir = TempDir::new().expect("tempdir");
    project(
        dir.path(),
        sources,
        &[("data/t.csv", b"id,area,born\n1,Nord,2001-02-03\n")],
    );
    if let Some(text) = datalab_toml {
        std::fs::write(dir.path().join("datalab.toml"), text).expect("write datalab.toml");
    }
    check_fails(dir.path(), &["build"], expect);
}

/// Runs `datalab COMMAND --project DIR` and checks it fails with exit code 2 and a stderr
/// holding every `expect` fragment.
fn check_fails(dir: &Path, command: &[&str], expect: &[&str]) {
    let mut args = command.to_vec();
    args.extend(["--project", s(dir)]);
    let out = datalab(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit code of {args:?}; stderr:\n{stderr}"
    );
    assert!(stderr.starts_with("error: "), "stderr:\n{stderr}");
    for e in expect {
        assert!(
            stderr.contains(e),
            "stderr does not contain `{e}`:\n{stderr}"
        );
    }
}

/// A valid spec of source `t`, to be broken one line at a time. Line numbers:
/// 1 format_version, 2 files, 3 format, 4 date_formats, 5 unique, 6 period, 7 blank,
/// 8 [[columns]], 9 name = "id", 10 type, 11 required, 12 blank, 13 [[columns]],
/// 14 name = "area", 15 type, 16 blank, 17 [[columns]], 18 name = "born", 19 type.
const T: &str = r#"format_version = 1
files = ["data/t.csv"]
format = "csv"
date_formats = ["%Y-%m-%d"]
unique = ["id"]
period = "born"

[[columns]]
name = "id"
type = "integer"
required = true

[[columns]]
name = "area"
type = "string"

[[columns]]
name = "born"
type = "date"
"#;

/// [`T`] with line `line` (1-based) replaced by `with`.
fn t_with(line: usize, with: &str) -> String {
    let mut lines: Vec<&str> = T.lines().collect();
    lines[line - 1] = with;
    lines.join("\n") + "\n"
}

#[test]
fn the_base_spec_builds() {
    let dir = TempDir::new().expect("tempdir");
    project(
        dir.path(),
        &[("t", T)],
        &[("data/t.csv", b"id,area,born\n1,Nord,2001-02-03\n")],
    );
    ok(&["build", "--project", s(dir.path()), "--quiet"]);
    assert_eq!(
        query(dir.path(), "SELECT id, area, born FROM t"),
        [["1", "Nord", "2001-02-03"]]
    );
}

#[test]
fn unknown_key_with_a_typo() {
    check_config(
        None,
        &[("t", &t_with(4, "delimter = \";\""))],
        &[
            "sources/t.toml:4:1: key `delimter`: unknown field `delimter`",
            "hint: did you mean `delimiter`?",
        ],
    );
}

#[test]
fn unknown_key_in_a_column() {
    check_config(
        None,
        &[("t", &t_with(11, "requird = true"))],
        &[
            "sources/t.toml:11:1: key `requird`: unknown field `requird`",
            "hint: did you mean `required`?",
        ],
    );
}

#[test]
fn unknown_type() {
    check_config(
        None,
        &[("t", &t_with(10, "type = \"integr\""))],
        &[
            "sources/t.toml:10:8: key `type`: unknown variant `integr`",
            "hint: did you mean `integer`?",
        ],
    );
}

#[test]
fn bad_format_value() {
    check_config(
        None,
        &[("t", &t_with(3, "format = \"xls\""))],
        &[
            "sources/t.toml:3:10: key `format`: unknown variant `xls`",
            "hint: did you mean `xlsx`?",
        ],
    );
}

#[test]
fn far_off_format_value_lists_the_valid_ones() {
    check_config(
        None,
        &[("t", &t_with(3, "format = \"sql\""))],
        &[
            "sources/t.toml:3:10: key `format`: unknown variant `sql`",
            "hint: the valid values are: csv, xlsx, parquet, jsonl",
        ],
    );
}

#[test]
fn unique_names_an_undeclared_column() {
    check_config(
        None,
        &[("t", &t_with(5, "unique = [\"idd\"]"))],
        &[
            "sources/t.toml:5:11: key `unique`: `idd` is not a declared column",
            "hint: did you mean `id`?",
        ],
    );
}

#[test]
fn period_names_an_undeclared_column() {
    check_config(
        None,
        &[("t", &t_with(6, "period = \"bornn\""))],
        &[
            "sources/t.toml:6:10: key `period`: `bornn` is not a declared column",
            "hint: did you mean `born`?",
        ],
    );
}

#[test]
fn min_on_a_string_column() {
    check_config(
        None,
        &[("t", &t_with(15, "type = \"string\"\nmin = 0"))],
        &[
            "sources/t.toml:16:7: key `columns[1].min`: `0` is not a valid bound for a string column",
            "hint: min and max apply to integer, float and date columns",
        ],
    );
}

#[test]
fn invalid_regex() {
    check_config(
        None,
        &[("t", &t_with(15, "type = \"string\"\nregex = \"^[A-Z\""))],
        &[
            "sources/t.toml:16:9: key `columns[1].regex`: invalid regular expression: unclosed character class",
        ],
    );
}

#[test]
fn invalid_date_format_pattern() {
    check_config(
        None,
        &[(
            "t",
            &t_with(4, "date_formats = [\"%d/%m/%Y\", \"%d/%m/%Q\"]"),
        )],
        &[
            "sources/t.toml:4:29: key `date_formats`: `%d/%m/%Q` is not a valid date pattern",
            "hint: use strftime patterns",
        ],
    );
}

/// Source `households` with the key `hh_id`, and `t` whose `name` column references `target`.
fn referencing(target: &str) -> [(&'static str, String); 2] {
    let households = "format_version = 1\nfiles = [\"data/t.csv\"]\nformat = \"csv\"\n\n[[columns]]\nname = \"hh_id\"\nfrom = \"id\"\ntype = \"string\"\n";
    [
        ("households", households.to_string()),
        (
            "t",
            t_with(15, &format!("type = \"string\"\nreferences = \"{target}\"")),
        ),
    ]
}

#[test]
fn references_a_missing_source() {
    let [a, b] = referencing("househols.hh_id");
    check_config(
        None,
        &[(a.0, a.1.as_str()), (b.0, b.1.as_str())],
        &[
            "sources/t.toml:16:14: key `columns[1].references`: no source named `househols`",
            "hint: did you mean `households`?",
        ],
    );
}

#[test]
fn references_a_missing_column() {
    let [a, b] = referencing("households.hh_idd");
    check_config(
        None,
        &[(a.0, a.1.as_str()), (b.0, b.1.as_str())],
        &[
            "sources/t.toml:16:14: key `columns[1].references`: source `households` has no column `hh_idd`",
            "hint: did you mean `hh_id`?",
        ],
    );
}

#[test]
fn references_without_a_column() {
    let [a, b] = referencing("households");
    check_config(
        None,
        &[(a.0, a.1.as_str()), (b.0, b.1.as_str())],
        &[
            "sources/t.toml:16:14: key `columns[1].references`: `households` is not of the form source.column",
        ],
    );
}

#[test]
fn sources_referencing_each_other() {
    let a = "format_version = 1\nfiles = [\"data/t.csv\"]\nformat = \"csv\"\n\n[[columns]]\nname = \"id\"\ntype = \"string\"\nreferences = \"b.id\"\n";
    let b = a.replace("b.id", "a.id");
    check_config(
        None,
        &[("a", a), ("b", b.as_str())],
        &[
            "sources/a.toml:8:14: key `columns[0].references`: sources reference each other in a cycle: a, b",
            "sources/b.toml:8:14: key `columns[0].references`: sources reference each other in a cycle: a, b",
            "hint: a reference must point at a source that does not",
        ],
    );
}

#[test]
fn missing_format_version_in_the_project_file() {
    check_config(
        Some("name = \"t\"\n"),
        &[("t", T)],
        &[
            "datalab.toml:1:1: key `format_version`: missing field `format_version`",
            "hint: add `format_version = 1` at the top of the file",
        ],
    );
}

#[test]
fn missing_format_version_in_a_spec() {
    check_config(
        None,
        &[("t", &T.replacen("format_version = 1\n", "", 1))],
        &[
            "sources/t.toml:1:1: key `format_version`: missing field `format_version`",
            "hint: add `format_version = 1` at the top of the file",
        ],
    );
}

#[test]
fn newer_format_version() {
    check_config(
        Some("format_version = 2\nname = \"t\"\n"),
        &[("t", T)],
        &[
            "datalab.toml:1:18: key `format_version`: format version 2 is not supported by this datalab",
            "hint: the file was written by a newer datalab: upgrade datalab",
        ],
    );
    check_config(
        None,
        &[("t", &t_with(1, "format_version = 3"))],
        &[
            "sources/t.toml:1:18: key `format_version`: format version 3 is not supported",
            "hint: the file was written by a newer datalab",
        ],
    );
}

#[test]
fn unknown_key_in_the_project_file() {
    check_config(
        Some("format_version = 1\nname = \"t\"\n\n[defaults]\nencodng = \"windows-1252\"\n"),
        &[("t", T)],
        &[
            "datalab.toml:5:1: key `encodng`: unknown field `encodng`",
            "hint: did you mean `encoding`?",
        ],
    );
}

#[test]
fn every_mistake_of_a_spec_is_reported_at_once() {
    let spec = t_with(5, "unique = [\"idd\"]").replace("period = \"born\"", "period = \"bornn\"");
    check_config(
        None,
        &[("t", &spec)],
        &[
            "sources/t.toml:5:11: key `unique`",
            "sources/t.toml:6:10: key `period`",
            "2 configuration errors",
        ],
    );
}

#[test]
fn no_project_file() {
    let dir = TempDir::new().expect("tempdir");
    let commands: [&[&str]; 3] = [&["build"], &["status"], &["query", "SELECT 1"]];
    for command in commands {
        check_fails(
            dir.path(),
            command,
            &[
                "not a datalab project (no datalab.toml)",
                "hint: create one with `datalab init",
            ],
        );
    }
}

#[test]
fn config_mistakes_fail_status_and_query_too() {
    let dir = TempDir::new().expect("tempdir");
    project(
        dir.path(),
        &[("t", &t_with(4, "delimter = \";\""))],
        &[("data/t.csv", b"id,area,born\n")],
    );
    let commands: [&[&str]; 2] = [&["status"], &["query", "SELECT 1"]];
    for command in commands {
        check_fails(
            dir.path(),
            command,
            &[
                "sources/t.toml:4:1: key `delimter`",
                "hint: did you mean `delimiter`?",
            ],
        );
    }
}

#[test]
fn init_then_build_then_query() {
    let root = TempDir::new().expect("tempdir");
    let dir = root.path().join("my-lab");
    ok(&["init", s(&dir), "--quiet"]);
    ok(&["build", "--project", s(&dir), "--quiet"]);
    let status = crate::support::status(&dir);
    let zones = &status["sources"][0];
    assert_eq!(zones["source"], "zones");
    assert_eq!(
        (
            zones["rows_in"].as_u64(),
            zones["rows_loaded"].as_u64(),
            zones["rows_quarantined"].as_u64()
        ),
        (Some(3), Some(3), Some(0))
    );
    assert_eq!(
        query(
            &dir,
            "SELECT zone_code, district_code FROM zones ORDER BY zone_code"
        ),
        [["Z01", "Q1"], ["Z02", "Q1"], ["Z03", "Q2"]]
    );
    // A second init into the same folder refuses to overwrite it.
    let again = datalab(&["init", s(&dir)]);
    assert_ne!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already a datalab project"));
}

#[test]
fn column_without_a_type() {
    check_config(
        None,
        &[("t", &t_with(19, ""))],
        &["sources/t.toml:17:1: key `type`: missing field `type`"],
    );
}
