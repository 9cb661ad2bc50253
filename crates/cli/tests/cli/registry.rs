//! The registry through the binary: the WeCaRe example project (import, classification tables
//! from the registry's own queries, the registry as warehouse tables), import errors, export.

use crate::support::{datalab, ok, query, s};
use std::path::{Path, PathBuf};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// A copy of the WeCaRe example project (without any registry) in `dir`.
fn wecare(dir: &Path) -> PathBuf {
    let p = dir.join("wecare");
    std::fs::create_dir_all(&p).expect("mkdir");
    std::fs::copy(
        examples().join("wecare/datalab.toml"),
        p.join("datalab.toml"),
    )
    .expect("copy datalab.toml");
    p
}

fn data() -> PathBuf {
    examples().join("wecare/data")
}

/// `datalab registry import --format wecare` of the example's data into project `p`.
fn import_wecare(p: &Path) {
    ok(&[
        "registry",
        "import",
        "--project",
        s(p),
        "--format",
        "wecare",
        s(&data()),
        "--quiet",
    ]);
}

/// The rows of the table with this key, from `registry tables --format json`.
fn rows(tables: &serde_json::Value, key: &str) -> Vec<Vec<serde_json::Value>> {
    tables
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["key"] == key)
        .unwrap_or_else(|| panic!("no table {key}"))["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r.as_array().expect("row").clone())
        .collect()
}

#[test]
fn the_wecare_programme_loads_and_its_tables_come_from_queries() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = wecare(tmp.path());
    import_wecare(&p);
    let tables: serde_json::Value = serde_json::from_str(&ok(&[
        "registry",
        "tables",
        "--project",
        s(&p),
        "--format",
        "json",
        "--as-of",
        "2021-12-31",
    ]))
    .expect("json");
    // per category: counted by hand from data/interventions.csv
    let by_category = rows(&tables, "projects_by_category");
    let count = |category: &str| {
        by_category
            .iter()
            .find(|r| r[0] == category)
            .unwrap_or_else(|| panic!("no category {category}"))[3]
            .as_i64()
            .expect("projects")
    };
    assert_eq!(count("socio_labour_inclusion"), 13);
    assert_eq!(count("mutual_aid_and_solidarity_exchange"), 9);
    assert_eq!(count("planning_office"), 2);
    assert_eq!(by_category.len(), 9);
    let quadrants = rows(&tables, "projects_by_quadrant");
    let total: i64 = quadrants.iter().map(|r| r[1].as_i64().expect("n")).sum();
    assert_eq!(total, 22, "every project in one quadrant");

    // importing again changes nothing
    let before = ok(&[
        "registry",
        "tables",
        "--project",
        s(&p),
        "--as-of",
        "2021-12-31",
    ]);
    import_wecare(&p);
    let after = ok(&[
        "registry",
        "tables",
        "--project",
        s(&p),
        "--as-of",
        "2021-12-31",
    ]);
    assert_eq!(before, after);

    // the registry as warehouse tables
    ok(&["build", "--project", s(&p), "--quiet"]);
    assert_eq!(
        query(&p, "SELECT count(*) FROM registry_projects"),
        [["22"]]
    );
    assert_eq!(
        query(
            &p,
            "SELECT count(DISTINCT project_id) FROM registry_interventions \
             WHERE category = 'socio_labour_inclusion'"
        ),
        [["13"]]
    );
    assert_eq!(
        query(
            &p,
            "SELECT count(*) FROM registry_organizations WHERE kind = 'public_body'"
        ),
        [["49"]]
    );

    let network = ok(&[
        "registry",
        "network",
        "--project",
        s(&p),
        "--format",
        "json",
    ]);
    let graph: serde_json::Value = serde_json::from_str(&network).expect("graph json");
    assert_eq!(graph["nodes"].as_array().expect("nodes").len(), 22 + 49);
}

#[test]
fn a_bad_import_names_file_line_and_field_and_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = wecare(tmp.path());
    import_wecare(&p);
    let before = ok(&[
        "registry",
        "export",
        "--project",
        s(&p),
        "--format",
        "csv",
        s(&tmp.path().join("a")),
    ]);
    assert!(before.is_empty(), "export prints nothing on stdout");

    // a registry CSV folder whose organizations file has a bad kind on its third line
    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).expect("mkdir");
    let mut reader = csv::Reader::from_path(tmp.path().join("a/organizations.csv")).expect("orgs");
    let header = reader.headers().expect("header").clone();
    let kind = header
        .iter()
        .position(|c| c == "kind")
        .expect("kind column");
    let mut records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert!(records.len() > 2);
    let mut fields: Vec<String> = records[1].iter().map(String::from).collect();
    fields[kind] = "charity".into();
    records[1] = csv::StringRecord::from(fields);
    let mut w = csv::Writer::from_path(bad.join("organizations.csv")).expect("write");
    w.write_record(&header).expect("header");
    for r in &records {
        w.write_record(r).expect("row");
    }
    w.flush().expect("flush");
    drop(w);
    let out = datalab(&[
        "registry",
        "import",
        "--project",
        s(&p),
        "--format",
        "csv",
        s(&bad),
    ]);
    assert_eq!(out.status.code(), Some(2), "an input error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("organizations.csv:3") && err.contains("kind"),
        "{err}"
    );
    ok(&[
        "registry",
        "export",
        "--project",
        s(&p),
        "--format",
        "csv",
        s(&tmp.path().join("b")),
    ]);
    let a = std::fs::read(tmp.path().join("a/organizations.csv")).expect("a");
    let b = std::fs::read(tmp.path().join("b/organizations.csv")).expect("b");
    assert!(a == b, "organizations unchanged by the failed import");
}

#[test]
fn a_project_without_a_registry_says_how_to_make_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = wecare(tmp.path());
    let out = datalab(&["registry", "tables", "--project", s(&p)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("datalab registry import"), "{err}");
}

/// The synthetic city's registry export, through every registry command: the quality check finds
/// exactly the planted problems, search and overlaps work on it, HSDS export -> import -> export
/// gives the same bytes, and needs vs supply agrees with SQL over the warehouse copy.
#[test]
fn the_synthetic_registry_through_every_command() {
    let tmp = tempfile::tempdir().expect("tmp");
    let lab = crate::support::city(&tmp.path().join("city"), "0.05");
    crate::support::import_city_registry(&lab);

    // the check finds the planted duplicates and stale records of truth/registry.csv
    let truth = std::fs::read_to_string(tmp.path().join("city/truth/registry.csv")).expect("truth");
    let truth = crate::support::csv_rows(&truth);
    let last_year = "2024-12-31";
    let check: serde_json::Value = serde_json::from_str(&ok(&[
        "registry",
        "check",
        "--project",
        s(&lab),
        "--as-of",
        last_year,
        "--format",
        "json",
    ]))
    .expect("json");
    let found = |key: &str| -> std::collections::BTreeSet<(String, String)> {
        rows(&check, key)
            .iter()
            .map(|r| {
                (
                    r[0].as_str().unwrap_or("").to_string(),
                    r[1].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let planted = |report: &str| -> std::collections::BTreeSet<(String, String)> {
        truth
            .iter()
            .skip(1)
            .filter(|r| r[0] == report)
            .map(|r| {
                if report == "duplicates" {
                    (r[2].clone(), r[3].clone())
                } else {
                    (r[1].clone(), r[2].clone())
                }
            })
            .collect()
    };
    assert!(!planted("duplicates").is_empty() && !planted("stale").is_empty());
    assert_eq!(found("duplicates"), planted("duplicates"));
    assert_eq!(found("stale"), planted("stale"));
    let strict = datalab(&[
        "registry",
        "check",
        "--project",
        s(&lab),
        "--as-of",
        last_year,
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(1), "--strict fails on findings");

    // search: home care for the elderly, open on a Monday morning, ranked
    let hits: serde_json::Value = serde_json::from_str(&ok(&[
        "registry",
        "search",
        "--project",
        s(&lab),
        "assistenza domiciliare anziani",
        "--open-at",
        "2024-12-02T10:00:00",
        "--format",
        "json",
    ]))
    .expect("json");
    let hits = hits.as_array().expect("hits");
    assert!(!hits.is_empty());
    let scores: Vec<f64> = hits
        .iter()
        .map(|h| h["score"].as_f64().expect("score"))
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "ranked: {scores:?}"
    );
    assert!(
        hits[0]["name"]
            .as_str()
            .expect("name")
            .to_lowercase()
            .contains("domicil"),
        "{}",
        hits[0]
    );

    // overlaps: groups of two or more providers
    let overlaps: serde_json::Value = serde_json::from_str(&ok(&[
        "registry",
        "overlaps",
        "--project",
        s(&lab),
        "--format",
        "json",
    ]))
    .expect("json");
    let groups = &overlaps.as_array().expect("tables")[0]["rows"];
    assert!(
        groups
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r[3].as_i64().expect("providers") >= 2)
    );

    // HSDS round trips, through the binary and a second project
    for out in ["a.json", "dp"] {
        let first = tmp.path().join(format!("first-{out}"));
        ok(&[
            "registry",
            "export",
            "--project",
            s(&lab),
            "--format",
            "hsds",
            s(&first),
            "--quiet",
        ]);
        let other = tmp.path().join(format!("other-{out}"));
        std::fs::create_dir_all(&other).expect("mkdir");
        std::fs::write(
            other.join("datalab.toml"),
            "format_version = 1\nname = \"other\"\n",
        )
        .expect("write");
        ok(&[
            "registry",
            "import",
            "--project",
            s(&other),
            "--format",
            "hsds",
            s(&first),
            "--quiet",
        ]);
        let second = tmp.path().join(format!("second-{out}"));
        ok(&[
            "registry",
            "export",
            "--project",
            s(&other),
            "--format",
            "hsds",
            s(&second),
            "--quiet",
        ]);
        assert_eq!(
            tree(&first),
            tree(&second),
            "{out}: export -> import -> export changed bytes"
        );
    }

    // needs vs supply, against SQL over the registry tables in the warehouse
    ok(&["build", "--project", s(&lab), "--quiet"]);
    let needs: serde_json::Value = serde_json::from_str(&ok(&[
        "registry",
        "needs",
        "--project",
        s(&lab),
        "--indicator",
        "elderly_80_alone_home_care_need",
        "--risk",
        "non_self_sufficiency",
        "--target",
        "elderly",
        "--format",
        "json",
    ]))
    .expect("json");
    let needs = needs.as_array().expect("zones");
    assert_eq!(needs.len(), 40, "one row per zone");
    let places: f64 = needs
        .iter()
        .map(|z| z["places"].as_f64().expect("places"))
        .sum();
    let sql = query(
        &lab,
        "SELECT sum(c.places) FROM registry_capacities c \
         JOIN registry_service_at_locations x ON x.id = c.service_at_location_id \
         JOIN registry_services s ON s.id = x.service_id \
         JOIN registry_locations l ON l.id = x.location_id \
         WHERE s.status = 'active' AND l.zone IS NOT NULL \
         AND (' ' || replace(s.risks, ',', ' ') || ' ') LIKE '% non_self_sufficiency %' \
         AND (s.target_groups IS NULL OR s.target_groups = '' \
              OR (' ' || replace(s.target_groups, ',', ' ') || ' ') LIKE '% elderly %' \
              OR (' ' || replace(s.target_groups, ',', ' ') || ' ') LIKE '% all %')",
    );
    let expected: f64 = sql[0][0].parse().expect("a number");
    assert!(places > 0.0);
    assert_eq!(places, expected, "places per zone add up to the registry's");
    for z in needs {
        let in_need = z["in_need"].as_f64().expect("in need");
        let gap = z["gap"].as_f64().expect("gap");
        let required = z["required"].as_f64().expect("required");
        assert!((required - 0.2 * in_need).abs() < 1e-9, "{z}");
        assert!((gap - (required - z["places"].as_f64().expect("p")).max(0.0)).abs() < 1e-9);
    }
}

/// Every file under a path (or the file itself) with its bytes.
fn tree(p: &Path) -> Vec<(String, Vec<u8>)> {
    if p.is_file() {
        return vec![(String::new(), std::fs::read(p).expect("read"))];
    }
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(p)
        .expect("read dir")
        .map(|e| {
            let f = e.expect("entry").path();
            (
                f.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read(&f).expect("read"),
            )
        })
        .collect();
    out.sort();
    out
}
