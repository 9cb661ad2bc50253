//! `datalab export datapacks` on the synthetic city: one pack per district, every value a
//! released one, the registry's services without anyone's contact details, same bytes twice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::{csv_rows, datalab, ok, released_city, s};

/// The rows of a CSV file as maps from column to cell.
fn records(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows = csv_rows(&text);
    rows[1..]
        .iter()
        .map(|r| rows[0].iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

/// Every file under `dir`, relative path -> bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn district_packs_of_the_synthetic_city_show_only_released_values() {
    let tmp = tempfile::tempdir().unwrap();
    let lab = released_city(&tmp.path().join("city"), "0.05");
    let registry = tmp.path().join("city/registry");
    let out = tmp.path().join("packs");
    let run = datalab(&[
        "export",
        "datapacks",
        "--project",
        s(&lab),
        "--out",
        s(&out),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("4 data packs written") && stderr.contains("registry as of"),
        "{stderr}"
    );

    // the codelist: zone -> district, and the district names
    let codelist = records(&lab.join("territories/zones.csv"));
    let district_of: BTreeMap<&str, &str> = codelist
        .iter()
        .map(|r| (r["zone_code"].as_str(), r["district_code"].as_str()))
        .collect();
    let districts: BTreeSet<&str> = district_of.values().copied().collect();
    let municipality = codelist[0]["municipality_code"].clone();

    // one folder per district, `<code>-<slug>`
    let mut folders: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert_eq!(folders.len(), districts.len(), "{folders:?}");
    for (f, d) in folders.iter().zip(&districts) {
        assert!(f.starts_with(&format!("{d}-")), "{f} for {d}");
        assert!(
            f.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{f}"
        );
    }

    // every released indicator row, by (output, level, territory, period, value, flag)
    let release_dir = lab.join("releases/annual");
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(release_dir.join("release.json")).unwrap()).unwrap();
    let outputs = log["outputs"].as_array().unwrap();
    let mut released: BTreeMap<String, Vec<BTreeMap<String, String>>> = BTreeMap::new();
    for o in outputs.iter().filter(|o| o["kind"] != "microdata") {
        let name = o["name"].as_str().unwrap();
        released.insert(
            name.into(),
            records(&release_dir.join(format!("{name}.csv"))),
        );
    }
    let key = |output: &str, r: &BTreeMap<String, String>| {
        let get = |c: &str| r.get(c).map_or("", String::as_str);
        format!(
            "{output}|{}|{}|{}|{}|{}",
            get("territory_level"),
            get("territory"),
            get("period"),
            get("value"),
            get("flag")
        )
    };
    let released_keys: BTreeSet<String> = released
        .iter()
        .flat_map(|(o, rows)| rows.iter().map(move |r| key(o, r)))
        .collect();

    for (folder, district) in folders.iter().zip(&districts) {
        let pack = out.join(folder);
        let shown = |level: &str, code: &str| match level {
            "municipality" => code == municipality,
            "district" => code == *district,
            "zone" => district_of.get(code) == Some(district),
            _ => false,
        };
        // indicatori.csv: exactly the released indicator rows of these territories
        let rows = records(&pack.join("indicatori.csv"));
        assert!(!rows.is_empty(), "{folder}");
        for r in &rows {
            assert_eq!(r["release"], "annual");
            assert!(
                shown(&r["territory_level"], &r["territory"]),
                "{folder}: {r:?}"
            );
            assert!(
                released_keys.contains(&key(&r["output"], r)),
                "{folder}: a value the release does not hold: {r:?}"
            );
            if r["flag"] == "suppressed" {
                assert_eq!(r["value"], "", "{r:?}");
            }
        }
        let expected: usize = outputs
            .iter()
            .filter(|o| o["kind"] == "indicator")
            .map(|o| {
                released[o["name"].as_str().unwrap()]
                    .iter()
                    .filter(|r| shown(&r["territory_level"], &r["territory"]))
                    .count()
            })
            .sum();
        assert_eq!(rows.len(), expected, "{folder}");

        // released tables: rows as released, for these territories only
        for f in std::fs::read_dir(pack.join("tabelle")).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_stem().unwrap().to_string_lossy().into_owned();
            let output = name.strip_prefix("annual__").unwrap();
            let rows = records(&f);
            let source = &released[output];
            let want = source
                .iter()
                .filter(|r| shown(&r["territory_level"], &r["territory"]))
                .count();
            assert_eq!(rows.len(), want, "{folder}/{name}");
            for r in &rows {
                assert!(source.contains(r), "{folder}/{name}: {r:?} is not released");
            }
        }

        // needs vs supply: the need is the released numerator; a hidden one derives nothing
        let needs = records(&pack.join("bisogni_offerta.csv"));
        assert!(!needs.is_empty(), "{folder}");
        for n in &needs {
            let source = log["outputs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["indicator"] == n["indicator"].as_str())
                .unwrap()["name"]
                .as_str()
                .unwrap();
            let r = released[source]
                .iter()
                .find(|r| r["territory"] == n["territory"] && r["period"] == n["period"])
                .unwrap_or_else(|| panic!("{n:?} not released"));
            assert_eq!(n["flag"], r["flag"]);
            assert_eq!(n["in_need"], r["numerator"], "{n:?}");
            if n["in_need"].is_empty() {
                for c in ["places_per_1000", "coverage", "required", "gap"] {
                    assert_eq!(n[c], "", "{c} of {n:?}");
                }
            } else {
                let need: f64 = n["in_need"].parse().unwrap();
                let places: f64 = n["places"].parse().unwrap();
                let coverage: f64 = n["coverage"].parse().unwrap_or(0.0);
                if need > 0.0 {
                    assert!((coverage - places / need).abs() < 1e-4, "{n:?}");
                }
            }
        }

        let readme = std::fs::read_to_string(pack.join("README.md")).unwrap();
        assert!(readme.contains("### Rilascio `annual`"), "{readme}");
        assert!(readme.contains(log["title"].as_str().unwrap()));
        assert!(
            std::fs::read(pack.join("dati.xlsx"))
                .unwrap()
                .starts_with(b"PK")
        );
        let package: serde_json::Value =
            serde_json::from_slice(&std::fs::read(pack.join("datapackage.json")).unwrap()).unwrap();
        let resources = package["resources"].as_array().unwrap();
        assert!(resources.iter().any(|r| r["path"] == "servizi.csv"));
    }

    // the registry's services, never anyone's contact details
    let services: usize = folders
        .iter()
        .map(|f| records(&out.join(f).join("servizi.csv")).len())
        .sum();
    assert!(services > 0);
    let contacts = records(&registry.join("contacts.csv"));
    let phones = records(&registry.join("phones.csv"));
    let emails = records(&registry.join("organizations.csv"));
    let secrets: BTreeSet<&str> = contacts
        .iter()
        .flat_map(|c| [c["name"].as_str(), c["email"].as_str()])
        .chain(phones.iter().map(|p| p["number"].as_str()))
        .chain(emails.iter().map(|o| o["email"].as_str()))
        .filter(|v| v.len() > 3)
        .collect();
    assert!(!secrets.is_empty());
    let all = files(&out);
    for (path, bytes) in all.iter().filter(|(p, _)| !p.ends_with(".xlsx")) {
        let text = String::from_utf8_lossy(bytes);
        for secret in &secrets {
            assert!(!text.contains(secret), "{path} holds `{secret}`");
        }
    }

    // one district only; and the same inputs give the same bytes
    let again = tmp.path().join("again");
    ok(&[
        "export",
        "datapacks",
        "--quiet",
        "--project",
        s(&lab),
        "--out",
        s(&again),
        "--district",
        districts.first().unwrap(),
    ]);
    let one = files(&again);
    assert!(!one.is_empty());
    for (path, bytes) in &one {
        assert!(
            all.get(path) == Some(bytes),
            "{path} differs between two exports"
        );
    }
    let bad = datalab(&[
        "export",
        "datapacks",
        "--project",
        s(&lab),
        "--out",
        s(&again),
        "--district",
        "Q99",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no district `Q99`"));
    assert!(!files(&again).is_empty(), "the previous export stays");
}
