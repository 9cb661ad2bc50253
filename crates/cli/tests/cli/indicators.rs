//! Indicators and the cube: semantics on a tiny hand-computed project, the standard library on
//! the synthetic city, incremental = full, editing one indicator.

use crate::support::{city, datalab, ok, query, s};
use std::path::Path;

const TINY_TOML: &str = r#"format_version = 1
name = "tiny"

[territory]
levels = ["municipality", "zone"]
codelist = "territories/zones.csv"

# Until 2019 the city had one zone Z9 where Z1 and Z2 are now.
[[territory.history]]
version = "zone 2019"
until = 2019
crosswalk = "territories/crosswalk_2019.csv"

[periods]
type = "year"
first = 2019
last = 2020
"#;

const ZONES: &str = "zone_code,zone_name,municipality_code,municipality_name\n\
Z1,Nord,M1,Alfa\nZ2,Sud,M1,Alfa\nZ3,Est,M2,Beta\n";

const CROSSWALK: &str = "old_code,new_code,weight\nZ9,Z1,0.6\nZ9,Z2,0.4\nZ3,Z3,1\n";

const PEOPLE_SPEC: &str = r#"format_version = 1
files = ["data/people.csv"]
format = "csv"

[[columns]]
name = "year"
type = "integer"
required = true

[[columns]]
name = "zone"
type = "string"
required = true

[[columns]]
name = "sex"
type = "string"
required = true

[[columns]]
name = "income"
type = "float"
"#;

/// 2019: five people in the old zone Z9 (3 F), two in Z3 (1 F).
/// 2020: Z1 has 3 (2 F), Z2 has 2 (0 F), Z3 has 2 (2 F).
const PEOPLE: &str = "year,zone,sex,income\n\
2019,Z9,F,10\n2019,Z9,F,20\n2019,Z9,F,30\n2019,Z9,M,40\n2019,Z9,M,50\n\
2019,Z3,F,5\n2019,Z3,M,7\n\
2020,Z1,F,10\n2020,Z1,F,30\n2020,Z1,M,50\n\
2020,Z2,M,20\n2020,Z2,M,40\n\
2020,Z3,F,1\n2020,Z3,F,3\n";

const SURVEY_SPEC: &str = r#"format_version = 1
files = ["data/survey.csv"]
format = "csv"

[[columns]]
name = "area"
type = "string"
required = true

[[columns]]
name = "year"
type = "integer"
required = true

[[columns]]
name = "variable"
type = "string"
required = true

[[columns]]
name = "category"
type = "string"
required = true

[[columns]]
name = "prevalence"
type = "float"

[[columns]]
name = "low"
type = "float"

[[columns]]
name = "high"
type = "float"

[[columns]]
name = "n"
type = "integer"
"#;

const SURVEY: &str = "area,year,variable,category,prevalence,low,high,n\n\
Comune di Alfa,2020,totale,totale,12.5,10.1,14.9,400\n\
Comune di Alfa,2020,sesso,F,14.0,10.6,17.4,210\n";

const SUPPLY_SPEC: &str = r#"format_version = 1
files = ["data/supply.csv"]
format = "csv"

[[columns]]
name = "year"
type = "integer"
required = true

[[columns]]
name = "zone"
type = "string"
required = true

[[columns]]
name = "places"
type = "integer"
required = true
"#;

const SUPPLY: &str = "year,zone,places\n2020,Z1,1\n2020,Z3,3\n";

fn indicator(body: &str) -> String {
    format!(
        r#"name = {{ it = "Prova", en = "Test" }}
description = {{ it = "Prova.", en = "Test." }}
unit = {{ it = "unità", en = "units" }}
kind = "output"
direction = "neutral"
topics = ["population"]
{body}"#
    )
}

/// Writes the tiny project into `dir` and builds it.
fn tiny(dir: &Path) {
    let files: Vec<(&str, String)> = vec![
        ("datalab.toml", TINY_TOML.into()),
        ("territories/zones.csv", ZONES.into()),
        ("territories/crosswalk_2019.csv", CROSSWALK.into()),
        ("sources/people.toml", PEOPLE_SPEC.into()),
        ("data/people.csv", PEOPLE.into()),
        ("sources/survey.toml", SURVEY_SPEC.into()),
        ("data/survey.csv", SURVEY.into()),
        ("sources/supply.toml", SUPPLY_SPEC.into()),
        ("data/supply.csv", SUPPLY.into()),
        (
            "indicators/people.toml",
            indicator(
                "breakdowns = [\"sex\"]\n[numerator]\ntable = \"people\"\nvalue = \"count(*)\"\n",
            ),
        ),
        (
            "indicators/share_f.toml",
            indicator(
                "factor = 100\n[numerator]\ntable = \"people\"\nvalue = \"count(*)\"\nfilter = \"sex = 'F'\"\n[denominator]\ntable = \"people\"\nvalue = \"count(*)\"\n",
            ),
        ),
        (
            "indicators/median_income.toml",
            indicator("[numerator]\ntable = \"people\"\nvalue = \"median(income)\"\n"),
        ),
        (
            "indicators/survey.toml",
            indicator(
                "[estimate]\ntable = \"survey\"\nvalue = \"prevalence\"\nlower = \"low\"\nupper = \"high\"\nsample_size = \"n\"\nyear = \"year\"\narea = \"area\"\nareas = { \"Comune di Alfa\" = \"M1\" }\nbreakdown = \"variable\"\nbreakdown_value = \"category\"\ntotal = \"totale\"\ndimensions = { sesso = \"sex\" }\n",
            ),
        ),
        (
            "indicators/women_need.toml",
            indicator(
                "levels = [\"zone\"]\n[numerator]\ntable = \"people\"\nvalue = \"count(*)\"\nfilter = \"sex = 'F'\"\n[need]\nstandard = 0.5\nsupply_unit = { it = \"posti\", en = \"places\" }\n[need.supply]\ntable = \"supply\"\nvalue = \"sum(places)\"\n",
            ),
        ),
    ];
    for (rel, text) in &files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    ok(&["build", "--project", s(dir), "--quiet"]);
}

/// (territory, period, breakdown) → (numerator, denominator, value, lower, upper, flags).
fn cells(dir: &Path, indicator: &str) -> Vec<Vec<String>> {
    query(
        dir,
        &format!(
            "SELECT territory, territory_level, period, breakdown, numerator, denominator, value, lower, upper, sample_size, flags \
             FROM cube WHERE indicator = '{indicator}' ORDER BY territory_level, territory, period, breakdown"
        ),
    )
}

fn row(t: &str, l: &str, p: &str, b: &str, rest: &[&str]) -> Vec<String> {
    [t, l, p, b]
        .iter()
        .chain(rest)
        .map(|x| x.to_string())
        .collect()
}

#[test]
fn counts_roll_up_the_hierarchy_and_old_zones_follow_the_crosswalk() {
    let tmp = tempfile::tempdir().expect("tmp");
    tiny(tmp.path());
    let got = cells(tmp.path(), "people");
    // 2019: Z9's five people split 0.6/0.4 into Z1/Z2 (3 and 2; 1.8 and 1.2 women); M1 = 5.
    let expect = [
        row(
            "M1",
            "municipality",
            "2019",
            "",
            &["5.0", "", "5.0", "", "", "", "crosswalk"],
        ),
        row(
            "M1",
            "municipality",
            "2019",
            "sex=F",
            &["3.0", "", "3.0", "", "", "", "crosswalk"],
        ),
        row(
            "M1",
            "municipality",
            "2019",
            "sex=M",
            &["2.0", "", "2.0", "", "", "", "crosswalk"],
        ),
        row(
            "M1",
            "municipality",
            "2020",
            "",
            &["5.0", "", "5.0", "", "", "", ""],
        ),
        row(
            "M1",
            "municipality",
            "2020",
            "sex=F",
            &["2.0", "", "2.0", "", "", "", ""],
        ),
        row(
            "M1",
            "municipality",
            "2020",
            "sex=M",
            &["3.0", "", "3.0", "", "", "", ""],
        ),
    ];
    for e in &expect {
        assert!(got.contains(e), "missing {e:?} in {got:#?}");
    }
    let z1_2019: Vec<&Vec<String>> = got
        .iter()
        .filter(|r| r[0] == "Z1" && r[2] == "2019")
        .collect();
    assert_eq!(z1_2019.len(), 3, "{z1_2019:?}");
    let total: f64 = z1_2019[0][4].parse().expect("number");
    assert!((total - 3.0).abs() < 1e-9, "{total}");
    let women: f64 = z1_2019[1][4].parse().expect("number");
    assert!((women - 1.8).abs() < 1e-9, "{women}");
    assert!(z1_2019.iter().all(|r| r[10] == "crosswalk"));
}

#[test]
fn ratios_medians_and_zero_cells_are_computed_per_cell() {
    let tmp = tempfile::tempdir().expect("tmp");
    tiny(tmp.path());
    let share = cells(tmp.path(), "share_f");
    // Z2 in 2020: 0 women of 2 residents is a 0, not a missing cell.
    assert!(
        share.contains(&row(
            "Z2",
            "zone",
            "2020",
            "",
            &["0.0", "2.0", "0.0", "", "", "", ""]
        )),
        "{share:#?}"
    );
    // Z3 in 2020: 2 of 2; M2 (only Z3) the same; M1 in 2020: 2 of 5 = 40%.
    assert!(share.contains(&row(
        "Z3",
        "zone",
        "2020",
        "",
        &["2.0", "2.0", "100.0", "", "", "", ""]
    )));
    assert!(share.contains(&row(
        "M1",
        "municipality",
        "2020",
        "",
        &["2.0", "5.0", "40.0", "", "", "", ""]
    )));
    let median = cells(tmp.path(), "median_income");
    // M1 2020 incomes 10, 30, 50, 20, 40: median 30. Z1 2020: 10, 30, 50 → 30; Z2: 20, 40 → 30;
    // Z3 2020: 1, 3 → 2. In 2019 the old zone's rows go to Z1, the zone holding most of it.
    for (t, l, p, v) in [
        ("M1", "municipality", "2020", "30.0"),
        ("Z1", "zone", "2020", "30.0"),
        ("Z2", "zone", "2020", "30.0"),
        ("Z3", "zone", "2020", "2.0"),
        ("Z1", "zone", "2019", "30.0"),
        ("M2", "municipality", "2019", "6.0"),
    ] {
        assert!(
            median.contains(&row(t, l, p, "", &[v, "", v, "", "", "", ""])),
            "{t} {p}: {median:#?}"
        );
    }
    let change = query(
        tmp.path(),
        "SELECT change FROM cube WHERE indicator = 'people' AND territory = 'M2' AND period = '2020' AND breakdown = ''",
    );
    assert_eq!(change, vec![vec!["0.0".to_string()]]);
}

#[test]
fn survey_estimates_keep_their_interval_and_are_never_divided_below_their_level() {
    let tmp = tempfile::tempdir().expect("tmp");
    tiny(tmp.path());
    let got = cells(tmp.path(), "survey");
    assert_eq!(
        got,
        vec![
            row(
                "M1",
                "municipality",
                "2020",
                "",
                &["", "", "12.5", "10.1", "14.9", "400", "estimate"]
            ),
            row(
                "M1",
                "municipality",
                "2020",
                "sex=F",
                &["", "", "14.0", "10.6", "17.4", "210", "estimate"]
            ),
        ]
    );
}

#[test]
fn needs_are_related_to_supply_with_coverage_and_gap() {
    let tmp = tempfile::tempdir().expect("tmp");
    tiny(tmp.path());
    let cov = cells(tmp.path(), "women_need:coverage");
    // Z1 2020: 2 women in need, 1 place → 50 per 100; Z3: 2 women, 3 places → 150.
    assert!(
        cov.contains(&row(
            "Z1",
            "zone",
            "2020",
            "",
            &["1.0", "2.0", "50.0", "", "", "", "need"]
        )),
        "{cov:#?}"
    );
    assert!(cov.contains(&row(
        "Z3",
        "zone",
        "2020",
        "",
        &["3.0", "2.0", "150.0", "", "", "", "need"]
    )));
    let gap = cells(tmp.path(), "women_need:gap");
    // Standard 0.5 places each: Z1 needs 1, has 1 → gap 0; Z3 needs 1, has 3 → -2.
    assert!(
        gap.contains(&row(
            "Z1",
            "zone",
            "2020",
            "",
            &["1.0", "1.0", "0.0", "", "", "", "need"]
        )),
        "{gap:#?}"
    );
    assert!(gap.contains(&row(
        "Z3",
        "zone",
        "2020",
        "",
        &["1.0", "3.0", "-2.0", "", "", "", "need"]
    )));
    let text = ok(&[
        "indicators",
        "needs",
        "women_need",
        "--project",
        s(tmp.path()),
        "--level",
        "zone",
        "--period",
        "2020",
        "--format",
        "csv",
    ]);
    assert!(text.contains("Z3,Est,2,3,150,1,-2"), "{text}");
}

#[test]
fn a_definition_error_names_the_file_line_and_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    tiny(tmp.path());
    std::fs::write(
        tmp.path().join("indicators/share_f.toml"),
        indicator(
            "factor = 100\n[numerator]\ntable = \"people\"\nvalue = \"count(*)\"\nfilter = \"sexx = 'F'\"\n",
        ),
    )
    .expect("write");
    let out = datalab(&["build", "--project", s(tmp.path()), "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("indicators/share_f.toml:11: numerator.filter:") && err.contains("sexx"),
        "{err}"
    );
}

#[test]
fn benchmark_ranks_zones_against_their_municipality_with_funnel_limits() {
    let tmp = tempfile::tempdir().expect("tmp");
    tiny(tmp.path());
    let json = ok(&[
        "indicators",
        "benchmark",
        "share_f",
        "--project",
        s(tmp.path()),
        "--level",
        "zone",
        "--period",
        "2020",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let rows = v.as_array().expect("array");
    // Z1 (2 of 3) and Z2 (0 of 2) against M1 (40%); Z3 against M2 (100%).
    let z1 = rows.iter().find(|r| r["territory"] == "Z1").expect("Z1");
    assert_eq!(z1["reference"], "M1");
    assert!((z1["difference"].as_f64().expect("diff") - (200.0 / 3.0 - 40.0)).abs() < 1e-9);
    assert_eq!(z1["rank"], 1);
    let z2 = rows.iter().find(|r| r["territory"] == "Z2").expect("Z2");
    assert_eq!(z2["rank"], 2);
    assert!(z2["lower95"].as_f64().expect("limit") <= z2["value"].as_f64().expect("value") + 40.0);
    assert_eq!(rows.len(), 3);
}

#[test]
fn the_city_cube_holds_the_standard_library_and_incremental_equals_full() {
    let tmp = tempfile::tempdir().expect("tmp");
    let lab = city(tmp.path(), "0.02");
    ok(&["build", "--project", s(&lab), "--quiet"]);
    let listed: serde_json::Value = serde_json::from_str(&ok(&[
        "indicators",
        "list",
        "--project",
        s(&lab),
        "--format",
        "json",
    ]))
    .expect("json");
    let ids: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    assert!(ids.len() >= 30, "{}", ids.len());
    let in_cube: Vec<String> = query(&lab, "SELECT DISTINCT indicator FROM cube ORDER BY 1")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    for id in &ids {
        assert!(
            in_cube.iter().any(|c| c == id),
            "{id} missing from the cube"
        );
    }
    // Survey prevalences exist only where the survey gives them (province, municipality).
    let below = query(
        &lab,
        "SELECT count(*) FROM cube c JOIN indicators i ON c.indicator = i.series \
         WHERE i.tables LIKE '%health%' AND c.territory_level IN ('district', 'zone')",
    );
    assert_eq!(below, vec![vec!["0".to_string()]]);

    // The SQL path (model + cube) against `indicators::stats`, itself checked against PySAL's
    // `inequality` and numpy (crates/indicators/tests/reference): poverty rate and Gini of the
    // city in 2024 from the rows of `isee_households`.
    let rows = query(
        &lab,
        "SELECT eq_income, persons FROM isee_households WHERE year = 2024",
    );
    let incomes: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| {
            (
                r[0].parse().expect("income"),
                r[1].parse().expect("persons"),
            )
        })
        .collect();
    let (_, rate) = indicators::stats::poverty_rate(&incomes, 0.6).expect("rate");
    let gini = indicators::stats::gini_weighted(&incomes).expect("gini");
    let cube_value = |id: &str| -> f64 {
        query(
            &lab,
            &format!(
                "SELECT value FROM cube WHERE indicator = '{id}' AND territory_level = 'municipality' \
                 AND period = '2024' AND breakdown = ''"
            ),
        )[0][0]
            .parse()
            .expect("value")
    };
    assert!((cube_value("at_risk_of_poverty_isee") - 100.0 * rate).abs() < 1e-9);
    assert!((cube_value("gini_isee") - 100.0 * gini).abs() < 1e-9);

    // Edit one indicator: only its file in the cube changes.
    let files = |lab: &Path| -> Vec<String> {
        query(lab, "SELECT 1").len(); // the warehouse exists
        let dir = lab.join(".datalab/snapshots/cube");
        let mut newest: Vec<(std::time::SystemTime, std::path::PathBuf)> = std::fs::read_dir(&dir)
            .expect("cube snapshots")
            .flatten()
            .map(|e| {
                (
                    e.metadata().and_then(|m| m.modified()).expect("mtime"),
                    e.path(),
                )
            })
            .collect();
        newest.sort();
        let mut names: Vec<String> = std::fs::read_dir(newest.last().expect("one").1.join("data"))
            .expect("data")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = files(&lab);
    let path = lab.join("indicators/share_foreign_residents.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace("factor = 100", "factor = 1000")).expect("write");
    ok(&["build", "--project", s(&lab), "--quiet"]);
    let after = files(&lab);
    let changed: Vec<&String> = after.iter().filter(|f| !before.contains(f)).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].starts_with("share_foreign_residents-"));
    let sql =
        "SELECT * FROM cube ORDER BY indicator, territory_level, territory, period, breakdown";
    let incremental = query(&lab, sql);
    ok(&["build", "--project", s(&lab), "--quiet", "--force"]);
    assert_eq!(incremental, query(&lab, sql));
}
