//! `datalab projection`: the cohort-component projection of the synthetic city.

use crate::support::{city, csv_rows, datalab, ok, query, s};
use std::collections::BTreeMap;

/// `projection ARGS --project LAB --quiet` as CSV rows with a header map.
fn table(lab: &std::path::Path, args: &[&str]) -> (BTreeMap<String, usize>, Vec<Vec<String>>) {
    let mut all = vec![
        "projection",
        "--quiet",
        "--project",
        s(lab),
        "--format",
        "csv",
    ];
    all.extend_from_slice(args);
    let mut rows = csv_rows(&ok(&all));
    let header = rows.remove(0);
    (
        header
            .into_iter()
            .enumerate()
            .map(|(i, c)| (c, i))
            .collect(),
        rows,
    )
}

fn num(v: &str) -> f64 {
    v.parse().unwrap_or_else(|_| panic!("{v} is a number"))
}

#[test]
fn projection_of_the_synthetic_city() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lab = city(tmp.path(), "0.1");
    ok(&["build", "--quiet", "--project", s(&lab)]);

    // the base year is the register on 31 December 2024, exactly, by zone, sex and single age
    let (h, rows) = table(&lab, &["--view", "population", "--to", "2027"]);
    let mut projected: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for r in rows.iter().filter(|r| r[h["year"]] == "2024") {
        if r[h["population"]] != "0" {
            projected.insert(
                (
                    r[h["zone"]].clone(),
                    r[h["sex"]].clone(),
                    r[h["age"]].clone(),
                ),
                r[h["population"]].clone(),
            );
        }
    }
    let register: BTreeMap<(String, String, String), String> = query(
        &lab,
        "SELECT zone, sex, CAST(LEAST(2024 - birth_year, 100) AS BIGINT) AS age, count(*) \
         FROM register WHERE year(ref_date) = 2024 GROUP BY 1, 2, 3",
    )
    .into_iter()
    .map(|r| ((r[0].clone(), r[1].clone(), r[2].clone()), r[3].clone()))
    .collect();
    assert!(
        register.len() > 500,
        "a city with many zone, sex and age cells"
    );
    assert_eq!(projected, register);
    // every year and zone has 2 × 101 cells
    let zones = register
        .keys()
        .map(|k| k.0.clone())
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(rows.len(), 4 * zones.len() * 2 * 101);

    // components balance for every zone and year, moves cancel in the city, and each year
    // starts where the last ended
    let (h, rows) = table(&lab, &["--to", "2030"]);
    assert_eq!(rows.len(), 6 * (zones.len() + 1));
    let mut end: BTreeMap<String, f64> = BTreeMap::new();
    for r in &rows {
        let v = |c: &str| num(&r[h[c]]);
        let net = v("births") - v("deaths") + v("immigrants") - v("emigrants") + v("in_moves")
            - v("out_moves");
        let change = v("population_end") - v("population_start");
        assert!((change - net).abs() < 1e-3, "{r:?}");
        assert!(v("residual").abs() < 1e-6, "{r:?}");
        if r[h["zone"]] == "total" {
            assert!((v("in_moves") - v("out_moves")).abs() < 1e-3, "{r:?}");
            assert!(v("births") > 0.0 && v("deaths") > 0.0 && v("immigrants") > 0.0);
        }
        if let Some(prev) = end.insert(r[h["zone"]].clone(), v("population_end")) {
            assert!((prev - v("population_start")).abs() < 1e-3, "{r:?}");
        }
    }

    // the demand's base year is the observed count of people aged 80+ living alone
    let (h, rows) = table(&lab, &["--demand", "elderly_80_alone", "--to", "2035"]);
    let observed: BTreeMap<String, f64> = query(
        &lab,
        "SELECT zone, count(*) FROM residents WHERE year = 2024 AND age >= 80 AND lives_alone GROUP BY zone",
    )
    .into_iter()
    .map(|r| (r[0].clone(), num(&r[1])))
    .collect();
    for r in rows
        .iter()
        .filter(|r| r[h["year"]] == "2024" && r[h["zone"]] != "total")
    {
        let want = observed.get(&r[h["zone"]]).copied().unwrap_or(0.0);
        assert!((num(&r[h["value"]]) - want).abs() < 1e-9, "{r:?} vs {want}");
    }
    assert!(rows.iter().any(|r| r[h["year"]] == "2035"));

    // the lab-side tables of the last run
    let dir = lab.join(".datalab/projections/baseline");
    for f in [
        "components.csv",
        "population.csv",
        "rates.csv",
        "demand_elderly_80_alone.csv",
        "projection.json",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("projection.json")).expect("read"))
            .expect("json");
    assert_eq!(summary["base_year"], 2024);
    assert_eq!(summary["horizon"], 2035);
    assert_eq!(
        summary["estimated_from"],
        serde_json::json!([2020, 2021, 2022, 2023, 2024])
    );

    // a scenario with half the fertility has fewer births, from the same base
    std::fs::create_dir_all(lab.join("projections")).expect("mkdir");
    std::fs::write(
        lab.join("projections/low.toml"),
        "format_version = 1\ntitle = \"Fecondità dimezzata\"\nhorizon = 2026\n[fertility]\nmultiplier = 0.5\n",
    )
    .expect("write");
    let births = |args: &[&str]| -> f64 {
        let (h, rows) = table(&lab, args);
        rows.iter()
            .filter(|r| r[h["zone"]] == "total" && r[h["year"]] == "2025")
            .map(|r| num(&r[h["births"]]))
            .sum()
    };
    let (base, low) = (births(&["--to", "2026"]), births(&["low"]));
    assert!((low - base / 2.0).abs() < 1e-6 * base, "{low} vs {base}");

    // rounded for outside the lab: multiples of the project's base (5), the same every time
    let (h, rounded) = table(&lab, &["--demand", "elderly_80_alone", "--rounded"]);
    assert!(rounded.iter().all(|r| num(&r[h["value"]]) % 5.0 == 0.0));
    assert_eq!(
        table(&lab, &["--demand", "elderly_80_alone", "--rounded"]).1,
        rounded
    );

    // a mistake in a scenario names the file, line and column; exit code 2
    std::fs::write(
        lab.join("projections/bad.toml"),
        "format_version = 1\ntitle = \"t\"\n[mortality]\nmultiplier = -1\n",
    )
    .expect("write");
    let out = datalab(&["projection", "--quiet", "--project", s(&lab), "bad"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("projections/bad.toml:4:14: key `mortality.multiplier`"),
        "{err}"
    );
    let out = datalab(&["projection", "--quiet", "--project", s(&lab), "high"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("scenarios of this project: bad, low"));
    let out = datalab(&[
        "projection",
        "--quiet",
        "--project",
        s(&lab),
        "--demand",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = datalab(&[
        "projection",
        "--quiet",
        "--project",
        s(&lab),
        "--to",
        "2020",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unbuilt_project_is_a_usage_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    crate::support::project(tmp.path(), &[], &[]);
    let out = datalab(&["projection", "--project", s(tmp.path())]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has never been built"));
}
