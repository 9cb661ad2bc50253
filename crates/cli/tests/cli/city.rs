//! The synthetic city end to end: every injected defect, and only those, is quarantined.

use crate::support::{city, ok, query, s, status};
use std::collections::BTreeSet;

/// `(source, raw file stem, line)`: where a record came from, whichever side quarantined it.
type Origin = (String, String, i64);

fn stem(path: &str) -> String {
    std::path::Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}

#[test]
fn quarantine_holds_exactly_the_injected_invalid_rows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lab = city(tmp.path(), "0.02");
    ok(&["build", "--project", s(&lab), "--quiet"]);

    let truth = std::fs::read_to_string(tmp.path().join("truth/defects.csv")).expect("defects.csv");
    let mut expected: BTreeSet<Origin> = BTreeSet::new();
    let mut rdr = csv::Reader::from_reader(truth.as_bytes());
    for r in rdr.records() {
        let r = r.expect("record");
        if &r[5] == "true" {
            expected.insert((r[0].to_string(), stem(&r[1]), r[2].parse().expect("line")));
        }
    }
    assert!(
        !expected.is_empty(),
        "the synthetic city injects invalid rows"
    );

    // The custodian's quarantine: rows that could not be pseudonymized (invalid tax codes,
    // impossible birth dates), which never reach the lab.
    let mut got: BTreeSet<Origin> = BTreeSet::new();
    let lookups = tmp.path().join("custodian/lookup");
    let mut at_custodian = 0;
    for e in std::fs::read_dir(&lookups).expect("lookup folder") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().to_string();
        let Some(source) = name.strip_suffix(".quarantine.csv") else {
            continue;
        };
        let mut r = csv::Reader::from_path(&p).expect("quarantine csv");
        for row in r.records() {
            let row = row.expect("row");
            got.insert((
                source.to_string(),
                stem(&row[0]),
                row[1].parse().expect("line"),
            ));
            at_custodian += 1;
        }
    }
    assert!(
        at_custodian > 0,
        "invalid tax codes are quarantined at the custodian"
    );

    let st = status(&lab);
    for src in st["sources"].as_array().expect("sources") {
        let name = src["source"].as_str().expect("name");
        let (i, l, q) = (
            src["rows_in"].as_u64(),
            src["rows_loaded"].as_u64(),
            src["rows_quarantined"].as_u64(),
        );
        assert_eq!(
            i.zip(l).map(|(_, l)| l + q.unwrap_or(0)),
            i,
            "rows in = loaded + quarantined for {name}"
        );
        // Lines are the holder's own: the pseudonymized file carries them.
        for row in query(&lab, &format!("SELECT _file, _line FROM quarantine.{name}")) {
            got.insert((
                name.to_string(),
                stem(&row[0]),
                row[1].parse().expect("line"),
            ));
        }
    }
    let extra: Vec<_> = got.difference(&expected).take(5).collect();
    let missing: Vec<_> = expected.difference(&got).take(5).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "quarantined but not injected: {extra:?}; injected but loaded: {missing:?}"
    );
}

#[test]
fn every_source_kind_of_the_city_loads() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lab = city(tmp.path(), "0.02");
    ok(&["build", "--project", s(&lab), "--quiet"]);
    // Windows-1252 with decimal commas and thousands dots: ISEE values are euros, not cents.
    let isee = query(&lab, "SELECT MIN(isee), MAX(isee), COUNT(*) FROM isee");
    let max: f64 = isee[0][1].parse().expect("max isee");
    assert!(
        max > 10_000.0 && max < 500_000.0,
        "isee values parsed as euros: {isee:?}"
    );
    // XLSX with the header on row 4: application dates are real dates within the period.
    let housing = query(
        &lab,
        "SELECT MIN(application_date), MAX(application_date) FROM housing",
    );
    assert!(
        housing[0][0].as_str() >= "2019-01-01" && housing[0][1].as_str() <= "2024-12-31",
        "{housing:?}"
    );
    // JSON lines with nulls for running measures.
    let gol = query(&lab, "SELECT COUNT(*) FROM gol WHERE end_date IS NULL");
    assert!(
        gol[0][0].parse::<u64>().expect("count") > 0,
        "running GOL measures have no end date"
    );
    // UTF-8 with BOM and quoted newlines: the first column maps, rows load.
    let cases = query(
        &lab,
        "SELECT COUNT(*) FROM social_cases WHERE case_id IS NOT NULL",
    );
    assert!(
        cases[0][0].parse::<u64>().expect("count") > 100,
        "{cases:?}"
    );
}
