//! The synthetic city end to end: every injected defect, and only those, is quarantined.

use crate::support::{city, ok, query, s, status};
use std::collections::BTreeSet;

#[test]
fn quarantine_holds_exactly_the_injected_invalid_rows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lab = city(tmp.path(), "0.02");
    ok(&["build", "--project", s(&lab), "--quiet"]);

    let truth = std::fs::read_to_string(tmp.path().join("truth/defects.csv")).expect("defects.csv");
    let mut expected: BTreeSet<(String, String, i64)> = BTreeSet::new();
    let mut rdr = csv::Reader::from_reader(truth.as_bytes());
    for r in rdr.records() {
        let r = r.expect("record");
        if &r[5] == "true" {
            expected.insert((
                r[0].to_string(),
                format!("../{}", &r[1]),
                r[2].parse().expect("line"),
            ));
        }
    }
    assert!(
        !expected.is_empty(),
        "the synthetic city injects invalid rows"
    );

    let st = status(&lab);
    let mut got = BTreeSet::new();
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
        for row in query(&lab, &format!("SELECT _file, _line FROM quarantine.{name}")) {
            got.insert((
                name.to_string(),
                row[0].clone(),
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
