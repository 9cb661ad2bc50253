//! The custodian's side and the line between it and the lab: keys, pseudonymization, the
//! identifier guard, scans, re-identification for outreach, and linkage against the truth.

use crate::support::{city, datalab, datalab_with, ok, ok_with, project, query, s};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

const DEMO_PASSPHRASE: &str = "synthetic city demo passphrase";
const PASS: &str = "correct horse battery staple";

fn pass() -> [(&'static str, &'static str); 1] {
    [("DATALAB_KEY_PASSPHRASE", PASS)]
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn the_demo_leaves_identifiers_and_keys_at_the_custodian() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("demo");
    ok(&[
        "demo",
        "--no-serve",
        "--dir",
        s(&dir),
        "--scale",
        "0.02",
        "--quiet",
    ]);

    // The custodian holds the raw sources, the keys and the lookup tables.
    assert!(dir.join("custodian/city.key").is_file());
    assert!(dir.join("custodian/lavoro/agency.key").is_file());
    for source in ["register", "isee", "social_cases", "gol"] {
        assert!(
            dir.join(format!("custodian/lookup/{source}.csv")).is_file(),
            "lookup of {source}"
        );
    }
    // The lab holds pseudonymized data only: no key, no lookup, nothing the scanner flags,
    // in every file including the warehouse.
    let mut lab_files = Vec::new();
    files_under(&dir.join("lab"), &mut lab_files);
    assert!(
        lab_files
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "parquet"))
    );
    for p in &lab_files {
        let name = p.file_name().expect("name").to_string_lossy().to_string();
        assert!(
            !name.ends_with(".key") && !name.ends_with(".identity") && !name.ends_with(".share"),
            "key material in the lab: {}",
            p.display()
        );
        let head = std::fs::read(p).expect("read");
        assert!(
            !head.starts_with(b"{\"format\":\"datalab-key")
                && !head.starts_with(b"pseudonym,kind,key_version"),
            "a key or a lookup table in the lab: {}",
            p.display()
        );
    }
    let out = datalab(&["scan", s(&dir.join("lab")), "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("scan json");
    assert_eq!(
        out.status.code(),
        Some(0),
        "the lab folder holds identifiers: {report}"
    );
    assert!(report["findings"].as_array().expect("findings").is_empty());
    assert!(report["files"].as_u64().expect("files") > 20, "{report}");

    // Generalized on the way: addresses became postcodes through the street table, birth
    // dates months.
    let lab = dir.join("lab");
    let pc = query(
        &lab,
        "SELECT COUNT(*), COUNT(postcode), MIN(postcode), MAX(postcode), MIN(CAST(date_part('day', birth_month) AS BIGINT)), MAX(CAST(date_part('day', birth_month) AS BIGINT)) FROM register",
    );
    assert_eq!(pc[0][0], pc[0][1], "every address has a postcode: {pc:?}");
    assert!(
        pc[0][2].as_str() >= "41121" && pc[0][3].as_str() <= "41126",
        "{pc:?}"
    );
    assert_eq!((pc[0][4].as_str(), pc[0][5].as_str()), ("1", "1"), "{pc:?}");

    // No tax code of the lookups appears in any text file of the lab.
    let lookup = std::fs::read_to_string(dir.join("custodian/lookup/isee.csv")).expect("lookup");
    let codes: Vec<&str> = lookup
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(3))
        .take(300)
        .collect();
    assert!(codes.len() > 100);
    for p in lab_files.iter().filter(|p| {
        p.extension()
            .is_some_and(|e| e == "toml" || e == "csv" || e == "json" || e == "geojson")
    }) {
        let text = std::fs::read_to_string(p).expect("text");
        assert!(
            !codes.iter().any(|c| text.contains(c)),
            "a tax code in {}",
            p.display()
        );
    }

    // The scanner does find them on the custodian's side: exit code 1, findings per column.
    let out = datalab(&[
        "scan",
        s(&dir.join("custodian/anagrafe")),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("scan json");
    let found: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            assert!(f["file"].as_str().is_some() && f["count"].as_u64().is_some());
            (
                f["column"].as_str().expect("column").to_string(),
                f["kind"].as_str().expect("kind").to_string(),
            )
        })
        .collect();
    for want in [
        ("CODICE_FISCALE", "tax_code"),
        ("COGNOME", "name"),
        ("NOME", "name"),
        ("INDIRIZZO", "address"),
    ] {
        assert!(
            found.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} not in {found:?}"
        );
    }
    // Over the whole custodian folder: every raw microdata file, whatever its format, is
    // flagged; the partners' aggregated tables are not.
    let out = datalab(&["scan", s(&dir.join("custodian")), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("scan json");
    let flagged: BTreeSet<String> = all["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            Path::new(f["file"].as_str().expect("file"))
                .file_name()
                .expect("name")
                .to_string_lossy()
                .to_string()
        })
        .collect();
    for raw in [
        "isee_dsu.csv",
        "cartella_sociale.csv",
        "domande_erp.xlsx",
        "reddito_minimo.csv",
        "gol_misure.jsonl",
        "anagrafe_2019.csv",
    ] {
        assert!(flagged.contains(raw), "{raw} not flagged: {flagged:?}");
    }
    for aggregate in [
        "passi_prevalenze.csv",
        "infortuni.csv",
        "offerta_servizi.csv",
        "stradario.csv",
    ] {
        assert!(!flagged.contains(aggregate), "{aggregate} flagged: {all}");
    }

    // Examples are masked: no full tax code in the report.
    let text = String::from_utf8_lossy(&out.stdout);
    let raw =
        std::fs::read_to_string(dir.join("custodian/anagrafe/anagrafe_2024.csv")).expect("raw");
    let first_code = raw
        .lines()
        .nth(1)
        .and_then(|l| l.split(';').nth(1))
        .expect("a code");
    assert!(!text.contains(first_code));
}

#[test]
fn an_outreach_list_comes_back_as_people_only_at_the_custodian() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lab = city(tmp.path(), "0.02");
    ok(&["build", "--project", s(&lab), "--quiet"]);
    let list = tmp.path().join("outreach-list.csv");
    // Lab side: households receiving no minimum income although their ISEE is very low.
    let sql = "SELECT DISTINCT i.person_pid FROM isee i WHERE i.isee < 3000
               AND i.person_pid NOT IN (SELECT person_pid FROM min_income) LIMIT 25";
    let no_purpose = datalab(&[
        "outreach",
        "--project",
        s(&lab),
        "--purpose",
        "",
        "--requested-by",
        "x",
        "--sql",
        sql,
        "--out",
        s(&list),
    ]);
    assert_eq!(no_purpose.status.code(), Some(2));
    ok(&[
        "outreach",
        "--project",
        s(&lab),
        "--quiet",
        "--purpose",
        "Informare le famiglie con ISEE molto basso sull'Assegno di inclusione",
        "--requested-by",
        "Ufficio di piano",
        "--sql",
        sql,
        "--out",
        s(&list),
    ]);
    let listed: Vec<String> = std::fs::read_to_string(&list)
        .expect("list")
        .lines()
        .filter(|l| l.starts_with("p1."))
        .map(str::to_string)
        .collect();
    assert!(!listed.is_empty());

    // Custodian side.
    let key = tmp.path().join("custodian/city.key");
    let out = tmp.path().join("custodian/outreach.csv");
    let env = [("DATALAB_KEY_PASSPHRASE", DEMO_PASSPHRASE)];
    ok_with(
        &[
            "reidentify",
            "--quiet",
            "--key",
            s(&key),
            "--lookup",
            s(&tmp.path().join("custodian/lookup")),
            "--in",
            s(&list),
            "--out",
            s(&out),
        ],
        &env,
    );
    let mut r = csv::Reader::from_path(&out).expect("outreach");
    let people: Vec<(String, String)> = r
        .records()
        .map(|x| {
            let x = x.expect("row");
            (x[0].to_string(), x[2].to_string())
        })
        .collect();
    assert_eq!(people.len(), listed.len());
    // Every person is a declarant of the ISEE file, with a very low ISEE.
    let raw = std::fs::read(tmp.path().join("custodian/inps/isee_dsu.csv")).expect("isee raw");
    let (raw, _, _) = encoding_rs::WINDOWS_1252.decode(&raw);
    for (_, code) in &people {
        assert_eq!(code.len(), 16, "{code}");
        assert!(
            raw.contains(code.as_str()),
            "{code} is not an ISEE declarant"
        );
    }
    // The run is audited.
    let audit = std::fs::read_to_string(tmp.path().join("custodian/reidentify-audit.jsonl"))
        .expect("audit");
    assert!(
        audit.contains("Assegno di inclusione") && audit.contains("\"found\":"),
        "{audit}"
    );

    // A list without a declared purpose is refused (exit code 2), and a wrong passphrase too.
    let bare = tmp.path().join("bare.csv");
    std::fs::write(&bare, format!("pseudonym\n{}\n", listed[0])).expect("bare");
    let reidentify = |list: &Path, passphrase: &str| {
        datalab_with(
            &[
                "reidentify",
                "--key",
                s(&key),
                "--lookup",
                s(&tmp.path().join("custodian/lookup")),
                "--in",
                s(list),
                "--out",
                s(&tmp.path().join("x.csv")),
            ],
            &[("DATALAB_KEY_PASSPHRASE", passphrase)],
        )
    };
    let refused = reidentify(&bare, DEMO_PASSPHRASE);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("purpose"));
    let wrong = reidentify(&list, "not the passphrase at all");
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase"));
    // A key copied into the lab folder is refused: re-identification happens only outside it.
    let copied = lab.join("city.key");
    std::fs::copy(&key, &copied).expect("copy key");
    let inside = datalab_with(
        &[
            "reidentify",
            "--key",
            s(&copied),
            "--lookup",
            s(&tmp.path().join("custodian/lookup")),
            "--in",
            s(&list),
            "--out",
            s(&tmp.path().join("y.csv")),
        ],
        &env,
    );
    assert_eq!(inside.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&inside.stderr).contains("inside the lab project"));
    assert!(!tmp.path().join("y.csv").exists());
}

const RAW: &str = "ID;CF;COGNOME;NOME;NASCITA;SESSO;IMPORTO\n\
1;RSSMRA85T10A562S;Rossi;Mario;10/12/1985;M;100,50\n\
2;rssmra85t10a562s;ROSSI;MARIO;10/12/1985;M;80\n\
3;BNCNNA90B41F257X;Bianchi;Anna;01/02/1990;F;12\n\
4;;D'Angelo;Anna;01/02/1990;F;7\n";

const SPEC: &str = "format_version = 1
source = \"payments\"
format = \"csv\"
delimiter = \";\"
date_formats = [\"%d/%m/%Y\"]
reference_year = 2024

[[columns]]
from = \"CF\"
action = \"pseudonym\"
kind = \"tax_code\"
name = \"person_pid\"
derive = [\"birth_year\", \"sex\"]
fallback = [\"COGNOME\", \"NOME\", \"NASCITA\", \"SESSO\"]

[[columns]]
from = \"IMPORTO\"
action = \"keep\"
name = \"amount\"

[[columns]]
from = \"COGNOME\"
action = \"drop\"
";

fn pids(parquet: &Path) -> Vec<Option<String>> {
    use arrow::array::{Array, AsArray};
    let f = std::fs::File::open(parquet).expect("parquet");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .expect("reader")
        .build()
        .expect("build");
    let mut out = Vec::new();
    for b in reader {
        let b = b.expect("batch");
        let c = b.column_by_name("person_pid").expect("person_pid");
        let c = c.as_string::<i32>();
        for i in 0..c.len() {
            out.push((!c.is_null(i)).then(|| c.value(i).to_string()));
        }
    }
    out
}

/// Runs `datalab pseudonymize` over `d/raw.csv` with `d/spec.toml` and key `d/KEY.key`, writing
/// `d/OUT.parquet` and `d/OUT.csv` (the lookup); returns stdout (the JSON accounting).
fn pseudonymize_raw(d: &Path, key: &str, out: &str) -> String {
    ok_with(
        &[
            "pseudonymize",
            "--format",
            "json",
            "--key",
            s(&d.join(format!("{key}.key"))),
            "--spec",
            s(&d.join("spec.toml")),
            s(&d.join("raw.csv")),
            "--out",
            s(&d.join(format!("{out}.parquet"))),
            "--lookup",
            s(&d.join(format!("{out}.csv"))),
        ],
        &pass(),
    )
}

#[test]
fn a_partner_pseudonymizes_with_a_sealed_share_and_links_with_the_city() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    std::fs::write(d.join("raw.csv"), RAW).expect("raw");
    std::fs::write(d.join("spec.toml"), SPEC).expect("spec");
    let env = pass();
    ok_with(
        &[
            "key",
            "new",
            "-q",
            "--lab",
            "test-lab",
            "--out",
            s(&d.join("city.key")),
        ],
        &env,
    );
    // Refuses to overwrite a key.
    let again = datalab_with(
        &["key", "new", "--lab", "x", "--out", s(&d.join("city.key"))],
        &env,
    );
    assert_eq!(again.status.code(), Some(2));
    ok_with(
        &[
            "key",
            "keypair",
            "-q",
            "--name",
            "agency",
            "--out",
            s(&d.join("agency")),
        ],
        &env,
    );
    ok_with(
        &[
            "key",
            "keypair",
            "-q",
            "--name",
            "other",
            "--out",
            s(&d.join("other")),
        ],
        &env,
    );
    ok_with(
        &[
            "key",
            "share",
            "-q",
            "--key",
            s(&d.join("city.key")),
            "--to",
            s(&d.join("agency.pub")),
            "--out",
            s(&d.join("share")),
        ],
        &env,
    );
    let share = std::fs::read_to_string(d.join("share")).expect("share");
    assert!(share.contains("datalab-key-share"));
    ok_with(
        &[
            "key",
            "accept",
            "-q",
            "--share",
            s(&d.join("share")),
            "--identity",
            s(&d.join("agency.identity")),
            "--out",
            s(&d.join("agency.key")),
        ],
        &env,
    );
    let stolen = datalab_with(
        &[
            "key",
            "accept",
            "--share",
            s(&d.join("share")),
            "--identity",
            s(&d.join("other.identity")),
            "--out",
            s(&d.join("other.key")),
        ],
        &env,
    );
    assert!(
        !stolen.status.success(),
        "another identity opened the share"
    );

    let mut results = Vec::new();
    for who in ["city", "agency"] {
        let stdout = pseudonymize_raw(d, who, &format!("{who}-lookup"));
        let out = d.join(format!("{who}-lookup.parquet"));
        let acc: serde_json::Value = serde_json::from_str(&stdout).expect("accounting");
        assert_eq!(acc["rows_in"], 4);
        // The code with an invalid check character is quarantined at the custodian.
        assert_eq!(acc["rows_quarantined"], 1, "{acc}");
        assert_eq!(acc["rows_pseudonymized"], 3);
        assert_eq!(acc["weak"]["person_pid"], 1);
        assert_eq!(acc["unread_columns"], serde_json::json!(["ID"]), "{acc}");
        results.push(pids(&out));
    }
    assert_eq!(
        results[0], results[1],
        "the partner's pseudonyms equal the city's"
    );
    let p = &results[0];
    assert_eq!(
        p[0], p[1],
        "normalization: case and spacing do not change the pseudonym"
    );
    assert!(p[0].as_deref().is_some_and(|x| x.starts_with("p1.")));
    assert!(p[2].as_deref().is_some_and(|x| x.starts_with("w1.")));
    let q = std::fs::read_to_string(d.join("city-lookup.quarantine.csv")).expect("quarantine");
    assert!(q.contains("raw.csv,4,CF,tax_code,"), "{q}");

    // Another lab's key gives other pseudonyms.
    ok_with(
        &[
            "key",
            "new",
            "-q",
            "--lab",
            "another-lab",
            "--out",
            s(&d.join("b.key")),
        ],
        &env,
    );
    pseudonymize_raw(d, "b", "b");
    let other = pids(&d.join("b.parquet"));
    assert!(other.iter().zip(p).all(|(a, b)| a != b));

    // Rotation: new pseudonyms carry version 2.
    ok_with(
        &["key", "rotate", "-q", "--key", s(&d.join("city.key"))],
        &env,
    );
    pseudonymize_raw(d, "city", "v2");
    let v2 = pids(&d.join("v2.parquet"));
    assert!(v2[0].as_deref().is_some_and(|x| x.starts_with("p2.")));
}

#[test]
fn pseudonymize_refuses_an_output_that_would_still_identify() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    std::fs::write(d.join("raw.csv"), RAW).expect("raw");
    std::fs::write(
        d.join("spec.toml"),
        SPEC.replace(
            "from = \"COGNOME\"\naction = \"drop\"",
            "from = \"NOME\"\naction = \"keep\"\nname = \"nome\"",
        ),
    )
    .expect("spec");
    let env = pass();
    ok_with(
        &[
            "key",
            "new",
            "-q",
            "--lab",
            "l",
            "--out",
            s(&d.join("k.key")),
        ],
        &env,
    );
    let out = datalab_with(
        &[
            "pseudonymize",
            "--key",
            s(&d.join("k.key")),
            "--spec",
            s(&d.join("spec.toml")),
            s(&d.join("raw.csv")),
            "--out",
            s(&d.join("o.parquet")),
            "--lookup",
            s(&d.join("l.csv")),
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`nome` (name"), "{err}");
    assert!(!d.join("o.parquet").exists(), "the output was deleted");
}

#[test]
fn the_build_refuses_files_that_hold_direct_identifiers() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // A raw file reached the lab: the spec maps no identifier, but the file holds them.
    let spec = "format_version = 1\nfiles = [\"raw.csv\"]\nformat = \"csv\"\ndelimiter = \";\"\n\
        [[columns]]\nname = \"amount\"\nfrom = \"IMPORTO\"\ntype = \"string\"\n";
    project(dir, &[("payments", spec)], &[("raw.csv", RAW.as_bytes())]);
    let out = datalab(&["build", "--project", s(dir)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("raw.csv"), "{err}");
    assert!(err.contains("refused by the identifier guard"), "{err}");
    assert!(err.contains("`CF` (") && err.contains("tax_code"), "{err}");
    assert!(
        !err.contains("RSSMRA85T10A562S"),
        "examples are masked: {err}"
    );
    assert!(
        query(
            dir,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'payments'"
        )[0][0]
            == "0",
        "nothing was loaded"
    );

    // Declaring the tax-code column a pseudonym does not let it through.
    let spec = "format_version = 1\nfiles = [\"raw2.csv\"]\nformat = \"csv\"\ndelimiter = \";\"\n\
        [[columns]]\nname = \"person_pid\"\nfrom = \"CF\"\ntype = \"string\"\npseudonym = true\n";
    std::fs::write(dir.join("raw2.csv"), "CF;IMPORTO\nRSSMRA85T10A562S;1\n").expect("raw2");
    std::fs::write(dir.join("sources/payments.toml"), spec).expect("spec");
    let out = datalab(&["build", "--project", s(dir)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`CF` (") && err.contains("not_a_pseudonym"),
        "{err}"
    );
}

/// Precision and recall of the person links against the synthetic city's truth.
#[test]
fn person_links_match_the_truth() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lab = city(tmp.path(), "0.05");
    ok(&["build", "--project", s(&lab), "--quiet"]);
    let stem = |p: &str| {
        Path::new(p)
            .file_stem()
            .map(|x| x.to_string_lossy().to_string())
            .unwrap_or_default()
    };
    // Truth: (source, file stem, line) -> person.
    let mut truth: HashMap<(String, String, u64), String> = HashMap::new();
    let mut r = csv::Reader::from_path(tmp.path().join("truth/record_links.csv")).expect("truth");
    for x in r.records() {
        let x = x.expect("row");
        truth.insert(
            (x[0].to_string(), stem(&x[1]), x[2].parse().expect("line")),
            x[4].to_string(),
        );
    }
    let rows = query(
        &lab,
        "SELECT source, file, line, person, in_spine, weak FROM link_records",
    );
    // Who each linked person is: the true person of its register records.
    let mut who: HashMap<String, BTreeMap<String, u64>> = HashMap::new();
    for x in rows.iter().filter(|x| x[0] == "register") {
        let t = &truth[&(x[0].clone(), stem(&x[1]), x[2].parse().expect("line"))];
        *who.entry(x[3].clone())
            .or_default()
            .entry(t.clone())
            .or_default() += 1;
    }
    let identity: HashMap<&String, &String> = who
        .iter()
        .map(|(p, m)| {
            (
                p,
                m.iter()
                    .max_by_key(|(_, n)| **n)
                    .map(|(t, _)| t)
                    .expect("one"),
            )
        })
        .collect();
    let residents: BTreeSet<&String> = identity.values().copied().collect();
    let (mut linked, mut correct, mut linkable, mut weak_linked, mut weak_correct) =
        (0, 0, 0, 0, 0);
    for x in rows.iter().filter(|x| x[0] != "register") {
        let t = &truth[&(x[0].clone(), stem(&x[1]), x[2].parse().expect("line"))];
        if residents.contains(t) {
            linkable += 1;
        }
        if x[4] == "true" {
            linked += 1;
            let ok = identity.get(&x[3]).is_some_and(|p| *p == t);
            correct += ok as u64;
            if x[5] == "true" {
                weak_linked += 1;
                weak_correct += ok as u64;
            }
        }
    }
    let precision = correct as f64 / linked as f64;
    let recall = correct as f64 / linkable as f64;
    eprintln!(
        "linkage vs truth: {linked} records linked to a resident, precision {precision:.5}, recall {recall:.5} ({linkable} linkable); weak links {weak_linked}, of which correct {weak_correct}"
    );
    assert!(linked > 5_000, "{linked}");
    assert!(precision >= 0.999, "precision {precision}");
    assert!(recall >= 0.98, "recall {recall}");
    assert!(weak_linked > 0 && weak_correct as f64 >= 0.95 * weak_linked as f64);
    // The quality report is there and says the same.
    let q = query(
        &lab,
        "SELECT SUM(count), SUM(records) FROM link_quality WHERE metric = 'linked_to_spine' AND source <> 'register'",
    );
    assert_eq!(q[0][0].parse::<u64>().expect("count"), linked);
}

/// A pseudonym-shaped value: `p1.` (or `w1.`) and 26 base32 characters made of `tag`.
fn pn(weak: bool, tag: char) -> String {
    format!(
        "{}1.{}a",
        if weak { 'w' } else { 'p' },
        tag.to_string().repeat(25)
    )
}

/// Linkage on a hand-made lab: every figure of the quality report computed by hand.
#[test]
fn link_tables_and_quality_on_a_hand_computed_case() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (a, b, c, d, x) = (
        pn(false, 'b'),
        pn(false, 'c'),
        pn(false, 'd'),
        pn(false, 'e'),
        pn(false, 'f'),
    );
    let (ra, rb, rc, rd) = (
        pn(false, 'g'),
        pn(false, 'h'),
        pn(false, 'i'),
        pn(false, 'j'),
    );
    let (wa, wb, shared, wunknown) = (pn(true, 'k'), pn(true, 'l'), pn(true, 'm'), pn(true, 'n'));
    let (h1, h2, h3) = (pn(false, 'o'), pn(false, 'p'), pn(false, 'q'));
    // The spine: A in 2023 and 2024, B, C and D in 2024; C and D share a weak pseudonym
    // (namesakes born the same day).
    let register = format!(
        "person_pid,register_pid,person_wpid,household_pid,sex,birth_year,ref_date\n\
         {a},{ra},{wa},{h1},M,1980,2023-12-31\n\
         {a},{ra},{wa},{h1},M,1980,2024-12-31\n\
         {b},{rb},{wb},{h1},F,1985,2024-12-31\n\
         {c},{rc},{shared},{h2},F,1990,2024-12-31\n\
         {d},{rd},{shared},{h3},M,1990,2024-12-31\n"
    );
    // ISEE 2024: A with the wrong sex; B twice (once by tax code, once weak); an ambiguous
    // weak pseudonym; X, not a resident, twice; an unknown weak pseudonym.
    let isee = format!(
        "protocol,person_pid,sex,submission_date\n\
         1,{a},F,2024-03-01\n\
         2,{b},F,2024-03-02\n\
         3,{wb},,2024-03-03\n\
         4,{shared},,2024-03-04\n\
         5,{x},M,2024-03-05\n\
         6,{x},M,2024-06-05\n\
         7,{wunknown},,2024-03-07\n"
    );
    let pid = |name: &str| {
        format!("[[columns]]\nname = \"{name}\"\ntype = \"string\"\npseudonym = true\n\n")
    };
    let register_spec = format!(
        "format_version = 1\nfiles = [\"register.csv\"]\nformat = \"csv\"\nperiod = \"ref_date\"\n\n{}{}{}{}[[columns]]\nname = \"sex\"\ntype = \"string\"\n\n[[columns]]\nname = \"birth_year\"\ntype = \"integer\"\n\n[[columns]]\nname = \"ref_date\"\ntype = \"date\"\n",
        pid("person_pid"),
        pid("register_pid"),
        pid("person_wpid"),
        pid("household_pid")
    );
    let isee_spec = format!(
        "format_version = 1\nfiles = [\"isee.csv\"]\nformat = \"csv\"\nperiod = \"submission_date\"\n\n[[columns]]\nname = \"protocol\"\ntype = \"integer\"\n\n{}[[columns]]\nname = \"sex\"\ntype = \"string\"\n\n[[columns]]\nname = \"submission_date\"\ntype = \"date\"\n",
        pid("person_pid")
    );
    project(
        dir,
        &[("register", &register_spec), ("isee", &isee_spec)],
        &[
            ("register.csv", register.as_bytes()),
            ("isee.csv", isee.as_bytes()),
        ],
    );
    std::fs::write(
        dir.join("datalab.toml"),
        "format_version = 1\nname = \"t\"\n\n[linkage]\nspine = \"register\"\nperson_keys = [\"person_pid\", \"register_pid\", \"person_wpid\"]\nhousehold_key = \"household_pid\"\n",
    )
    .expect("datalab.toml");
    ok(&["build", "--project", s(dir), "--quiet"]);

    let records = query(
        dir,
        "SELECT line, person, method, weak, in_spine FROM link_records WHERE source = 'isee' ORDER BY line",
    );
    let expect = [
        [a.as_str(), "person_pid", "false", "true"],
        [b.as_str(), "person_pid", "false", "true"],
        [b.as_str(), "weak:person_pid", "true", "true"],
        ["", "ambiguous", "false", "false"],
        [x.as_str(), "person_pid", "false", "false"],
        [x.as_str(), "person_pid", "false", "false"],
        [wunknown.as_str(), "weak:person_pid", "true", "false"],
    ];
    assert_eq!(records.len(), expect.len(), "{records:?}");
    for (got, want) in records.iter().zip(expect) {
        assert_eq!(&got[1..], &want, "line {}", got[0]);
    }
    // Every register row belongs to the person named by its tax-code pseudonym.
    let spine = query(
        dir,
        "SELECT COUNT(*), COUNT(DISTINCT person) FROM link_records WHERE source = 'register' AND method = 'person_pid'",
    );
    assert_eq!(spine, [["5", "4"]]);
    let households = query(
        dir,
        "SELECT year, person, household FROM link_households ORDER BY year, person",
    );
    let mut want: Vec<[String; 3]> = vec![
        ["2023".into(), a.clone(), h1.clone()],
        ["2024".into(), a.clone(), h1.clone()],
        ["2024".into(), b.clone(), h1.clone()],
        ["2024".into(), c.clone(), h2.clone()],
        ["2024".into(), d.clone(), h3.clone()],
    ];
    want.sort();
    assert_eq!(
        households,
        want.iter().map(|r| r.to_vec()).collect::<Vec<_>>()
    );

    let q = |metric: &str, source: &str| {
        query(
            dir,
            &format!(
                "SELECT records, count FROM link_quality WHERE metric = '{metric}' AND source = '{source}' AND (year = 2024 OR year IS NULL) AND other_source IS DISTINCT FROM 'isee'"
            ),
        )
    };
    assert_eq!(q("linked_to_spine", "isee"), [["7", "3"]]);
    assert_eq!(q("weak_links", "isee"), [["7", "1"]]);
    assert_eq!(q("ambiguous", "isee"), [["7", "1"]]);
    assert_eq!(q("outside_spine", "isee"), [["7", "3"]]);
    assert_eq!(q("no_key", "isee"), [["7", "0"]]);
    assert_eq!(q("weak_pseudonyms", "isee"), [["7", "3"]]);
    // A and B have a sex in both; A's differs.
    assert_eq!(q("conflicting_sex", "isee"), [["2", "1"]]);
    // Persons in ISEE 2024: A, B, X and the unknown weak one; B and X have two records each.
    assert_eq!(q("persons_with_several_records", "isee"), [["4", "2"]]);
    // Of those four, A and B are residents in 2024.
    assert_eq!(q("overlap", "isee"), [["4", "2"]]);
    // The register 2024: 4 persons, each once.
    assert_eq!(q("persons_with_several_records", "register"), [["4", "0"]]);
}
