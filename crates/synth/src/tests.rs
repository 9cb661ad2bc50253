//! Whole-run tests: determinism, marginals, tax codes, and the contract between the injected
//! defects, the files and the lab specs (checked with a small reference validator).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::NaiveDate;

use crate::project::{Bound, SourceSpec, Type, source_specs};
use crate::{SynthOptions, generate, taxcode};

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("datalab-synth-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(name: &str, scale: f64, seed: u64) -> PathBuf {
    let dir = out_dir(name);
    let mut opts = SynthOptions::new(&dir);
    opts.scale = scale;
    opts.seed = seed;
    let report = generate(&opts, &mut |_| {}).expect("generation succeeds");
    assert!(report.residents_last_year > 0);
    dir
}

/// One shared small run for the read-only checks.
fn small() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| run("small", 0.02, 11))
}

fn read_csv(path: &Path, delimiter: u8, cp1252: bool) -> Vec<(u64, Vec<String>)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = if cp1252 {
        encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned()
    } else {
        String::from_utf8(bytes).expect("utf-8")
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.expect("well-formed csv");
            (
                r.position().expect("position").line(),
                r.iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect()
}

fn files_of(root: &Path, spec: &SourceSpec) -> Vec<String> {
    let rel = spec
        .files
        .strip_prefix("../")
        .expect("relative to the lab folder");
    if let Some((dir, pattern)) = rel.rsplit_once('/')
        && let Some((pre, post)) = pattern.split_once('*')
    {
        let mut v: Vec<String> = std::fs::read_dir(root.join(dir))
            .expect("source folder")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(pre) && n.ends_with(post))
            .map(|n| format!("{dir}/{n}"))
            .collect();
        v.sort();
        return v;
    }
    vec![rel.to_string()]
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = run("det-a", 0.01, 5);
    let b = run("det-b", 0.01, 5);
    let c = run("det-c", 0.01, 6);
    let mut files = Vec::new();
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    walk(&a, &a, &mut files);
    files.sort();
    assert!(files.len() > 30, "{files:?}");
    let mut differ = 0;
    for f in &files {
        let fa = std::fs::read(a.join(f)).unwrap();
        let fb = std::fs::read(b.join(f))
            .unwrap_or_else(|_| panic!("{} missing in second run", f.display()));
        assert!(fa == fb, "{} differs between identical runs", f.display());
        if std::fs::read(c.join(f)).map(|fc| fc != fa).unwrap_or(true) {
            differ += 1;
        }
    }
    // The territory and the lab project do not depend on the seed; the people do.
    assert!(differ >= 15, "only {differ} files depend on the seed");
    for d in [a, b, c] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn marginals_are_plausible() {
    let dir = run("marginals", 0.1, 3);
    for year in 2019..=2024 {
        let rows = read_csv(
            &dir.join(format!("custodian/anagrafe/anagrafe_{year}.csv")),
            b';',
            false,
        );
        let mut n = 0.0;
        let mut old = 0.0;
        let mut foreign = 0.0;
        let mut households = BTreeSet::new();
        let mut seen = HashSet::new();
        for (_, r) in rows.iter().skip(1) {
            // Skip injected duplicates and rows whose fields were damaged on purpose.
            let Ok(birth) = NaiveDate::parse_from_str(&r[5], "%d/%m/%Y") else {
                continue;
            };
            if !seen.insert(r[0].clone()) || r[11].is_empty() {
                continue;
            }
            n += 1.0;
            let age = crate::population::age_on(birth, crate::out::ymd(year, 12, 31));
            old += (age >= 65) as u8 as f64;
            foreign += (!r[7].is_empty() && r[7] != "ITA") as u8 as f64;
            households.insert(r[11].clone());
        }
        let (s_old, s_foreign, size) = (old / n, foreign / n, n / households.len() as f64);
        assert!((0.22..=0.28).contains(&s_old), "{year}: share 65+ {s_old}");
        assert!(
            (0.12..=0.18).contains(&s_foreign),
            "{year}: share foreign {s_foreign}"
        );
        assert!(
            (2.0..=2.3).contains(&size),
            "{year}: mean household size {size}"
        );
        assert!(
            (15_000.0..=22_000.0).contains(&n),
            "{year}: {n} residents at scale 0.1"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_tax_code_verifies_and_rebuilds() {
    let rows = read_csv(&small().join("truth/persons.csv"), b',', false);
    let header = &rows[0].1;
    let idx = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (cf, level, sur, name, sex, birth, place) = (
        idx("tax_code"),
        idx("omocodia_level"),
        idx("surname"),
        idx("first_name"),
        idx("sex"),
        idx("birth_date"),
        idx("birth_place_code"),
    );
    let mut omocodic = 0;
    let mut codes = HashSet::new();
    for (_, r) in &rows[1..] {
        assert!(taxcode::is_valid(&r[cf]), "{}", r[cf]);
        assert!(codes.insert(r[cf].clone()), "duplicate tax code {}", r[cf]);
        let d = NaiveDate::parse_from_str(&r[birth], "%Y-%m-%d").unwrap();
        use chrono::Datelike;
        let base = taxcode::encode(
            &r[sur],
            &r[name],
            r[sex] == "F",
            d.year(),
            d.month(),
            d.day(),
            &r[place],
        );
        let lvl: usize = r[level].parse().unwrap();
        assert_eq!(taxcode::as_str(&taxcode::omocodia(&base, lvl)), r[cf]);
        assert_eq!(lvl > 0, taxcode::is_omocodic(r[cf].as_bytes()));
        omocodic += (lvl > 0) as usize;
    }
    let share = omocodic as f64 / (rows.len() - 1) as f64;
    assert!((0.001..0.015).contains(&share), "omocodia share {share}");
}

/// Physical line counts of every file named in the defects and links.
#[test]
fn defects_and_links_point_at_existing_records() {
    let root = small();
    let defects = read_csv(&root.join("truth/defects.csv"), b',', false);
    assert!(defects.len() > 100, "too few defects: {}", defects.len());
    let mut kinds = BTreeSet::new();
    let mut lines: BTreeMap<String, u64> = BTreeMap::new();
    let mut count = |file: &str| -> u64 {
        *lines.entry(file.to_string()).or_insert_with(|| {
            let path = root.join(file);
            if file.ends_with(".xlsx") {
                use calamine::Reader;
                let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
                let range = wb.worksheet_range(crate::sources::housing::SHEET).unwrap();
                range.end().map(|(r, _)| r as u64 + 1).unwrap_or(0)
            } else {
                std::fs::read(&path)
                    .unwrap()
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count() as u64
            }
        })
    };
    for (_, d) in &defects[1..] {
        let line: u64 = d[2].parse().unwrap();
        let first = if d[1].ends_with(".jsonl") { 1 } else { 2 };
        assert!(line >= first && line <= count(&d[1]), "{d:?}");
        kinds.insert(d[4].clone());
        assert_eq!(
            d[5] == "true",
            matches!(
                d[4].as_str(),
                "duplicate_row"
                    | "invalid_date"
                    | "out_of_range"
                    | "non_numeric"
                    | "unknown_zone"
                    | "invalid_value"
                    | "missing_required"
            )
        );
    }
    for k in [
        "duplicate_row",
        "invalid_date",
        "unknown_zone",
        "missing_required",
        "name_typo",
        "correction",
        "invalid_tax_code",
    ] {
        assert!(kinds.contains(k), "no {k} defect injected");
    }
    let links = read_csv(&root.join("truth/record_links.csv"), b',', false);
    let persons: HashSet<String> = read_csv(&root.join("truth/persons.csv"), b',', false)
        .into_iter()
        .skip(1)
        .map(|(_, r)| r[0].clone())
        .collect();
    let mut sources = BTreeSet::new();
    for (_, l) in &links[1..] {
        let line: u64 = l[2].parse().unwrap();
        let first = if l[1].ends_with(".jsonl") { 1 } else { 2 };
        assert!(line >= first && line <= count(&l[1]), "{l:?}");
        assert!(persons.contains(&l[4]), "{l:?}");
        sources.insert(l[0].clone());
    }
    assert_eq!(sources.len(), 7, "{sources:?}");
}

// ----- a reference validator for the lab specs ---------------------------------------------

#[derive(Debug)]
enum Raw {
    Null,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

fn excel_date(serial: f64) -> NaiveDate {
    crate::out::ymd(1899, 12, 30) + chrono::Duration::days(serial.floor() as i64)
}

/// Whether one value passes its column's rules.
fn valid(
    spec: &SourceSpec,
    c: &crate::project::ColumnSpec,
    raw: &Raw,
    codes: &HashSet<String>,
) -> bool {
    let text = match raw {
        Raw::Null => return !c.required,
        Raw::Text(s) if spec.null_values.contains(&s.as_str()) => return !c.required,
        Raw::Text(s) => Some(s.clone()),
        _ => None,
    };
    let num = |s: &str| -> Option<f64> {
        let mut t = s.to_string();
        if let Some(th) = spec.thousands {
            t = t.replace(th, "");
        }
        if let Some(d) = spec.decimal {
            t = t.replace(d, ".");
        }
        t.parse::<f64>().ok().filter(|x| x.is_finite())
    };
    let value = match (c.ty, raw, &text) {
        (Type::String, _, Some(s)) => Raw::Text(s.clone()),
        (Type::String, Raw::Number(x), None) => Raw::Text(x.to_string()),
        (Type::Integer, Raw::Number(x), _) if x.fract() == 0.0 => Raw::Number(*x),
        (Type::Integer, _, Some(s)) => match num(s) {
            Some(x) if x.fract() == 0.0 && !s.contains(spec.decimal.unwrap_or("\u{0}")) => {
                Raw::Number(x)
            }
            _ => return false,
        },
        (Type::Float, Raw::Number(x), _) => Raw::Number(*x),
        (Type::Float, _, Some(s)) => match num(s) {
            Some(x) => Raw::Number(x),
            None => return false,
        },
        (Type::Date, Raw::Date(d), _) => Raw::Date(*d),
        (Type::Date, Raw::Number(x), _) => Raw::Date(excel_date(*x)),
        (Type::Date, _, Some(s)) => match spec
            .date_formats
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
        {
            Some(d) => Raw::Date(d),
            None => return false,
        },
        _ => return false,
    };
    let cmp = |b: &Bound| -> std::cmp::Ordering {
        match (&value, b) {
            (Raw::Number(x), Bound::Num(y)) => x.partial_cmp(y).unwrap(),
            (Raw::Date(d), Bound::Date(s)) => {
                d.cmp(&NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
            }
            _ => panic!("bound type mismatch in {}", c.name),
        }
    };
    if c.min.as_ref().is_some_and(|b| cmp(b).is_lt())
        || c.max.as_ref().is_some_and(|b| cmp(b).is_gt())
    {
        return false;
    }
    if let Raw::Text(s) = &value {
        if !c.allowed.is_empty() && !c.allowed.contains(s) {
            return false;
        }
        if c.codelist && !codes.contains(s) {
            return false;
        }
        if let Some(r) = c.regex
            && !regex::Regex::new(r).unwrap().is_match(s)
        {
            return false;
        }
    }
    true
}

/// Rows `(file, line)` a loader following the specs must quarantine.
fn quarantined(
    root: &Path,
    spec: &SourceSpec,
    codes: &HashSet<String>,
) -> (BTreeSet<(String, u64)>, usize) {
    let mut bad = BTreeSet::new();
    let mut total = 0;
    let mut keys: HashSet<Vec<String>> = HashSet::new();
    for file in files_of(root, spec) {
        let mut records: Vec<(u64, BTreeMap<&str, Raw>)> = Vec::new();
        match spec.format {
            "csv" => {
                let rows = read_csv(
                    &root.join(&file),
                    spec.delimiter.unwrap().as_bytes()[0],
                    spec.encoding == "windows-1252",
                );
                let header = &rows[spec.header_row.unwrap() as usize - 1].1;
                for (line, r) in &rows[spec.header_row.unwrap() as usize..] {
                    let mut m = BTreeMap::new();
                    for c in &spec.columns {
                        let i = header
                            .iter()
                            .position(|h| h == c.from)
                            .unwrap_or_else(|| panic!("{} has no {}", file, c.from));
                        m.insert(
                            c.name,
                            r.get(i).map(|s| Raw::Text(s.clone())).unwrap_or(Raw::Null),
                        );
                    }
                    records.push((*line, m));
                }
            }
            "xlsx" => {
                use calamine::{Data, Reader};
                let mut wb: calamine::Xlsx<_> = calamine::open_workbook(root.join(&file)).unwrap();
                let range = wb.worksheet_range(spec.sheet.unwrap()).unwrap();
                let (r0, _) = range.start().unwrap();
                let rows: Vec<(u64, Vec<Data>)> = range
                    .rows()
                    .enumerate()
                    .map(|(k, r)| (r0 as u64 + k as u64 + 1, r.to_vec()))
                    .collect();
                let hrow = spec.header_row.unwrap() as u64;
                let header: Vec<String> = rows
                    .iter()
                    .find(|r| r.0 == hrow)
                    .unwrap()
                    .1
                    .iter()
                    .map(|d| d.to_string())
                    .collect();
                for (line, r) in rows.iter().filter(|r| r.0 > hrow) {
                    let mut m = BTreeMap::new();
                    for c in &spec.columns {
                        let i = header.iter().position(|h| h == c.from).unwrap();
                        let raw = match r.get(i) {
                            None | Some(Data::Empty) => Raw::Null,
                            Some(Data::String(s)) => Raw::Text(s.clone()),
                            Some(Data::Float(f)) => Raw::Number(*f),
                            Some(Data::Int(i)) => Raw::Number(*i as f64),
                            Some(Data::DateTime(d)) => Raw::Date(excel_date(d.as_f64())),
                            Some(other) => Raw::Text(other.to_string()),
                        };
                        m.insert(c.name, raw);
                    }
                    records.push((*line, m));
                }
            }
            "jsonl" => {
                let text = std::fs::read_to_string(root.join(&file)).unwrap();
                for (k, l) in text.lines().enumerate() {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    let mut m = BTreeMap::new();
                    for c in &spec.columns {
                        let raw = match v.get(c.from) {
                            None | Some(serde_json::Value::Null) => Raw::Null,
                            Some(serde_json::Value::Number(n)) => Raw::Number(n.as_f64().unwrap()),
                            Some(serde_json::Value::String(s)) => Raw::Text(s.clone()),
                            Some(other) => Raw::Text(other.to_string()),
                        };
                        m.insert(c.name, raw);
                    }
                    records.push((k as u64 + 1, m));
                }
            }
            f => panic!("unknown format {f}"),
        }
        for (line, m) in records {
            total += 1;
            let ok = spec
                .columns
                .iter()
                .all(|c| valid(spec, c, &m[c.name], codes));
            let key: Vec<String> = spec.unique.iter().map(|u| format!("{:?}", m[u])).collect();
            if !ok || (!spec.unique.is_empty() && !keys.insert(key)) {
                bad.insert((file.clone(), line));
            }
        }
    }
    (bad, total)
}

#[test]
fn specs_quarantine_exactly_the_injected_invalid_rows() {
    let root = small();
    let codes: HashSet<String> = read_csv(&root.join("lab/territories/zones.csv"), b',', false)
        .into_iter()
        .skip(1)
        .map(|(_, r)| r[0].clone())
        .collect();
    assert_eq!(codes.len(), 40);
    let defects = read_csv(&root.join("truth/defects.csv"), b',', false);
    for spec in source_specs(2019, 2024) {
        let expected: BTreeSet<(String, u64)> = defects[1..]
            .iter()
            .filter(|(_, d)| d[0] == spec.name && d[5] == "true")
            .map(|(_, d)| (d[1].clone(), d[2].parse().unwrap()))
            .collect();
        let (got, total) = quarantined(root, &spec, &codes);
        assert!(total > 0, "{} has no rows", spec.name);
        let missing: Vec<_> = expected.difference(&got).collect();
        let extra: Vec<_> = got.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{}: not rejected {missing:?}, wrongly rejected {extra:?}",
            spec.name
        );
        // Invalid rows stay a small share.
        assert!(
            (got.len() as f64) < 0.012 * total as f64 + 2.0,
            "{}: {} of {total} rejected",
            spec.name,
            got.len()
        );
    }
}

#[test]
fn lab_project_is_complete_and_minimal() {
    let root = small();
    let lab = root.join("lab");
    let toml_text = std::fs::read_to_string(lab.join("datalab.toml")).unwrap();
    let v: toml::Value = toml::from_str(&toml_text).unwrap();
    assert_eq!(v["periods"]["first"].as_integer(), Some(2019));
    assert_eq!(v["name"].as_str(), Some("modena-synthetic"));
    let allowed_keys = [
        "format_version",
        "title",
        "holder",
        "files",
        "format",
        "encoding",
        "delimiter",
        "quote",
        "decimal",
        "thousands",
        "header_row",
        "sheet",
        "date_formats",
        "null_values",
        "unique",
        "period",
        "columns",
    ];
    let column_keys = [
        "name",
        "from",
        "type",
        "required",
        "pseudonym",
        "min",
        "max",
        "allowed",
        "codelist",
        "regex",
        "references",
    ];
    let identifiers = [
        "CODICE_FISCALE",
        "COGNOME",
        "NOME",
        "INDIRIZZO",
        "NOTE",
        "cf",
    ];
    for spec in source_specs(2019, 2024) {
        let text =
            std::fs::read_to_string(lab.join(format!("sources/{}.toml", spec.name))).unwrap();
        let t: toml::Table = toml::from_str(&text).unwrap();
        for k in t.keys() {
            assert!(
                allowed_keys.contains(&k.as_str()),
                "{}: unknown key {k}",
                spec.name
            );
        }
        let cols = t["columns"].as_array().unwrap();
        let names: Vec<&str> = cols.iter().map(|c| c["name"].as_str().unwrap()).collect();
        for c in cols {
            for k in c.as_table().unwrap().keys() {
                assert!(
                    column_keys.contains(&k.as_str()),
                    "{}: unknown column key {k}",
                    spec.name
                );
            }
            let from = c["from"].as_str().unwrap();
            assert!(
                !identifiers
                    .iter()
                    .any(|i| from == *i || from.starts_with("CF_")),
                "{} maps {from}",
                spec.name
            );
            assert!(
                c["name"]
                    .as_str()
                    .unwrap()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '_')
            );
        }
        for u in t["unique"].as_array().unwrap() {
            assert!(
                names.contains(&u.as_str().unwrap()),
                "{}: unique {u} is not a column",
                spec.name
            );
        }
        assert!(
            names.contains(&t["period"].as_str().unwrap()),
            "{}: period is not a column",
            spec.name
        );
        // Files exist.
        assert!(!files_of(root, &spec).is_empty());
        for f in files_of(root, &spec) {
            assert!(root.join(&f).exists(), "{f}");
        }
    }
    assert!(lab.join("indicators/README.md").exists() && lab.join("reports/README.md").exists());
}

#[test]
fn exports_have_the_formats_their_holders_use() {
    let root = small();
    let isee = std::fs::read(root.join("custodian/inps/isee_dsu.csv")).unwrap();
    assert!(
        std::str::from_utf8(&isee).is_err() || !isee.iter().any(|&b| b >= 0x80),
        "isee is windows-1252"
    );
    let text = encoding_rs::WINDOWS_1252.decode(&isee).0;
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .split(';')
            .nth(6)
            .unwrap()
            .contains(','),
        "decimal comma"
    );
    let social = std::fs::read(root.join("custodian/sociale/cartella_sociale.csv")).unwrap();
    assert!(social.starts_with(&[0xef, 0xbb, 0xbf]), "byte-order mark");
    let rows = read_csv(
        &root.join("custodian/sociale/cartella_sociale.csv"),
        b',',
        false,
    );
    assert!(
        rows.iter()
            .any(|(_, r)| r.last().is_some_and(|n| n.contains('\n'))),
        "multi-line notes"
    );
    assert!(
        rows.iter()
            .any(|(_, r)| r.last().is_some_and(|n| n.contains('"'))),
        "quotes in notes"
    );
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook(root.join("custodian/casa/domande_erp.xlsx")).unwrap();
    let range = wb.worksheet_range("Domande ERP").unwrap();
    assert_eq!(
        range.get_value((3, 0)).map(|d| d.to_string()),
        Some("NUMERO_DOMANDA".to_string())
    );
    assert!(matches!(
        range.get_value((4, 4)),
        Some(calamine::Data::DateTime(_)) | Some(calamine::Data::String(_))
    ));
}

#[test]
fn unusual_year_ranges_and_tiny_scales_work() {
    for (first, last, scale) in [(2015, 2018, 0.01), (2023, 2023, 0.01), (2019, 2024, 0.0005)] {
        let dir = out_dir(&format!("years-{first}-{last}"));
        let mut opts = SynthOptions::new(&dir);
        opts.scale = scale;
        opts.first_year = first;
        opts.last_year = last;
        let report = generate(&opts, &mut |_| {}).expect("generation succeeds");
        assert!(report.households_last_year > 0);
        let snapshots = report
            .files
            .iter()
            .filter(|f| f.0.to_string_lossy().contains("anagrafe_"))
            .count();
        assert_eq!(snapshots as i32, last - first + 1);
        let _ = std::fs::remove_dir_all(dir);
    }
    let mut bad = SynthOptions::new(out_dir("bad"));
    bad.first_year = 2025;
    let err = generate(&bad, &mut |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid options: first year 2025 is after last year 2024"
    );
}
