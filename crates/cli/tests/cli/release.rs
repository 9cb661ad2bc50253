//! The disclosure gate end to end: `datalab release` on a tiny hand-computed project and on the
//! synthetic city, `datalab attack` on what they publish, differencing between releases,
//! approvals by an output checker, tampering.

use crate::support::{city, csv_rows, datalab, ok, s};
use std::path::{Path, PathBuf};

const TOML: &str = r#"format_version = 1
name = "gate"

[territory]
levels = ["municipality", "district", "zone"]
codelist = "territories/zones.csv"

[periods]
type = "year"
first = 2024
last = 2024

[disclosure]
threshold = 3
"#;

const ZONES: &str = "zone_code,zone_name,district_code,district_name,municipality_code,municipality_name\n\
Z1,Uno,Q1,Nord,M1,Alfa\nZ2,Due,Q1,Nord,M1,Alfa\nZ3,Tre,Q2,Sud,M1,Alfa\nZ4,Quattro,Q2,Sud,M1,Alfa\n";

const SPEC: &str = r#"format_version = 1
files = ["data/people.csv"]
format = "csv"

[[columns]]
name = "person"
type = "string"
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
name = "amount"
type = "float"
required = true
"#;

/// Z1: 30 people, Z2: 2 (below the threshold of 3), Z3: 8, Z4: 9 of which one receives 1000
/// and eight 10 each (dominated: 1000 + 10 of 1080 > 85%; p% = 10: 1080 - 1010 = 70 < 100).
/// Q1 = 32, Q2 = 17, M1 = 49.
fn people() -> String {
    let mut out = String::from("person,zone,sex,amount\n");
    let mut n = 0;
    let mut add = |zone: &str, count: usize, amount: f64, out: &mut String| {
        for i in 0..count {
            n += 1;
            let sex = if i % 2 == 0 { "F" } else { "M" };
            out.push_str(&format!("p{n},{zone},{sex},{amount}\n"));
        }
    };
    add("Z1", 30, 20.0, &mut out);
    add("Z2", 2, 20.0, &mut out);
    add("Z3", 8, 20.0, &mut out);
    add("Z4", 1, 1000.0, &mut out);
    add("Z4", 8, 10.0, &mut out);
    out
}

fn release_spec(name: &str, levels: &str, extra: &str) -> (String, String) {
    (
        format!("releases/{name}.toml"),
        format!(
            r#"format_version = 1
title = "{name}"

[[table]]
name = "people"
query = "SELECT person, zone, sex FROM people"
unit = "person"
territory = "zone"
levels = {levels}
{extra}"#
        ),
    )
}

/// A built tiny project with the given release specs.
fn tiny(dir: &Path, releases: &[(String, String)]) -> PathBuf {
    let files: Vec<(String, String)> = vec![
        ("datalab.toml".into(), TOML.into()),
        ("territories/zones.csv".into(), ZONES.into()),
        ("sources/people.toml".into(), SPEC.into()),
        ("data/people.csv".into(), people()),
    ];
    for (rel, text) in files.iter().chain(releases) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    ok(&["build", "--quiet", "--project", s(dir)]);
    dir.to_path_buf()
}

fn release(dir: &Path, name: &str) -> std::process::Output {
    datalab(&["release", "--quiet", "--project", s(dir), name])
}

fn log(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(dir.join("releases").join(name).join("release.json")).unwrap(),
    )
    .unwrap()
}

/// (territory, value, flag, rule) rows of a released table.
fn cells(dir: &Path, release: &str, output: &str) -> Vec<(String, String, String, String)> {
    let text = std::fs::read_to_string(
        dir.join("releases")
            .join(release)
            .join(format!("{output}.csv")),
    )
    .unwrap();
    let rows = csv_rows(&text);
    let h = &rows[0];
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (t, v, f, r) = (col("territory"), col("value"), col("flag"), col("rule"));
    rows[1..]
        .iter()
        .map(|row| {
            (
                row[t].clone(),
                row[v].clone(),
                row[f].clone(),
                row[r].clone(),
            )
        })
        .collect()
}

fn attack(dirs: &[&Path]) -> std::process::Output {
    let mut args = vec!["attack", "--quiet"];
    args.extend(dirs.iter().map(|d| s(d)));
    datalab(&args)
}

#[test]
fn a_small_zone_is_suppressed_with_its_neighbour_and_the_attacker_cannot_recompute_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tiny(
        tmp.path(),
        &[release_spec(
            "r",
            r#"["municipality", "district", "zone"]"#,
            "",
        )],
    );
    let out = release(&dir, "r");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = cells(&dir, "r", "people");
    let expect = [
        ("M1", "49", "", ""),
        ("Q1", "32", "", ""),
        ("Q2", "17", "", ""),
        ("Z1", "", "suppressed", "secondary"),
        ("Z2", "", "suppressed", "frequency"),
        ("Z3", "8", "", ""),
        ("Z4", "9", "", ""),
    ];
    let got_ref: Vec<(&str, &str, &str, &str)> = got
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
        .collect();
    assert_eq!(got_ref, expect);
    let l = log(&dir, "r");
    assert_eq!(l["format_version"], 1);
    assert_eq!(l["policy"]["threshold"], 3);
    assert_eq!(l["attack"]["breaches"], 0);
    let roles: Vec<(String, String)> = l["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["codes"][0][1].as_str().unwrap().to_string(),
                c["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        vec![
            ("Z2".to_string(), "primary".to_string()),
            ("Z1".to_string(), "secondary".to_string())
        ]
    );
    // what leaves the lab is the tables and the log; the true values of hidden cells stay in
    // the lab-side record
    let mut released: Vec<String> = std::fs::read_dir(dir.join("releases/r"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    released.sort();
    assert_eq!(released, vec!["people.csv", "release.json"]);
    assert!(dir.join(".datalab/releases/r/protection.json").is_file());
    assert!(attack(&[&dir.join("releases/r")]).status.success());
}

#[test]
fn the_attacker_catches_differencing_between_releases_that_ignored_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let specs = [
        release_spec("districts", r#"["municipality", "district"]"#, ""),
        release_spec("zones", r#"["municipality", "zone"]"#, ""),
    ];
    let a = tiny(&tmp.path().join("a"), &specs);
    // a copy of the same lab that never saw the districts release
    let b = tmp.path().join("b");
    ok(&["build", "--quiet", "--project", s(&a)]);
    copy_dir(&a, &b);
    assert!(release(&a, "districts").status.success());
    assert!(release(&b, "zones").status.success());
    // zones alone hide Z2 with a cheaper zone of the other district: safe on its own ...
    assert!(attack(&[&b.join("releases/zones")]).status.success());
    // ... but with the district totals Z2 = Q1 - Z1
    let out = attack(&[&a.join("releases/districts"), &b.join("releases/zones")]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("territory=Z2"));
    // the same releases made in one lab: the gate knows the district totals are public
    assert!(release(&a, "zones").status.success());
    let z = cells(&a, "zones", "people");
    let hidden: Vec<&str> = z
        .iter()
        .filter(|c| c.2 == "suppressed")
        .map(|c| c.0.as_str())
        .collect();
    assert_eq!(hidden, vec!["Z1", "Z2"]);
    let out = attack(&[&a.join("releases/districts"), &a.join("releases/zones")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn magnitude_tables_apply_dominance_and_p_percent_to_each_contributor() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = (
        "releases/amounts.toml".to_string(),
        r#"format_version = 1
title = "amounts"

[[table]]
name = "paid"
query = "SELECT person, zone, amount FROM people"
unit = "person"
territory = "zone"
measure = "amount"
"#
        .to_string(),
    );
    let dir = tiny(tmp.path(), &[spec]);
    let out = release(&dir, "amounts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = cells(&dir, "amounts", "paid");
    let z4 = got.iter().find(|c| c.0 == "Z4").unwrap();
    assert_eq!((z4.1.as_str(), z4.2.as_str()), ("", "suppressed"));
    assert!(
        z4.3.contains("dominance") && z4.3.contains("p-percent"),
        "{z4:?}"
    );
    // Z2 has 2 contributors: below the threshold
    assert!(
        got.iter()
            .find(|c| c.0 == "Z2")
            .unwrap()
            .3
            .contains("frequency")
    );
    // Z1 and Z3 hide their district neighbours; the districts and the city are published
    let shown: Vec<(&str, &str)> = got
        .iter()
        .filter(|c| c.2.is_empty())
        .map(|c| (c.0.as_str(), c.1.as_str()))
        .collect();
    assert_eq!(shown, vec![("M1", "1880"), ("Q1", "640"), ("Q2", "1240")]);
    assert!(attack(&[&dir.join("releases/amounts")]).status.success());
}

#[test]
fn an_adhoc_table_waits_for_an_output_checker_and_tampering_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = (
        "releases/study.toml".to_string(),
        r#"format_version = 1
title = "study"
audience = "partners"

[[adhoc]]
name = "means"
query = "SELECT sex, avg(amount) AS mean FROM people GROUP BY sex ORDER BY sex"
description = "means over 49 people"
"#
        .to_string(),
    );
    let dir = tiny(tmp.path(), &[spec]);
    let out = release(&dir, "study");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("waits for an output checker") && err.contains("--approve means"),
        "{err}"
    );
    assert!(
        !dir.join("releases/study").exists(),
        "nothing released before approval"
    );
    ok(&[
        "release",
        "--quiet",
        "--project",
        s(&dir),
        "study",
        "--approve",
        "means",
        "--by",
        "Maria Rossi",
    ]);
    let out = release(&dir, "study");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let l = log(&dir, "study");
    assert_eq!(l["outputs"][0]["checked"], "approved");
    assert_eq!(l["outputs"][0]["approval"]["checker"], "Maria Rossi");
    // a released file edited afterwards no longer matches its log
    let r = tiny(
        &tmp.path().join("t"),
        &[release_spec("r", r#"["municipality", "zone"]"#, "")],
    );
    assert!(release(&r, "r").status.success());
    let f = r.join("releases/r/people.csv");
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("Z4,Quattro,9", "Z4,Quattro,10");
    std::fs::write(&f, text).unwrap();
    let out = attack(&[&r.join("releases/r")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("differs from what the gate released"));
}

#[test]
fn the_synthetic_citys_releases_pass_the_attacker() {
    let tmp = tempfile::tempdir().unwrap();
    let lab = city(tmp.path(), "0.05");
    ok(&["build", "--quiet", "--project", s(&lab)]);
    let out = release(&lab, "annual");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let l = log(&lab, "annual");
    let outputs: Vec<&str> = l["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(outputs.len(), 19, "{outputs:?}");
    assert!(l["attack"]["suppressed_cells"].as_u64().unwrap() > 0);
    assert_eq!(l["attack"]["breaches"], 0);
    // the two people tables share one frame (zone x age x citizenship x sex)
    let frames = l["frames"].as_array().unwrap();
    let linked = frames
        .iter()
        .find(|f| f["dims"].as_array().unwrap().len() == 4)
        .expect("linked frame");
    assert_eq!(linked["method"], "suppress");
    // every suppressed frame, the indicator's included, has exact margins: the attacker's
    // equations hold and secondary suppression applies
    assert!(
        frames
            .iter()
            .filter(|f| f["method"] == "suppress")
            .all(|f| f["additive"] == true),
        "{frames:?}"
    );
    let out = attack(&[&lab.join("releases/annual")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // no cell below the threshold is published in the people tables
    for output in [
        "min_income_people_by_age_citizenship",
        "min_income_people_by_sex",
    ] {
        let text =
            std::fs::read_to_string(lab.join("releases/annual").join(format!("{output}.csv")))
                .unwrap();
        let rows = csv_rows(&text);
        let v = rows[0].iter().position(|h| h == "value").unwrap();
        for r in &rows[1..] {
            if let Ok(x) = r[v].parse::<u64>() {
                assert!(x == 0 || x >= 5, "{output}: published {x} in {r:?}");
            }
        }
    }
    // rounded indicator values are multiples of 5
    let text = std::fs::read_to_string(lab.join("releases/annual/population_by_sex.csv")).unwrap();
    let rows = csv_rows(&text);
    let n = rows[0].iter().position(|h| h == "numerator").unwrap();
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[n].parse::<f64>().unwrap() % 5.0 == 0.0)
    );
    // the partner extract: an ad-hoc table waits; once approved the release goes out k-anonymous
    assert_eq!(release(&lab, "partner").status.code(), Some(1));
    ok(&[
        "release",
        "--quiet",
        "--project",
        s(&lab),
        "partner",
        "--approve",
        "mean_paid_by_measure",
        "--by",
        "checker",
    ]);
    let out = release(&lab, "partner");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text =
        std::fs::read_to_string(lab.join("releases/partner/min_income_extract.csv")).unwrap();
    let rows = csv_rows(&text);
    let h = &rows[0];
    assert!(
        !text.contains("p1."),
        "lab pseudonyms never leave in an extract"
    );
    let qi: Vec<usize> = ["age", "zone", "sex", "citizenship_group"]
        .iter()
        .map(|q| h.iter().position(|x| x == q).unwrap())
        .collect();
    let mut classes: std::collections::HashMap<Vec<&str>, usize> = Default::default();
    for r in &rows[1..] {
        *classes
            .entry(qi.iter().map(|&i| r[i].as_str()).collect())
            .or_default() += 1;
    }
    for (key, n) in &classes {
        if key.iter().all(|v| !v.is_empty()) {
            assert!(*n >= 5, "class {key:?} has {n} records");
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn open_data_publishes_public_releases_only_in_csv_json_sdmx_and_dcat() {
    let tmp = tempfile::tempdir().unwrap();
    let levels = r#"["municipality", "district", "zone"]"#;
    let (partner_file, partner_text) = release_spec("p", levels, "");
    let partner_text = partner_text.replace(
        "title = \"p\"\n",
        "title = \"p\"\naudience = \"partners\"\n",
    );
    let dir = tiny(
        tmp.path(),
        &[release_spec("r", levels, ""), (partner_file, partner_text)],
    );
    for name in ["r", "p"] {
        let out = release(&dir, name);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let od = tmp.path().join("od");
    ok(&[
        "export",
        "opendata",
        "--quiet",
        "--project",
        s(&dir),
        "--out",
        s(&od),
        "--publisher-id",
        "c_x000",
    ]);

    // the released file byte for byte, and the partners' release left out
    assert_eq!(
        std::fs::read(od.join("csv/r__people.csv")).unwrap(),
        std::fs::read(dir.join("releases/r/people.csv")).unwrap()
    );
    assert!(!od.join("csv/p__people.csv").exists());

    // SDMX-CSV: suppressed cells empty, primary C and secondary D (the hand-computed pattern of
    // the first test: Z2 below the threshold, Z1 protecting it)
    let sdmx = csv_rows(&std::fs::read_to_string(od.join("sdmx/r__people.csv")).unwrap());
    let h = &sdmx[0];
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let row = |area: &str| {
        sdmx.iter()
            .find(|r| r[col("REF_AREA")] == area)
            .unwrap_or_else(|| panic!("no {area}"))
            .clone()
    };
    assert_eq!(row("M1")[col("OBS_VALUE")], "49");
    assert_eq!(row("M1")[col("CONF_STATUS")], "F");
    assert_eq!(row("M1")[col("STRUCTURE_ID")], "C_X000:DF_r__people(1.0)");
    assert_eq!(
        (
            row("Z2")[col("OBS_VALUE")].as_str(),
            row("Z2")[col("CONF_STATUS")].as_str()
        ),
        ("", "C")
    );
    assert_eq!(
        (
            row("Z1")[col("OBS_VALUE")].as_str(),
            row("Z1")[col("CONF_STATUS")].as_str()
        ),
        ("", "D")
    );

    // JSON: suppressed values are null
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(od.join("json/r__people.json")).unwrap()).unwrap();
    let z2 = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["territory"] == "Z2")
        .unwrap();
    assert!(z2["value"].is_null());

    // the structure names every zone, and the catalogue has one dataset with three distributions
    let structure = std::fs::read_to_string(od.join("sdmx/structure.xml")).unwrap();
    assert!(structure.contains(r#"<str:Code id="Z2"><com:Name xml:lang="it">Due</com:Name>"#));
    assert!(structure.contains(r#"<str:Dataflow id="DF_r__people""#));
    let catalog: serde_json::Value =
        serde_json::from_slice(&std::fs::read(od.join("catalog.jsonld")).unwrap()).unwrap();
    let graph = catalog["@graph"].as_array().unwrap();
    let datasets: Vec<&serde_json::Value> = graph
        .iter()
        .filter(|n| {
            n["@type"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "dcatapit:Dataset")
        })
        .collect();
    assert_eq!(datasets.len(), 1);
    assert_eq!(datasets[0]["dct:identifier"], "c_x000:r__people");
    assert_eq!(
        datasets[0]["dcat:distribution"].as_array().unwrap().len(),
        3
    );

    // asking for the partners' release is refused; so is a tampered file
    let out = datalab(&[
        "export",
        "opendata",
        "--project",
        s(&dir),
        "--out",
        s(&od),
        "--release",
        "p",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("partners"));
    let released = dir.join("releases/r/people.csv");
    let text = std::fs::read_to_string(&released)
        .unwrap()
        .replace(",49,", ",50,");
    std::fs::write(&released, text).unwrap();
    let out = datalab(&["export", "opendata", "--project", s(&dir), "--out", s(&od)]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        od.join("csv/r__people.csv").is_file(),
        "the previous export stays"
    );
}
