//! Incremental builds equal full builds; an interrupted build leaves the last good state.

use crate::support::{city, ok, ok_with, query, s, status};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Source name -> `field`, from a JSON document with a `sources` array (status, build report).
fn by_source(doc: &serde_json::Value, field: &str) -> BTreeMap<String, String> {
    doc["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|x| {
            (
                x["source"].as_str().unwrap_or_default().to_string(),
                x[field].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Source name -> snapshot id, from `status --format json`.
fn snapshots(lab: &Path) -> BTreeMap<String, String> {
    by_source(&status(lab), "snapshot_id")
}

/// Every table and quarantine of the project, dumped in a stable order.
fn dump(lab: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for name in snapshots(lab).keys() {
        for table in [name.clone(), format!("quarantine.{name}")] {
            let csv = ok(&[
                "query",
                "--project",
                s(lab),
                "--format",
                "csv",
                &format!("SELECT * FROM {table} ORDER BY _file, _line"),
            ]);
            out.insert(table, csv);
        }
    }
    out
}

/// Builds and returns source name -> action (built, unchanged, reused) from the JSON report.
fn build_actions(lab: &Path) -> BTreeMap<String, String> {
    let report = ok(&["build", "--project", s(lab), "--quiet", "--format", "json"]);
    by_source(
        &serde_json::from_str(&report).expect("build report json"),
        "action",
    )
}

/// Changes two sources of a generated city: appends a valid event, edits the ISEE spec.
fn change_two_sources(root: &Path) {
    let events = root.join("custodian/anagrafe/eventi.csv");
    let text = std::fs::read_to_string(&events).expect("eventi.csv");
    let last = text.lines().last().expect("a data line").to_string();
    let mut fields: Vec<String> = last.split(';').map(str::to_string).collect();
    fields[0] = "E999999999".into();
    std::fs::write(&events, format!("{text}{}\n", fields.join(";"))).expect("append event");
    // The custodian pseudonymizes the changed file again (the lab reads only its output).
    let c = root.join("custodian");
    ok_with(
        &[
            "pseudonymize",
            "--quiet",
            "--key",
            s(&c.join("city.key")),
            "--spec",
            s(&c.join("specs/register_events.toml")),
            s(&events),
            "--out",
            s(&root.join("lab/data/register_events")),
            "--lookup",
            s(&c.join("lookup/register_events.csv")),
        ],
        &[("DATALAB_KEY_PASSPHRASE", "synthetic city demo passphrase")],
    );
    let spec = root.join("lab/sources/isee.toml");
    let t = std::fs::read_to_string(&spec).expect("isee.toml");
    std::fs::write(
        &spec,
        t.replacen("title = ", "description = \"edited\"\ntitle = ", 1),
    )
    .expect("edit spec");
}

#[test]
fn incremental_build_equals_a_full_build() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = tmp.path().join("a");
    let lab_a = city(&a, "0.02");
    ok(&["build", "--project", s(&lab_a), "--quiet"]);
    let before = snapshots(&lab_a);

    // No change: nothing rebuilt, nothing committed.
    let acts = build_actions(&lab_a);
    assert!(acts.values().all(|a| a == "unchanged"), "{acts:?}");
    assert_eq!(snapshots(&lab_a), before);

    change_two_sources(&a);
    let acts = build_actions(&lab_a);
    assert_eq!(acts["register_events"], "built");
    assert_eq!(acts["isee"], "built");
    // The link tables follow the sources they come from.
    assert_eq!(acts["link_records"], "built");
    // So do the models reading them (directly or through another model); the rest stay.
    let project = project_models(&lab_a);
    assert!(
        acts.iter()
            .filter(|(k, _)| *k != "register_events"
                && *k != "isee"
                && !k.starts_with("link_")
                && !project.contains(k)
                && k.as_str() != "cube")
            .all(|(_, v)| v == "unchanged"),
        "{acts:?}"
    );
    assert_eq!(acts["accidents_territory"], "unchanged", "{acts:?}");
    assert_eq!(acts["cube"], "built");

    // The same inputs built from scratch somewhere else (with the same custodian keys: another
    // key would give other pseudonyms, hence other inputs).
    let b = tmp.path().join("b");
    for key in ["custodian/city.key", "custodian/lavoro/agency.key"] {
        std::fs::create_dir_all(b.join(key).parent().expect("dir")).expect("mkdir");
        std::fs::copy(a.join(key), b.join(key)).expect("copy key");
    }
    city(&b, "0.02");
    change_two_sources(&b);
    ok(&["build", "--project", s(&b.join("lab")), "--quiet"]);
    assert_eq!(
        snapshots(&lab_a),
        snapshots(&b.join("lab")),
        "same inputs, same snapshot ids"
    );
    let (da, db) = (dump(&lab_a), dump(&b.join("lab")));
    for (table, rows) in &da {
        assert_eq!(
            Some(rows),
            db.get(table),
            "table {table} differs between incremental and full build"
        );
    }
    assert_eq!(
        query(
            &lab_a,
            "SELECT COUNT(*) FROM register_events WHERE event_id = 'E999999999'"
        ),
        vec![vec!["1".to_string()]]
    );
}

#[test]
fn a_killed_build_leaves_the_last_good_state_and_the_next_build_completes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lab = city(tmp.path(), "0.05");
    ok(&["build", "--project", s(&lab), "--quiet"]);
    let good = snapshots(&lab);
    let good_dump = dump(&lab);
    change_two_sources(tmp.path());

    let staging = lab.join(".datalab/tmp");
    let mut killed_mid_ingest = 0;
    for delay_ms in [0u64, 50, 200, 600] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_datalab"))
            .args(["build", "--quiet", "--project", s(&lab), "--force"])
            .spawn()
            .expect("spawn build");
        // Wait until the build is writing a snapshot (a staging folder exists), then a bit more.
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            let busy = std::fs::read_dir(&staging)
                .map(|d| d.count() > 0)
                .unwrap_or(false);
            if busy || child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        let finished = child.try_wait().ok().flatten().is_some();
        child.kill().ok();
        child.wait().ok();
        if finished {
            continue;
        }
        killed_mid_ingest += 1;
        // The catalog still names the last good snapshots, and they are whole.
        assert_eq!(
            snapshots(&lab),
            good,
            "a killed build changed the current snapshots"
        );
        assert_eq!(
            dump(&lab),
            good_dump,
            "a killed build changed what queries see"
        );
    }
    assert!(
        killed_mid_ingest > 0,
        "the build was never caught mid-way; make the city bigger"
    );

    ok(&["build", "--project", s(&lab), "--quiet"]);
    let after = snapshots(&lab);
    assert_ne!(after["isee"], good["isee"]);
    assert_ne!(after["register_events"], good["register_events"]);
    assert_eq!(after["register"], good["register"]);
    assert!(
        std::fs::read_dir(&staging)
            .map(|d| d.count() == 0)
            .unwrap_or(true),
        "staging is cleaned"
    );
}

#[test]
fn a_concurrent_build_fails_fast_on_the_lock() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lab = city(tmp.path(), "0.05");
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_datalab"))
        .args(["build", "--quiet", "--project", s(&lab)])
        .spawn()
        .expect("spawn build");
    let staging = lab.join(".datalab/tmp");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30)
        && !std::fs::read_dir(&staging)
            .map(|d| d.count() > 0)
            .unwrap_or(false)
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    let second = crate::support::datalab(&["build", "--quiet", "--project", s(&lab)]);
    let first_still_running = first.try_wait().expect("poll first build").is_none();
    assert!(first.wait().expect("first build").success());
    if first_still_running {
        assert_eq!(
            second.status.code(),
            Some(1),
            "a concurrent build must not run"
        );
        assert!(String::from_utf8_lossy(&second.stderr).contains("another build is running"));
    }
}

/// Files of one source are ingested in parallel; a unique key repeated across files must still
/// keep the row of the first file and quarantine the later one (regression guard for the
/// parallel path's fallback).
#[test]
fn a_key_repeated_across_files_keeps_the_first_files_row() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let spec = "format_version = 1\nfiles = [\"data/part_*.csv\"]\nformat = \"csv\"\nunique = [\"id\"]\n\
        [[columns]]\nname = \"id\"\ntype = \"string\"\nrequired = true\n\
        [[columns]]\nname = \"v\"\ntype = \"integer\"\n";
    let files: Vec<(String, Vec<u8>)> = (1..=4)
        .map(|i| {
            let mut body = String::from("id,v\n");
            for r in 0..50 {
                body.push_str(&format!("k{i}_{r},{i}\n"));
            }
            if i == 3 {
                body.push_str("k1_7,3\n");
            }
            (format!("data/part_{i}.csv"), body.into_bytes())
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    crate::support::project(tmp.path(), &[("t", spec)], &refs);
    ok(&[
        "build",
        "--project",
        s(tmp.path()),
        "--quiet",
        "--jobs",
        "2",
    ]);
    assert_eq!(
        query(tmp.path(), "SELECT v FROM t WHERE id = 'k1_7'"),
        vec![vec!["1".to_string()]]
    );
    assert_eq!(
        query(tmp.path(), "SELECT _file, _line, rule FROM quarantine.t"),
        vec![vec![
            "data/part_3.csv".to_string(),
            "52".to_string(),
            "unique".to_string()
        ]]
    );
    assert_eq!(
        query(tmp.path(), "SELECT COUNT(*) FROM t"),
        vec![vec!["200".to_string()]]
    );
}

/// Names of the project's models (`models/*.sql`).
fn project_models(lab: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(lab.join("models"))
        .expect("models")
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_suffix(".sql")
                .map(str::to_string)
        })
        .collect()
}

/// `status` says what is stale and why, without building.
#[test]
fn status_tells_what_is_stale_and_why() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let p = tmp.path().join("p");
    ok(&["init", s(&p), "--quiet"]);
    let state = |src: &str| crate::support::source_status(&p, src)["state"].clone();
    assert_eq!(state("zones")["state"], "never_built");
    ok(&["build", "--project", s(&p), "--quiet"]);
    assert_eq!(state("zones")["state"], "up_to_date");

    let data = p.join("territories/zones.csv");
    let mut text = std::fs::read_to_string(&data).expect("zones.csv");
    text.push_str("Z04,Nuova zona,Q2,Nord,036023,Modena,036,Modena,08,Emilia-Romagna\n");
    std::fs::write(&data, text).expect("write");
    let st = state("zones");
    assert_eq!(st["state"], "stale");
    assert_eq!(st["detail"], "territories/zones.csv changed");

    let spec = p.join("sources/zones.toml");
    let t = std::fs::read_to_string(&spec).expect("spec");
    std::fs::write(
        &spec,
        t.replace("title = \"Zone statistiche\"", "title = \"Zone\""),
    )
    .expect("write");
    assert_eq!(state("zones")["detail"], "the spec changed");

    // The source's file is gone (the codelist itself must stay: the project needs it).
    let t = std::fs::read_to_string(&spec).expect("spec");
    std::fs::write(
        &spec,
        t.replace("territories/zones.csv", "territories/gone.csv"),
    )
    .expect("write");
    assert_eq!(state("zones")["state"], "broken");
    std::fs::remove_file(&spec).expect("remove spec");
    assert_eq!(state("zones")["state"], "orphan");
}
